"""``soundy analyze V1 V2 V3 --versions``: the installed command on real music
(tests/real_music.py), read as versions of one song, oldest first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import real_music
from cli_run import run_analyze


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_analyze(*args, columns=200)


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three versions of a 20 s excerpt of the rock mix: 6 dB down, at full scale (the same
    excerpt 6 dB louder), and 6 dB down again."""
    folder = tmp_path_factory.mktemp("song")
    return [
        real_music.write_16bit(folder / name, "rock", gain, start_s=30.0, seconds=20.0)
        for name, gain in (("v1.wav", -6.0), ("v2.wav", 0.0), ("v3.wav", -6.0))
    ]


def test_versions_json_is_the_history_oldest_first(song: list[Path]) -> None:
    done = _run("--versions", "--json", *map(str, song))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    document = json.loads(lines[0])
    versions = document["versions"]
    assert [v["file"] for v in versions] == ["v1.wav", "v2.wav", "v3.wav"]
    first, louder, quieter = (v["history"] for v in versions)
    assert first["previous_version"] is None and first["changes"][0]["delta"] is None
    assert louder["previous_version"] == 1
    loudness = next(c for c in louder["changes"] if c["metric"] == "loudness.integrated_lufs")
    assert loudness["delta"] == pytest.approx(6.0, abs=0.05) and loudness["moved"]
    assert "loudness.integrated_lufs" in louder["moved"]
    assert "dynamics.plr_db" not in louder["moved"]  # a gain change, not a dynamics change
    assert louder["score_up"] is True and louder["score_delta"] > 0
    assert quieter["score_up"] is False and quieter["score_delta"] < 0
    assert quieter["changes"][0]["delta"] == pytest.approx(-6.0, abs=0.05)
    measured = versions[1]["result"]["loudness"]["integrated_lufs"]
    assert measured == pytest.approx(loudness["value"], abs=0.001)


def test_versions_table_in_english_and_portuguese(song: list[Path]) -> None:
    done = _run("--versions", *map(str, song))
    assert done.returncode == 0, done.stderr
    assert "Versions: 3, oldest first" in done.stdout
    assert "Score up" in done.stdout and "since version 1" in done.stdout
    assert "What moved: loudness +6.0 LUFS" in done.stdout
    assert "Score down" in done.stdout and "since version 2" in done.stdout
    assert "What moved: loudness -6.0 LUFS" in done.stdout
    assert "-6.0) *" in done.stdout  # the every-measure table marks the move
    pt = _run("--versions", "--lang", "pt-BR", *map(str, song))
    assert pt.returncode == 0, pt.stderr
    assert "A nota subiu" in pt.stdout and "O que mudou: loudness +6,0 LUFS" in pt.stdout
    assert "A nota caiu" in pt.stdout
    assert "Versões: 3, da mais antiga à mais nova" in pt.stdout and "Arquivo" in pt.stdout
    assert "Todas as medidas" in pt.stdout and "Medida" in pt.stdout
    assert "-6,0) *" in pt.stdout and "Versions:" not in pt.stdout


def test_versions_usage_errors_and_a_broken_version(song: list[Path], tmp_path: Path) -> None:
    one = _run("--versions", str(song[0]))
    assert one.returncode == 2 and "at least two files" in one.stderr
    both = _run("--versions", "--album", *map(str, song))
    assert both.returncode == 2 and "--versions and --album" in both.stderr
    assert both.stdout == ""
    broken = tmp_path / "notes.wav"
    broken.write_text("not audio\n" * 100)
    done = _run("--versions", "--json", str(song[0]), str(broken), str(song[1]))
    assert done.returncode == 1 and "notes.wav" in done.stderr
    versions = json.loads(done.stdout)["versions"]
    assert [v["file"] for v in versions] == ["v1.wav", "notes.wav", "v2.wav"]
    assert versions[1]["result"] is None and versions[1]["history"]["summary"] is None
    assert versions[2]["history"]["previous_version"] == 1  # compared with the last good one
