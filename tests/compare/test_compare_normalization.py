"""Streaming normalisation: each platform's rule, checked against the platforms' own examples."""

from __future__ import annotations

import pytest

from soundy.compare.normalization import PLATFORMS, normalization

EXPECTED_PLATFORMS = {
    "Spotify", "Apple Music", "YouTube", "Tidal", "Amazon Music", "Deezer", "SoundCloud",
}  # fmt: skip


def _by_name(integrated_lufs: float, true_peak_dbtp: float | None) -> dict[str, dict]:
    entries = normalization(integrated_lufs, true_peak_dbtp)
    assert entries is not None
    return {e["platform"]: e for e in entries}


def test_one_entry_per_platform_with_the_documented_fields() -> None:
    entries = _by_name(-10.0, -1.0)
    assert set(entries) == EXPECTED_PLATFORMS
    for e in entries.values():
        assert set(e) >= {"platform", "target_lufs", "gain_db", "true_peak_after_dbtp", "rule"}
        assert e["source"].startswith("https://")


def test_spotify_documented_example() -> None:
    """Spotify's help page: a track at -20 LUFS with true peak -5 dBFS is lifted to -16 LUFS
    (1 dB headroom kept)."""
    spotify = _by_name(-20.0, -5.0)["Spotify"]
    assert spotify["gain_db"] == 4.0
    assert spotify["loudness_after_lufs"] == -16.0
    assert spotify["true_peak_after_dbtp"] == -1.0


def test_loud_masters_are_turned_down_everywhere_to_each_target() -> None:
    entries = _by_name(-7.0, -0.2)
    for platform in PLATFORMS:
        e = entries[platform.name]
        assert e["gain_db"] == platform.target_lufs + 7.0
        assert e["loudness_after_lufs"] == platform.target_lufs
        assert e["true_peak_after_dbtp"] == pytest.approx(-0.2 + e["gain_db"])
    assert entries["Apple Music"]["target_lufs"] == -16.0
    assert entries["Deezer"]["target_lufs"] == -15.0


def test_quiet_masters_stay_quiet_on_down_only_platforms() -> None:
    entries = _by_name(-22.0, -10.0)
    for name in ("YouTube", "Tidal", "Amazon Music", "Deezer", "SoundCloud"):
        assert entries[name]["gain_db"] == 0.0, name
        assert entries[name]["rule"] == "down_only"
    assert entries["Spotify"]["gain_db"] == 8.0  # up to -14, peak -2 stays under -1
    assert entries["Apple Music"]["gain_db"] == 6.0


def test_positive_gain_stops_at_the_peak_ceiling_and_never_turns_down() -> None:
    spotify = _by_name(-18.0, -0.5)["Spotify"]
    assert spotify["gain_db"] == 0.0  # already above the -1 dBTP ceiling: no lift, no cut
    assert spotify["true_peak_after_dbtp"] == -0.5


def test_silence_has_no_normalisation() -> None:
    assert normalization(None, None) is None
    entries = _by_name(-30.0, None)
    assert entries["Spotify"]["true_peak_after_dbtp"] is None
