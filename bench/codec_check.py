"""What the codec check costs: ``soundy analyze --json`` with and without ``--codec-check``.

Run: ``.venv/bin/python bench/codec_check.py [--reps N] [--seconds S]``. On the 4-minute
stereo 44.1 kHz 24-bit WAV of ``bench/analyze_speed.py`` (generated once under
``$TMPDIR/soundy-bench``; ``--seconds`` makes a shorter one), alternating the two commands in
every repetition, it prints the median wall and CPU seconds of each and the codec check's share:
four encodings (Ogg Vorbis 160 kbit/s for Spotify's apps, by the system ffmpeg's libvorbis when
it is installed; AAC 256 kbit/s for Spotify's web player and Apple Music; Opus 160 kbit/s at
48 kHz for YouTube; MP3 128 kbit/s for SoundCloud), each decoded and measured again. The CPU
seconds include the ffmpeg child's (os.wait4 counts the children a process waited for).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from analyze_speed import VENV_BIN, generate, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions per command")
    parser.add_argument("--seconds", type=float, default=240.0, help="length of the test file")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "soundy-bench")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    name = f"music-{args.seconds:g}s-44k1-24bit.wav"
    if args.seconds == 240.0:
        name = "music-4min-44k1-24bit.wav"
    path = generate(args.cache / name, args.seconds, 44100, "PCM_24", seed=7)
    soundy = str(VENV_BIN / "soundy")
    commands = {
        "soundy analyze --json": [soundy, "analyze", "--json", str(path)],
        "soundy analyze --json --codec-check": [
            soundy, "analyze", "--json", "--codec-check", str(path),
        ],
    }  # fmt: skip
    wall: dict[str, list[float]] = {n: [] for n in commands}
    cpu: dict[str, list[float]] = {n: [] for n in commands}
    for _ in range(args.reps):
        for n, command in commands.items():
            elapsed, cpu_s, _ = run(command)
            wall[n].append(elapsed)
            cpu[n].append(cpu_s)
    print(f"{args.seconds:g} s stereo 44.1 kHz 24-bit WAV, {args.reps} alternating runs each")
    print(f"{'command':40} {'wall s (median)':>16} {'CPU s (median)':>15}")
    for n in commands:
        print(f"{n:40} {statistics.median(wall[n]):16.2f} {statistics.median(cpu[n]):15.2f}")
    plain, checked = "soundy analyze --json", "soundy analyze --json --codec-check"
    extra_wall = statistics.median(wall[checked]) - statistics.median(wall[plain])
    extra_cpu = statistics.median(cpu[checked]) - statistics.median(cpu[plain])
    print(
        f"codec check: +{extra_wall:.2f} s wall, +{extra_cpu:.2f} s CPU "
        f"({extra_cpu / (args.seconds / 60):.2f} CPU s per minute of audio)"
    )


if __name__ == "__main__":
    sys.exit(main())
