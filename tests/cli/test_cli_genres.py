"""``soundy genres [--json]`` and ``soundy targets build`` through the real command line app."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from typer.testing import CliRunner, Result

from soundy.cli.main import app
from soundy.compare.profiles import load_profile_file

runner = CliRunner()


def test_genres_json_is_a_list_of_key_and_label() -> None:
    result = runner.invoke(app, ["genres", "--json"])
    assert result.exit_code == 0, result.output
    genres = json.loads(result.stdout)
    assert isinstance(genres, list) and len(genres) == 18
    assert all(isinstance(g["key"], str) and isinstance(g["label"], str) for g in genres)
    assert {"key": "funk_mandela", "label": "Funk BR"} in genres


def test_genres_table_names_every_genre() -> None:
    result = runner.invoke(app, ["genres"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for label in ("Trap", "Funk Bruxaria", "Piseiro/Forró", "Orchestral"):
        assert label in result.stdout


def _track(path: Path, seed: int, level_dbfs: float) -> None:
    rng = np.random.default_rng(seed)
    sr = 44100
    t = np.arange(3 * sr) / sr
    noise = rng.standard_normal((t.size, 2)) * 0.1
    tone = 0.5 * np.sin(2 * np.pi * 80 * t)[:, None]
    frames = tone + noise
    frames *= 10 ** (level_dbfs / 20) / np.max(np.abs(frames))
    sf.write(path, frames, sr, subtype="PCM_16")


def test_targets_build_writes_a_valid_profile_from_medians(tmp_path: Path) -> None:
    folder = tmp_path / "refs"
    folder.mkdir()
    for seed, level in enumerate((-1.0, -3.0, -5.0)):
        _track(folder / f"t{seed}.wav", seed, level)
    (folder / "notes.txt").write_text("not audio")  # ignored by suffix
    (folder / "broken.wav").write_bytes(b"RIFF nothing here")  # measured, fails, skipped
    out = tmp_path / "club_refs.json"
    result = runner.invoke(
        app,
        ["targets", "build", str(folder), "--genre", "club_refs", "--label", "Club refs",
         "--out", str(out), "--workers", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "from 3 tracks (1 skipped)" in result.stdout
    profile = load_profile_file(out)
    assert (profile.key, profile.label) == ("club_refs", "Club refs")
    tp = profile.metrics["peaks.true_peak_dbtp"]
    assert tp.min <= tp.target <= tp.max
    assert -3.5 < tp.target < -2.5  # median of the three peak levels (-1, -3, -5 dBFS)
    assert set(profile.bands) == {"sub", "bass", "low_mid", "mid", "high_mid", "presence", "air"}

    # Put into SOUNDY_GENRES_DIR, the new genre is listed with the shipped ones.
    listed = _genres_with_dir(tmp_path)
    assert listed.exit_code == 0, listed.output
    keys = [g["key"] for g in json.loads(listed.stdout)]
    assert "club_refs" in keys and len(keys) == 19


def _genres_with_dir(directory: Path) -> Result:
    from soundy.config import get_settings

    get_settings.cache_clear()
    try:
        return runner.invoke(app, ["genres", "--json"], env={"SOUNDY_GENRES_DIR": str(directory)})
    finally:
        get_settings.cache_clear()


def test_a_broken_operator_profile_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"key": "bad"}')
    result = _genres_with_dir(tmp_path)
    assert result.exit_code == 1
    assert "genre profile bad.json:" in result.output and "label" in result.output


def test_targets_build_refuses_an_empty_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["targets", "build", str(tmp_path), "--genre", "x", "--label", "X"])
    assert result.exit_code == 1
    assert "no audio files" in result.output
