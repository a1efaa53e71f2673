"""Channel weights G_i of ITU-R BS.1770-4/5 Annex 1 for common layouts and WAVE channel masks.

BS.1770-4 Annex 1, eq. (2) and Table 3 (position-dependent weights): a loudspeaker at
elevation below 30 degrees and azimuth between 60 and 120 degrees (the surrounds of 5.0/5.1,
the side surrounds of 7.1) weighs 1.41 (+1.5 dB); every other full-range channel weighs 1.0;
the LFE channel is excluded (weight 0).

Layouts and their channel order (the WAVE / SMPTE order ffmpeg, FLAC and WAVE_FORMAT_EXTENSIBLE
use when the file gives no mask):

=========  ==============================  =============================
layout     order                           weights
=========  ==============================  =============================
mono       C                               1.0
dual_mono  C (played on two speakers)      2.0 (+3.01 dB, libebur128's DUAL_MONO)
stereo     L R                             1.0 1.0
3.0        L R C                           1.0 1.0 1.0
quad       L R Ls Rs                       1.0 1.0 1.41 1.41
5.0        L R C Ls Rs                     1.0 1.0 1.0 1.41 1.41
5.1        L R C LFE Ls Rs                 1.0 1.0 1.0 0 1.41 1.41
6.1        L R C LFE Cs Ls Rs              1.0 1.0 1.0 0 1.0 1.41 1.41
7.1        L R C LFE Lb Rb Ls Rs           1.0 1.0 1.0 0 1.0 1.0 1.41 1.41
=========  ==============================  =============================

In 7.1 the back pair (about 150 degrees) is outside 60-120 degrees, so it weighs 1.0 under
BS.1770-4 Table 3 while the side surrounds weigh 1.41. In 5.1 the "back" speakers of the WAVE
mask 0x3F are the ordinary surrounds (about 110 degrees) and weigh 1.41.
"""

from __future__ import annotations

__all__ = [
    "LAYOUT_WEIGHTS",
    "SURROUND_WEIGHT",
    "channel_weights",
    "channel_weights_from_mask",
    "default_layout",
]

SURROUND_WEIGHT = 1.41
_S = SURROUND_WEIGHT

LAYOUT_WEIGHTS: dict[str, tuple[float, ...]] = {
    "mono": (1.0,),
    "dual_mono": (2.0,),
    "stereo": (1.0, 1.0),
    "3.0": (1.0, 1.0, 1.0),
    "quad": (1.0, 1.0, _S, _S),
    "5.0": (1.0, 1.0, 1.0, _S, _S),
    "5.1": (1.0, 1.0, 1.0, 0.0, _S, _S),
    "6.1": (1.0, 1.0, 1.0, 0.0, 1.0, _S, _S),
    "7.1": (1.0, 1.0, 1.0, 0.0, 1.0, 1.0, _S, _S),
}

_DEFAULT_LAYOUT = {
    1: "mono",
    2: "stereo",
    3: "3.0",
    4: "quad",
    5: "5.0",
    6: "5.1",
    7: "6.1",
    8: "7.1",
}

# WAVE_FORMAT_EXTENSIBLE dwChannelMask bits, in the order channels appear in the file.
_SPEAKER_BITS: tuple[str, ...] = (
    "FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC", "BC", "SL", "SR",
    "TC", "TFL", "TFC", "TFR", "TBL", "TBC", "TBR",
)  # fmt: skip


def default_layout(channels: int) -> str | None:
    """The layout assumed for ``channels`` channels without other information, or None."""
    return _DEFAULT_LAYOUT.get(channels)


def channel_weights(channels: int, layout: str | None = None) -> tuple[float, ...]:
    """BS.1770 weights G_i for ``channels`` channels in the order of ``layout``.

    ``layout`` is one of :data:`LAYOUT_WEIGHTS` (e.g. ``"5.1"``); None picks the usual layout
    for the channel count (1 mono, 2 stereo, 3 "3.0", 4 quad, 5 "5.0", 6 "5.1", 7 "6.1",
    8 "7.1"). Other counts without a layout weigh every channel 1.0.
    """
    if channels < 1:
        raise ValueError(f"channels must be at least 1, got {channels}")
    if layout is None:
        layout = default_layout(channels)
        if layout is None:
            return (1.0,) * channels
    try:
        weights = LAYOUT_WEIGHTS[layout]
    except KeyError:
        known = ", ".join(LAYOUT_WEIGHTS)
        raise ValueError(f"unknown channel layout {layout!r}; known: {known}") from None
    if len(weights) != channels:
        raise ValueError(f"layout {layout!r} has {len(weights)} channels, not {channels}")
    return weights


def channel_weights_from_mask(mask: int, channels: int) -> tuple[float, ...]:
    """BS.1770 weights from a WAVE_FORMAT_EXTENSIBLE ``dwChannelMask``.

    Channels appear in the file in the order of the mask's set bits. FL, FR, FC, FLC, FRC, BC
    and the top speakers weigh 1.0; LFE 0; SL and SR 1.41; BL and BR 1.41 when the mask has no
    side pair (they are then the 5.1 surrounds) and 1.0 otherwise (the 7.1 back pair). A mask
    of 0 or one whose bit count differs from ``channels`` is ignored (the WAVE rules say the
    channels are then unassigned) and :func:`channel_weights` decides by count.
    """
    names = [name for bit, name in enumerate(_SPEAKER_BITS) if mask >> bit & 1]
    if mask <= 0 or len(names) != channels or mask >> len(_SPEAKER_BITS):
        return channel_weights(channels)
    has_sides = "SL" in names or "SR" in names
    weights: list[float] = []
    for name in names:
        if name == "LFE":
            weights.append(0.0)
        elif name in ("SL", "SR") or (name in ("BL", "BR") and not has_sides):
            weights.append(SURROUND_WEIGHT)
        else:
            weights.append(1.0)
    return tuple(weights)
