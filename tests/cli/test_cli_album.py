"""``soundy analyze A B C --album``: the installed command on real music (tests/real_music.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import real_music
from cli_run import run_analyze


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_analyze(*args, columns=160)


@pytest.fixture(scope="module")
def ep(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three 30 s excerpts of the rock mix: at full scale, 6 dB down, and 9 dB into clipping."""
    folder = tmp_path_factory.mktemp("ep")
    return [
        real_music.write_16bit(folder / name, "rock", gain, start_s=30.0, seconds=30.0)
        for name, gain in (("one.wav", 0.0), ("two.wav", -6.0), ("three.wav", 9.0))
    ]


def test_album_json_is_one_document_in_track_order(ep: list[Path]) -> None:
    done = _run("--album", "--json", *map(str, ep))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert [t["name"] for t in report["tracks"]] == ["one.wav", "two.wav", "three.wav"]
    assert report["tracks"][1]["outliers"] == ["loudness"]
    assert report["tracks"][1]["deviation"]["integrated_lufs"] == pytest.approx(-6.0, abs=0.05)
    assert report["album"]["loudest_index"] == 2
    assert {r["rule"] for r in report["playback"]} == {"spotify", "aes_td1008"}


def test_album_table_and_portuguese(ep: list[Path]) -> None:
    done = _run("--album", *map(str, ep))
    assert done.returncode == 0, done.stderr
    assert "Album: 3 tracks" in done.stdout
    assert "two.wav is 6.0 LU quieter" in done.stdout
    assert "set by the loudest track (three.wav" in done.stdout
    pt = _run("--album", "--lang", "pt-BR", *map(str, ep))
    assert "two.wav está 6,0 LU mais baixa" in pt.stdout
    # The whole table in Portuguese: title, headers, numbers, the playback rules' names.
    assert "Álbum: 3 faixas" in pt.stdout and "Faixa" in pt.stdout
    assert "Δ: a faixa menos a faixa mediana do álbum" in pt.stdout
    assert "Spotify (modo álbum, Normal):" in pt.stdout
    assert "-6,0" in pt.stdout and "-6.0" not in pt.stdout
    assert "Album:" not in pt.stdout and "Track" not in pt.stdout


def test_album_needs_two_files_and_goes_on_without_a_broken_one(
    ep: list[Path], tmp_path: Path
) -> None:
    one = _run("--album", str(ep[0]))
    assert one.returncode == 2 and "at least two files" in one.stderr
    broken = tmp_path / "notes.wav"
    broken.write_text("not audio\n" * 100)
    done = _run("--album", "--json", str(ep[0]), str(broken), str(ep[1]))
    assert done.returncode == 1 and "notes.wav" in done.stderr
    report = json.loads(done.stdout)
    assert [t["name"] for t in report["tracks"]] == ["one.wav", "two.wav"]
