"""Types of the C extension ``soundy.analysis._kernels`` (see ``_kernels.c`` for the contract)."""

from __future__ import annotations

import numpy as np

def kweight_energies(
    frames: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    zi: np.ndarray,
    partial: np.ndarray,
    partial_frames: int,
    fine_frames: int,
    fines: np.ndarray,
    weighted: np.ndarray | None,
) -> tuple[int, int]: ...
def kweight_energies_stereo(
    frames: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    zi: np.ndarray,
    partial: np.ndarray,
    partial_frames: int,
    fine_frames: int,
    fines: np.ndarray,
    stereo_hop: int,
    stereo_partial: np.ndarray,
    stereo_partial_frames: int,
    stereo_out: np.ndarray,
) -> tuple[int, int, int, int]: ...
def segment_scan(
    samples: np.ndarray, nseg: int, seg: int, max_out: np.ndarray, d2_out: np.ndarray | None
) -> bool: ...
def interpolated_peaks(
    samples: np.ndarray,
    chan: np.ndarray,
    starts: np.ndarray,
    seg: int,
    taps: np.ndarray,
    limit: int,
    out: np.ndarray,
) -> None: ...
def stereo_sums(
    frames: np.ndarray,
    weighted: np.ndarray | None,
    hop_frames: int,
    partial: np.ndarray,
    partial_frames: int,
    out: np.ndarray,
) -> tuple[int, int]: ...
def power_spectrum(spectrum: np.ndarray, power: np.ndarray, accumulate: bool) -> None: ...
def pcm_to_float(raw: bytes | bytearray | memoryview, width: int, out: np.ndarray) -> None: ...
def mix_decimate(
    frames: np.ndarray, factor: int, carry: np.ndarray, carry_frames: int, out: np.ndarray
) -> tuple[int, int]: ...
def limiter_release(
    frames: np.ndarray,
    gain: float,
    threshold: float,
    threshold_db: float,
    release: float,
    state: np.ndarray,
    gained: np.ndarray,
    rel: np.ndarray,
) -> None: ...
def limiter_apply(
    gained: np.ndarray,
    rel: np.ndarray,
    ready: int,
    attack: float,
    per_db: float,
    active_db: float,
    hist_scale: float,
    hist: np.ndarray,
) -> tuple[int, float]: ...
def true_peak_max(
    frames: np.ndarray,
    first: int,
    stop: int,
    seg: int,
    taps: np.ndarray,
    kappa: float,
    c_norm: float,
    slack: float,
    best: np.ndarray,
) -> bool: ...
def exp_nonpositive(y: np.ndarray) -> None: ...
