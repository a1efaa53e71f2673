"""``soundy analyze``: the installed command on real generated files, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musical_signals import write_clicks_over_a_minor_triad

SOUNDY = [sys.executable, "-m", "soundy.cli.main", "analyze"]
# A 1 kHz stereo sine of peak -20 dBFS at 48 kHz reads -20 + 0.6977 - 0.691 LUFS (BS.1770).
SINE_LUFS = -20.0 + 0.6977 - 0.691


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [*SOUNDY, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


@pytest.fixture(scope="module")
def sine_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rate = 48000
    t = np.arange(rate * 6) / rate
    x = 0.1 * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path_factory.mktemp("cli") / "sine.wav"
    sf.write(path, np.stack([x, x], axis=1), rate, subtype="PCM_24")
    return path


def test_json_output_parses_and_has_the_loudness(sine_wav: Path) -> None:
    done = _run("--json", str(sine_wav))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["schema_version"] == 1
    assert result["file"]["name"] == "sine.wav"
    assert result["loudness"]["integrated_lufs"] == pytest.approx(SINE_LUFS, abs=0.05)


def test_table_output_shows_the_integrated_loudness(sine_wav: Path) -> None:
    done = _run(str(sine_wav))
    assert done.returncode == 0, done.stderr
    assert "Integrated" in done.stdout
    assert f"{SINE_LUFS:.1f} LUFS" in done.stdout
    assert "sine.wav" in done.stdout
    assert "mid" in done.stdout


def test_bad_files_exit_1_with_one_line_each_and_the_others_still_run(
    sine_wav: Path, tmp_path: Path
) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("these are my lyrics, not audio\n")
    missing = tmp_path / "missing.flac"
    done = _run("--json", str(text), str(sine_wav), str(missing), str(sine_wav))
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 2, done.stderr
    assert str(text) in errors[0] and "not an audio file" in errors[0]
    assert str(missing) in errors[1] and "no such file" in errors[1]
    results = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [r["file"]["name"] for r in results] == ["sine.wav", "sine.wav"]


def test_analyze_imports_neither_the_service_stack_nor_pydantic(sine_wav: Path) -> None:
    """A whole ``soundy analyze --json`` run (no genre) must not pull in the service stack
    (FastAPI, SQLAlchemy, ...) nor pydantic (~60 ms of start-up: typer < 0.29 parses options
    without it; the genre profiles, pydantic models, load only for ``--genre``)."""
    code = (
        "import sys\n"
        "from soundy.cli.main import app\n"
        "sys.argv = ['soundy', 'analyze', '--json', sys.argv[1]]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = [m for m in ('fastapi', 'sqlalchemy', 'redis', 'bullmq', 'boto3', 'pydantic',"
        " 'av') if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(sine_wav)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout)["score"]["overall"] is not None
    assert done.stderr.strip() == "[]"


def test_a_bad_option_value_is_a_usage_error(sine_wav: Path) -> None:
    done = _run("--max-duration", "long", str(sine_wav))
    assert done.returncode == 2
    assert "max-duration" in done.stderr and done.stdout == ""


def test_table_shows_the_genre_targets(sine_wav: Path) -> None:
    done = _run("--genre", "pop", str(sine_wav))
    assert done.returncode == 0, done.stderr
    assert "Target" in done.stdout and "Score:" in done.stdout
    clipped = next(line for line in done.stdout.splitlines() if "Clipped samples" in line)
    assert clipped.split()[-1] == "0"  # a count, not "0.00"


def test_table_shows_the_stage_the_nearest_genres_and_each_targets_source(sine_wav: Path) -> None:
    done = _run("--genre", "rock_indie", "--stage", "mix", str(sine_wav))
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())  # rich wraps long lines
    assert "Compared with genre Rock / Indie, stage: mix" in out
    assert "Nearest genres: " in out and out.count(" dB),") >= 2
    # a -20 LUFS sine is right for a mix, so no loudness suggestion; a master would get one.
    # Its true peak (-20 dBTP) leaves more headroom than a mix needs, and says whose target.
    assert "(target: a mix before mastering" in out
    assert "LU too quiet" not in out
    master = " ".join(_run("--genre", "rock_indie", str(sine_wav)).stdout.split())
    assert "stage: master" in master and "do not raise it to their level" in master
    bad = _run("--stage", "premaster", str(sine_wav))
    assert bad.returncode == 2 and "--stage must be mix or master" in bad.stderr


def test_table_shows_the_tempo_and_key_alternatives(tmp_path: Path) -> None:
    # Clicks at 120 BPM over an A minor triad: a tempo, its octaves, a key and its relative key.
    path = write_clicks_over_a_minor_triad(tmp_path / "clicks.wav")
    done = _run(str(path))
    assert done.returncode == 0, done.stderr
    result = json.loads(_run("--json", str(path)).stdout)
    musical = result["musical"]
    assert musical["tempo_bpm"] == pytest.approx(120.0, abs=1.0)
    assert f"{musical['tempo_bpm']:.1f} BPM ({musical['tempo_confidence']:.0%} sure)" in done.stdout
    for candidate in musical["tempo_candidates"][1:]:
        shown = f"{candidate['bpm']:.1f} BPM {candidate['relation']}" in done.stdout
        assert shown == (candidate["confidence"] >= 0.005), candidate
    assert any(c["confidence"] >= 0.005 for c in musical["tempo_candidates"][1:])
    assert musical["key"] == "A minor" and musical["key_relative"] == "C major"
    assert "Relative key" in done.stdout and "C major" in done.stdout


def test_codec_check_flag_adds_the_encodings_to_the_json_and_the_table(sine_wav: Path) -> None:
    done = _run("--json", "--codec-check", str(sine_wav))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    checked = [(e["platform"], e["codec"], e["bitrate_kbps"]) for e in result["codec_check"]]
    assert checked == [
        ("Spotify", "vorbis", 160), ("Spotify", "aac", 256), ("Apple Music", "aac", 256),
        ("YouTube", "opus", 160), ("SoundCloud", "mp3", 128),
    ]  # fmt: skip
    assert result["codec_check_skipped"] == []  # Debian's ffmpeg (libvorbis) is installed
    # A -20 dBFS sine keeps its level through every codec.
    assert all(abs(e["loudness_change_lu"]) < 0.5 for e in result["codec_check"])
    assert "codec_check" not in json.loads(_run("--json", str(sine_wav)).stdout)
    table = _run("--codec-check", str(sine_wav))
    assert table.returncode == 0, table.stderr
    assert "Codec check" in table.stdout and "Opus 160k" in table.stdout
    assert "Ogg Vorbis" in table.stdout
    assert "Playback" in table.stdout and "Spotify Loud" in table.stdout
    # In Portuguese: the tables' titles, headers, modes and numbers.
    pt = _run("--codec-check", "--lang", "pt-BR", str(sine_wav))
    assert pt.returncode == 0, pt.stderr
    assert "Checagem de codec" in pt.stdout and "Reprodução nas plataformas" in pt.stdout
    assert "Spotify Alto" in pt.stdout and "Plataforma" in pt.stdout
    spotify_normal = next(e for e in result["playback"] if e["mode"] == "normal")
    assert f"{spotify_normal['gain_db']:.1f}".replace(".", ",") in pt.stdout
    assert "Spotify Loud" not in pt.stdout and "Codec check" not in pt.stdout


def test_without_an_ffmpeg_command_the_table_says_what_to_install(
    sine_wav: Path, tmp_path: Path
) -> None:
    """PATH without ffmpeg (as on a machine without Debian's package): Spotify's Vorbis is
    not checked, and both languages say which package would check it."""
    env = {**os.environ, "PATH": str(tmp_path), "COLUMNS": "200"}
    for lang, said in (
        ("en", "Not checked: Spotify (Ogg Vorbis, 160 kbit/s)"),
        ("pt-BR", "Não checado: Spotify (Ogg Vorbis, 160 kbit/s)"),
    ):
        done = subprocess.run(
            [*SOUNDY, "--codec-check", "--lang", lang, str(sine_wav)],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        text = " ".join(done.stdout.split())  # the sentence as read, wherever rich wraps it
        assert said in text and "apt install ffmpeg" in text
        assert "AAC 256k" in text  # the others are still checked
