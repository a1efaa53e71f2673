"""Speed and memory of ``soundy analyze --json`` against the tools a producer would run instead.

Run: ``make bench`` (or ``.venv/bin/python bench/analyze_speed.py [--reps N] [--skip-long]``).

1. Generates (once, cached under ``$TMPDIR/soundy-bench``) a deterministic music-like 4-minute
   stereo 44.1 kHz 24-bit WAV (noise shaped like a mix, chords, a kick/snare pattern with sharp
   transients, slow level changes) and a 60-minute stereo 48 kHz 16-bit WAV (written in chunks).
2. On the 4-minute file, alternating in every repetition (so a busy machine hurts all alike), times
   the whole command of each contender and records each child's peak RSS (``os.wait4``):
   - ``soundy analyze --json FILE`` (every measurement of the result, tempo and key included),
   - ``ffmpeg -nostats -hide_banner -i FILE -af ebur128=peak=true -f null -`` (integrated,
     LRA, true peak),
   - pyloudnorm in a Python child (read the file, integrated loudness only),
   - pyebur128 in a Python child (libebur128: integrated, LRA, true peak; file read in blocks),
   - the soundy command again with its tempo and key meter switched off (no-ops patched in
     that child), to show what tempo and key cost.
3. Runs ``soundy analyze --json`` (and ffmpeg) on the 60-minute file for time and peak memory.

Prints a table of median seconds, the ratio of each contender's time to soundy's, and peak RSS.
Targets (issue 3): soundy >= 2x faster than ffmpeg; < 400 MB on the 4-minute file, < 300 MB on
the 60-minute one; tempo and key add at most 10 % to the command.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable

PYLOUDNORM_CODE = """
import sys, soundfile, pyloudnorm
data, rate = soundfile.read(sys.argv[1])
print(pyloudnorm.Meter(rate).integrated_loudness(data))
"""

PYEBUR128_CODE = """
import sys, soundfile, numpy as np
from pyebur128 import MeasurementMode as M, R128State, get_loudness_global, get_loudness_range
from pyebur128 import get_true_peak
with soundfile.SoundFile(sys.argv[1]) as f:
    state = R128State(f.channels, f.samplerate, M.MODE_I | M.MODE_LRA | M.MODE_TRUE_PEAK)
    for block in f.blocks(blocksize=65536, dtype="float32", always_2d=True):
        state.add_frames(np.ascontiguousarray(block).ravel(), block.shape[0])
    peak = max(get_true_peak(state, c) for c in range(f.channels))
print(get_loudness_global(state), get_loudness_range(state), 20 * np.log10(peak))
"""


# The same command with the tempo and key meter switched off (its methods replaced by no-ops
# in this child only): what tempo and key add to the whole command (issue 3: at most 10 %).
NO_TEMPO_KEY_CODE = """
import sys
from soundy.analysis import rhythm
rhythm.RhythmMeter.add_power_spectra = lambda self, power: None
rhythm.RhythmMeter.add_onset_frames = lambda self, frames: None
rhythm.RhythmMeter.result = lambda self: dict.fromkeys(
    ("tempo_bpm", "tempo_confidence", "key", "key_tonic", "key_mode", "key_confidence"))
from soundy.cli.main import app
sys.argv = ["soundy", "analyze", "--json", sys.argv[1]]
app()
"""


def music_like(frames: int, sample_rate: int, seed: int, start_frame: int = 0) -> np.ndarray:
    """Deterministic stereo 'music': pink-ish noise, chords, kick/snare/hat transients.

    Returns float32 (frames, 2), peaks around -1 dBFS. ``start_frame`` lets a long file be
    written in chunks that join seamlessly (everything depends on the absolute time only, the
    noise on ``seed`` and the chunk index).
    """
    rng = np.random.default_rng([seed, start_frame])
    t = (start_frame + np.arange(frames)) / sample_rate
    # Noise with a falling spectrum like a mix's (brown noise, a little white), different on each
    # side: the 1/3-octave tilt of the whole file is about -4 dB/octave, typical of masters.
    white = rng.standard_normal((frames, 2)).astype(np.float32)
    brown = np.cumsum(white, axis=0) * 0.02
    brown -= np.linspace(brown[0], brown[-1], frames)  # no drift across chunks
    noise = 0.006 * white + 0.2 * np.tanh(brown)
    # Chords changing every 2 s (A minor, F, C, G), with a slow level swell.
    roots_hz = np.array([220.0, 174.61, 261.63, 196.0])
    chord = roots_hz[(t // 2.0).astype(int) % 4]
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / 37.0)
    tones = sum(
        0.08 * np.sin(2 * np.pi * chord * ratio * t + phase)
        for ratio, phase in ((1.0, 0.0), (1.26, 1.0), (1.5, 2.0), (2.0, 0.5))
    )
    # 120 BPM: kick on beats, snare on 2 and 4, hats on eighths.
    beat_s = 0.5
    pos = np.mod(t, beat_s)
    beat_index = (t // beat_s).astype(int)
    kick = 0.7 * np.exp(-pos * 30) * np.sin(2 * np.pi * (50 + 80 * np.exp(-pos * 40)) * pos)
    snare_on = (beat_index % 2) == 1
    snare = np.where(snare_on, 0.35 * np.exp(-pos * 25), 0.0) * rng.standard_normal(frames)
    hat_pos = np.mod(t, beat_s / 2)
    hat = 0.05 * np.exp(-hat_pos * 120) * rng.standard_normal(frames)
    mono = (swell * tones + kick + snare + hat).astype(np.float32)
    out = noise + mono[:, None] * np.array([1.0, 0.9], dtype=np.float32)
    return (0.8 * np.tanh(out / 0.8)).astype(np.float32)


def generate(path: Path, seconds: float, sample_rate: int, subtype: str, seed: int) -> Path:
    if path.exists():
        return path
    tmp = path.with_suffix(".partial.wav")
    chunk = sample_rate * 30
    total = round(seconds * sample_rate)
    with sf.SoundFile(tmp, "w", sample_rate, 2, subtype=subtype, format="WAV") as out:
        for start in range(0, total, chunk):
            out.write(music_like(min(chunk, total - start), sample_rate, seed, start))
    tmp.rename(path)
    return path


GNU_TIME = Path("/usr/bin/time")
# The children run as after an ordinary install, with their bytecode cached (pip compiles it;
# an editable install writes __pycache__ on the first run, the warm-up below). A
# PYTHONDONTWRITEBYTECODE=1 inherited from a build shell would have every Python contender
# compile its sources on every run (~40 ms for soundy's 31 modules).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; return (wall seconds, CPU seconds (user + system), peak RSS in MB).

    Peak RSS comes from GNU time (``%M``) when it is installed: Linux keeps a process's RSS
    high-water mark across ``exec``, so ``os.wait4`` on a child forked from this (large) Python
    process would report at least this process's RSS. Without GNU time, ``os.wait4`` is used.
    stderr goes to a file (ffmpeg's ebur128 logs a line per 100 ms, more than a pipe holds).
    """
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as rss_file:
        full = [str(GNU_TIME), "-f", "%M", "-o", rss_file.name, *cmd] if GNU_TIME.exists() else cmd
        started = time.perf_counter()
        proc = subprocess.Popen(
            full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, env=_ENV
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
        peak_kb = float(rss_file.read().split()[-1]) if GNU_TIME.exists() else usage.ru_maxrss
    return elapsed, usage.ru_utime + usage.ru_stime, peak_kb / 1024


def contenders(path: Path) -> dict[str, list[str]]:
    soundy = shutil.which("soundy", path=str(VENV_BIN)) or "soundy"
    return {
        "soundy analyze --json": [soundy, "analyze", "--json", str(path)],
        "ffmpeg ebur128=peak=true": [
            "ffmpeg",
            "-nostats",
            "-hide_banner",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        "pyloudnorm (integrated)": [PYTHON, "-c", PYLOUDNORM_CODE, str(path)],
        "pyebur128 (I, LRA, TP)": [PYTHON, "-c", PYEBUR128_CODE, str(path)],
        "soundy, tempo/key off": [PYTHON, "-c", NO_TEMPO_KEY_CODE, str(path)],
    }


def table(
    title: str,
    times: dict[str, list[float]],
    cpu: dict[str, list[float]],
    rss: dict[str, list[float]],
) -> str:
    base = statistics.median(times["soundy analyze --json"])
    lines = [
        title,
        f"{'command':<28} {'median s':>9} {'min s':>7} {'x soundy':>9} {'CPU s':>7} "
        f"{'peak RSS MB':>12}",
    ]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(
            f"{name:<28} {median:>9.3f} {min(values):>7.3f} {median / base:>9.2f} "
            f"{statistics.median(cpu[name]):>7.2f} {max(rss[name]):>12.0f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="repetitions per contender")
    parser.add_argument("--skip-long", action="store_true", help="skip the 60-minute file")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "soundy-bench",
        help="where the generated files are kept",
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    short = generate(args.cache / "music-4min-44k1-24bit.wav", 240, 44100, "PCM_24", seed=7)
    cmds = contenders(short)
    for cmd in cmds.values():  # warm the page cache and the imports once
        run(cmd)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    rss: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.reps):
        for name, cmd in cmds.items():
            elapsed, cpu_s, peak_mb = run(cmd)
            times[name].append(elapsed)
            cpu[name].append(cpu_s)
            rss[name].append(peak_mb)
    print(
        table(
            f"4-minute stereo 44.1 kHz 24-bit WAV, {args.reps} alternating runs each",
            times,
            cpu,
            rss,
        )
    )
    soundy_s = statistics.median(times["soundy analyze --json"])
    ffmpeg_s = statistics.median(times["ffmpeg ebur128=peak=true"])
    no_tempo_key_s = statistics.median(times["soundy, tempo/key off"])
    # Minima too: soundy uses both cores, so other load moves its median more than ffmpeg's,
    # and a few percent (tempo and key) drown in that noise; the fastest runs show the cost.
    fastest = {name: min(values) for name, values in times.items()}
    print(
        f"\nsoundy is {ffmpeg_s / soundy_s:.2f}x faster than ffmpeg (medians; "
        f"{fastest['ffmpeg ebur128=peak=true'] / fastest['soundy analyze --json']:.2f}x "
        f"fastest runs; target >= 2); peak {max(rss['soundy analyze --json']):.0f} MB "
        f"(target < 400); tempo and key add {100 * (soundy_s / no_tempo_key_s - 1):+.0f} % "
        f"to the command (medians; "
        f"{100 * (fastest['soundy analyze --json'] / fastest['soundy, tempo/key off'] - 1):+.0f} "
        f"% fastest runs; target <= 10 %)"
    )

    if not args.skip_long:
        long = generate(args.cache / "music-60min-48k-16bit.wav", 3600, 48000, "PCM_16", seed=8)
        soundy_cmd = contenders(long)["soundy analyze --json"]
        ffmpeg_cmd = contenders(long)["ffmpeg ebur128=peak=true"]
        s_time, s_cpu, s_rss = run(soundy_cmd)
        f_time, f_cpu, f_rss = run(ffmpeg_cmd)
        print(
            f"\n60-minute stereo 48 kHz WAV: soundy {s_time:.2f} s ({s_cpu:.1f} s CPU), peak "
            f"{s_rss:.0f} MB (target < 300); ffmpeg {f_time:.2f} s ({f_cpu:.1f} s CPU), peak "
            f"{f_rss:.0f} MB"
        )


if __name__ == "__main__":
    main()
