"""The one check every meter applies to the blocks it is given."""

from __future__ import annotations

import numpy as np

__all__ = ["as_frames"]


def as_frames(frames: np.ndarray, channels: int) -> np.ndarray:
    """``frames`` as a 2-D view of shape (n, channels), float, full scale 1.0.

    A 1-D array is accepted for one channel. Raises ``ValueError`` for any other shape and for
    integer samples (a caller bug, not bad input: decoders always give floats).
    """
    block = np.asarray(frames)
    if block.ndim == 1 and channels == 1:
        block = block[:, None]
    if block.ndim != 2 or block.shape[1] != channels:
        raise ValueError(f"frames must have shape (n, {channels}), got {block.shape}")
    if block.dtype.kind != "f":
        raise ValueError(f"frames must be floating point (full scale 1.0), not {block.dtype}")
    return block
