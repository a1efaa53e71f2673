"""``normalization``: the per-platform view of the measured ``playback`` (schema_version 1)."""

from __future__ import annotations

import numpy as np

from soundy.analysis.playback import simulate_playback
from soundy.compare.normalization import normalization
from soundy.result import Measurements


def _measurements(integrated: float, true_peak: float) -> Measurements:
    def no_audio() -> list[np.ndarray]:
        raise AssertionError("no limiter needed")

    playback = simulate_playback(
        integrated, true_peak, true_peak - 0.3, sample_rate_hz=48000,
        channel_weights=(1.0, 1.0), blocks=no_audio,
    )  # fmt: skip
    return {"playback": playback}  # type: ignore[typeddict-item]


def test_one_row_per_normalising_platform_in_its_default_mode() -> None:
    rows = normalization(_measurements(-20.0, -12.0))
    assert rows is not None
    by_name = {r["platform"]: r for r in rows}
    assert list(by_name) == [
        "Spotify", "Apple Music", "YouTube", "YouTube Music", "Tidal", "Amazon Music", "Deezer",
    ]  # fmt: skip
    assert "SoundCloud" not in by_name  # it does not normalise
    spotify = by_name["Spotify"]  # the Normal mode's row (not Loud's +9 dB)
    assert (spotify["gain_db"], spotify["loudness_after_lufs"]) == (6.0, -14.0)
    assert spotify["rule"] == "up_to_true_peak" and spotify["documented"] is True
    assert by_name["YouTube"]["gain_db"] == 0.0 and by_name["YouTube"]["rule"] == "down_only"
    assert by_name["Deezer"]["documented"] is False


def test_no_playback_no_normalization() -> None:
    assert normalization({"playback": None}) is None  # type: ignore[typeddict-item]
    assert normalization({}) is None  # type: ignore[typeddict-item]
