"""The advice a producer reads on real finished music is right and consistent.

Each rule is shown twice: on Debian's real rock master as the package ships it (Ogg Vorbis,
tests/real_music.py; skipped when the package is missing), and on a synthetic signal that
isolates the mechanism.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from compare_builders import on_target_result, with_changes

from real_music import track_file, write_16bit
from soundy.analysis import measure_file
from soundy.compare import compare
from soundy.compare.messages import number
from soundy.compare.nearest import shape_distance_db, tonal_score
from soundy.compare.profiles import get_profile, list_profiles
from soundy.compare.scoring import MAX_TURN_DB_PER_OCTAVE, band_targets_for
from soundy.compare.targets import build_targets
from soundy.compare.tonal import genre_density_db, tilted_targets
from soundy.result import Measurements

RATE_HZ = 44100


@pytest.fixture(scope="module")
def rock() -> Measurements:
    """Frets on Fire's "Metal madness" (song.ogg): a loud, dense rock master."""
    return measure_file(str(track_file("rock")), max_duration_s=3600.0)


def _keys(out: Any) -> dict[str, dict[str, Any]]:
    return {s["metric"]: s for s in out["suggestions"]}


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    """Stereo pink-ish noise (-3 dB/octave above 100 Hz), unit RMS per channel."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE_HZ)
    spectrum = np.fft.rfft(rng.standard_normal((2, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / RATE_HZ)
    spectrum *= 1.0 / np.sqrt(np.maximum(f, 100.0))
    out = np.fft.irfft(spectrum, n, axis=1).T
    return out / out.std(axis=0)


def _measure(path: Path, frames: np.ndarray) -> Measurements:
    """The measurements of ``frames`` written as a float WAV."""
    sf.write(path, frames, RATE_HZ, subtype="FLOAT")
    return measure_file(str(path), max_duration_s=3600.0)


# 1. Loudness range: rock masters are not held to a pre-master mix's 10 LU.


def test_a_real_rock_master_is_in_the_rock_loudness_range(rock: Measurements) -> None:
    lra = rock["loudness"]["range_lu"]
    assert lra is not None and 3.0 <= lra <= 4.0  # a dense master, as rock masters are
    for lang in ("en", "pt-BR"):
        out = compare(rock, genre="rock_indie", stage="master", lang=lang)
        assert "loudness.range_lu" not in _keys(out)


def test_loudness_range_judged_against_the_genre_of_finished_masters(tmp_path: Path) -> None:
    # Verse and chorus 5 dB apart (LRA about 5 LU): a rock master; the same noise at one level
    # (LRA about 0) sounds flat for any genre.
    noise = _noise(64.0)
    sections = np.repeat(np.tile([10 ** (-5 / 20), 1.0], 4), 8 * RATE_HZ)[:, None]
    varied = _measure(tmp_path / "v.wav", 0.2 * noise * sections)
    flat = _measure(tmp_path / "f.wav", 0.2 * noise)
    assert (
        varied["loudness"]["range_lu"] is not None and 4.0 <= varied["loudness"]["range_lu"] <= 6.0
    )
    assert "loudness.range_lu" not in _keys(compare(varied, genre="rock_indie", stage="master"))
    lra = _keys(compare(flat, genre="rock_indie", stage="master"))["loudness.range_lu"]
    assert lra["status"] == "low" and lra["target"] == 6.0


# 5. Nearest genres: ranked as the score judges the balance (tilt taken out, ranges included).


def test_nearest_genres_of_a_real_rock_master_agree_with_the_score(rock: Measurements) -> None:
    out = compare(rock, genre="rock_indie", stage="master")
    listed = [n["genre"] for n in out["nearest_genres"]]
    scores = {p.key: tonal_score(rock, p) for p in list_profiles()}
    # No genre left out scores the balance higher than one listed, and the chosen genre's own
    # part of the score is what compare reports for it.
    assert min(scores[g] for g in listed) >= max(s for g, s in scores.items() if g not in listed)
    assert out["score"]["parts"]["tonal_balance"] == scores["rock_indie"]
    for n in out["nearest_genres"]:
        p = get_profile(n["genre"])
        tilt = p.metrics["spectrum.tilt_db_per_octave"].target
        shape = shape_distance_db(rock, {k: b.target for k, b in p.bands.items()}, tilt)
        assert shape is not None and n["distance_db"] == round(shape, 2)


def test_a_track_only_brighter_than_a_genre_is_nearest_to_it(tmp_path: Path) -> None:
    # Noise on rock_indie's own curve, turned 0.8 dB/octave brighter (inside its tilt range):
    # off on every band as given, on the genre's shape once the tilt is taken out.
    n = 30 * RATE_HZ
    f = np.fft.rfftfreq(n, 1 / RATE_HZ)
    curve = genre_density_db(get_profile("rock_indie").percussion_db)
    density_db = np.array(
        [curve(x) + 0.8 * math.log2(x / 1000.0) if x >= 15.0 else -200.0 for x in f]
    )
    rng = np.random.default_rng(1)
    spectrum = np.fft.rfft(rng.standard_normal((2, n)), axis=1) * 10 ** (density_db / 20)
    frames = np.fft.irfft(spectrum, n, axis=1).T
    bright = _measure(tmp_path / "bright.wav", 0.1 * frames / frames.std())
    p = get_profile("rock_indie")
    targets = {k: b.target for k, b in p.bands.items()}
    tilt = p.metrics["spectrum.tilt_db_per_octave"].target
    shape = shape_distance_db(bright, targets, tilt)
    raw = shape_distance_db(bright, targets, None)
    assert shape is not None and raw is not None and shape < 0.5 < 1.5 < raw
    nearest = compare(bright, genre="rock_indie", stage="master")["nearest_genres"]
    # first: rock_indie or a genre as close (its twins on the same curve), scored alike
    assert nearest[0]["distance_db"] <= round(shape, 2)
    assert tonal_score(bright, get_profile(nearest[0]["genre"])) == tonal_score(bright, p) == 100.0


# 2. Streaming: the advice follows what the platforms do (the playback simulation).


def _playback_gains(m: Measurements) -> dict[str, float]:
    """Each normalising platform's gain in its default mode (dB; the first row of a platform)."""
    gains: dict[str, float] = {}
    for entry in m["playback"] or []:
        if entry["rule"] != "none":
            gains.setdefault(entry["platform"], entry["gain_db"])
    return gains


def test_a_loud_real_master_is_no_fault_for_streaming(rock: Measurements) -> None:
    assert rock["loudness"]["integrated_lufs"] is not None
    assert rock["loudness"]["integrated_lufs"] > -13.0  # louder than every platform's target
    assert all(g <= 0.0 for g in _playback_gains(rock).values())  # they all turn it down
    for genre in (None, "rock_indie"):
        for lang in ("en", "pt-BR"):
            out = compare(rock, genre=genre, destination="streaming", stage="master", lang=lang)
            assert "loudness.integrated_lufs" not in _keys(out)
            row = next(
                r for r in out["score"]["metrics"] if r["metric"] == "loudness.integrated_lufs"
            )
            assert row["score"] == 100.0 and row["target_max"] is None


def test_a_quiet_real_master_names_the_platforms_that_leave_it_quiet(tmp_path: Path) -> None:
    # The rock master 10 dB down (about -21 LUFS): YouTube, Tidal, Amazon and Deezer do not
    # raise it, Spotify and Apple only as far as their true-peak rule lets them.
    quiet = measure_file(str(write_16bit(tmp_path / "q.wav", "rock", -10.0)), max_duration_s=3600.0)
    integrated = quiet["loudness"]["integrated_lufs"]
    assert integrated is not None and integrated < -15.0
    short = {
        e["platform"]: e["target_lufs"] - e["loudness_after_lufs"]
        for e in quiet["playback"] or []
        if e["mode"] in ("default", "normal", "sound_check")
        and e["target_lufs"] is not None
        and e["target_lufs"] <= -14.0  # YouTube Music lowers only tracks over -7 LUFS
    }
    for lang, word in (("en", "do not raise it"), ("pt-BR", "não a elevam")):
        s = _keys(compare(quiet, destination="streaming", stage="master", lang=lang))[
            "loudness.integrated_lufs"
        ]
        assert s["status"] == "low" and word in s["message"]
        for platform in ("YouTube", "Tidal", "Amazon Music"):
            assert platform in s["message"] and short[platform] >= 1.0
        assert number(max(v for v in short.values()), lang) + " LU)" in s["message"]


def test_streaming_loudness_follows_playback_on_a_synthetic_signal(tmp_path: Path) -> None:
    loud = _measure(tmp_path / "loud.wav", 0.3 * _noise(20.0))  # about -9 LUFS
    quiet = _measure(tmp_path / "quiet.wav", 0.01 * _noise(20.0))  # about -38 LUFS
    assert loud["loudness"]["integrated_lufs"] is not None
    assert loud["loudness"]["integrated_lufs"] > -11.0
    assert "loudness.integrated_lufs" not in _keys(compare(loud, destination="streaming"))
    s = _keys(compare(quiet, destination="streaming"))["loudness.integrated_lufs"]
    assert "YouTube" in s["message"] and "Deezer" in s["message"]


# 6. Raising loudness under a lower ceiling says how much more limiting it takes; a lossy
# decode's overshoot is the true peak, reported once.


def _amounts(text: str) -> list[float]:
    return [float(x.replace(",", ".")) for x in re.findall(r"(-?[0-9]+(?:[.,][0-9])?) dB", text)]


def test_raising_a_peaky_real_master_says_how_much_more_limiting(tmp_path: Path) -> None:
    # The orchestral piece peak-normalised to full scale: quiet for streaming, peaks at 0 dBFS.
    piece = measure_file(
        str(write_16bit(tmp_path / "o.wav", "orchestral", 0.0)), max_duration_s=3600.0
    )
    peak = piece["peaks"]["true_peak_dbtp"]
    assert peak is not None and peak > -1.0
    by = _keys(compare(piece, destination="streaming", stage="master"))
    loud, tp = by["loudness.integrated_lufs"], by["peaks.true_peak_dbtp"]
    assert "-1.0 dBTP" in tp["action"]  # lower the ceiling to -1 dBTP...
    raise_db = loud["delta"]
    limit = peak + raise_db + 1.0  # ...and the raise: the limiter takes this off the peaks
    assert f"about {number(limit, 'en')} dB more limiting" in loud["action"]
    pt = _keys(compare(piece, destination="streaming", stage="master", lang="pt-BR"))
    assert (
        f"{number(limit, 'pt-BR')} dB a mais de limiter" in pt["loudness.integrated_lufs"]["action"]
    )


def test_raising_loudness_within_the_headroom_needs_no_more_limiting(tmp_path: Path) -> None:
    # Noise with a crest factor of about 12 dB, at about -30 LUFS: 16 dB up, peaks stay low.
    quiet = _measure(tmp_path / "q.wav", 0.01 * _noise(20.0))
    s = _keys(compare(quiet, destination="streaming"))["loudness.integrated_lufs"]
    assert "without more limiting" in s["action"]
    # The same noise with one click at full scale: the same raise now needs the limiter.
    clicked = 0.01 * _noise(20.0)
    clicked[RATE_HZ * 10] = [0.99, 0.99]
    peaky = _measure(tmp_path / "p.wav", clicked)
    s = _keys(compare(peaky, destination="streaming"))["loudness.integrated_lufs"]
    peak = peaky["peaks"]["true_peak_dbtp"]
    assert peak is not None
    assert f"about {number(peak + s['delta'] + 1.0, 'en')} dB more limiting" in s["action"]


def test_a_real_lossy_decode_overshoot_is_the_true_peak_not_clipping(rock: Measurements) -> None:
    count = rock["peaks"]["clipped_samples"]
    events = rock["peaks"]["clip_events"]
    assert count and events and count < 3 * events  # isolated samples over full scale
    for lang, words in (
        ("en", f"{count} samples of this lossy file"),
        ("pt-BR", f"{count} amostras"),
    ):
        out = compare(rock, genre="rock_indie", stage="master", lang=lang)
        by = _keys(out)
        assert "peaks.clipped_samples" not in by
        assert by["peaks.true_peak_dbtp"]["severity"] == "critical"  # the damage, once
        assert words in by["peaks.true_peak_dbtp"]["message"]
        assert all(r["metric"] != "peaks.clipped_samples" for r in out["score"]["metrics"])


def test_lossy_overshoot_and_clipped_flat_tops_on_synthetic_vorbis(tmp_path: Path) -> None:
    noise = 0.25 * _noise(20.0)
    # Peaks just over full scale (a handful clipped): the decode has a few samples over it.
    near_full = np.clip(1.1 * noise / np.abs(noise).max(), -1.0, 1.0)
    # A 110 Hz tone 6 dB over full scale, hard-clipped: long flat tops.
    t = np.arange(20 * RATE_HZ) / RATE_HZ
    tone = np.clip(2.0 * np.sin(2 * np.pi * 110.0 * t), -1.0, 1.0)
    clipped = np.stack([tone, tone], axis=1)
    results = {}
    for name, frames in (("near", near_full), ("clipped", clipped)):
        path = tmp_path / f"{name}.ogg"
        sf.write(path, frames, RATE_HZ, format="OGG", subtype="VORBIS")
        results[name] = measure_file(str(path), max_duration_s=3600.0)
    near = results["near"]["peaks"]
    assert near["clipped_samples"] and near["clip_events"]
    by = _keys(compare(results["near"], destination="streaming"))
    tp = by["peaks.true_peak_dbtp"]
    assert "peaks.clipped_samples" not in by and tp["severity"] == "critical"
    assert f"{near['clipped_samples']} samples of this lossy file" in tp["message"]
    flat = results["clipped"]["peaks"]
    assert flat["clipped_samples"] >= 3 * flat["clip_events"]
    by = _keys(compare(results["clipped"], destination="streaming"))
    assert by["peaks.clipped_samples"]["severity"] == "critical"
    assert by["peaks.clipped_samples"]["key"] == "clipping"


# 3. A band's EQ move and its gap to the target: one wording that adds up.

_NOTE = re.compile(
    r"This band's own move, ([+-][0-9.]+) dB, is its ([+-][0-9.]+) dB to the target "
    r"(plus|less) ([0-9.]+) dB: the EQ leaves .+ as it is, and .+ sits ([0-9.]+) dB "
    r"(above|below) its own target\."
)


def _check_band_numbers(out: Any) -> int:
    """Every band suggestion's action quotes its gap to the target it quotes, or says why its
    move differs (and the numbers add up); returns how many explained a difference."""
    explained = 0
    for s in out["suggestions"]:
        if not s["metric"].startswith("spectrum.bands."):
            continue
        gap = s["delta"]  # target - current
        note = _NOTE.search(s["action"])
        if note is None:
            if s["key"] not in ("band.low", "band.high") or "tilt EQ" in s["action"]:
                continue
            move = float(re.search(r"by about ([0-9.]+) dB", s["action"])[1])  # type: ignore[index]
            assert abs(move - abs(gap)) <= 0.051, s
            continue
        move, quoted, sign, offset, offset_again, _ = note.groups()
        # the gap from the target and level as the report writes them, to the digit
        shown_gap = round(s["target"], 1) - round(s["current"], 1)
        assert float(quoted) == pytest.approx(shown_gap, abs=1e-6) and offset == offset_again
        total = float(quoted) + (float(offset) if sign == "plus" else -float(offset))
        assert float(move) == pytest.approx(total, abs=1e-6), s
        explained += 1
    return explained


def test_a_real_band_suggestion_explains_its_eq_move() -> None:
    ballad = measure_file(str(track_file("ballad")), max_duration_s=3600.0)
    out = compare(ballad, genre="rock_indie", stage="master")
    assert _check_band_numbers(out) >= 1  # the mids: 4.9 dB under the target, a 3.1 dB boost
    pt = compare(ballad, genre="rock_indie", stage="master", lang="pt-BR")
    assert any("até o alvo" in s["action"] for s in pt["suggestions"])


@pytest.mark.parametrize(
    ("track", "genre"),
    [("rock", "rock_indie"), ("ballad", "rock_indie"), ("orchestral", "orchestral")],
)
def test_real_band_suggestions_quote_the_target_the_report_shows(track: str, genre: str) -> None:
    # A band suggestion quotes the target its band is judged against (turned by the track's
    # tilt), the same one the score's band rows and the CLI report's table show, and its move
    # follows from that target and the table's levels. Before: the table showed the genre's
    # own targets (Metal madness: mids "-5.5 (-9..-2)") and the advice -4.2 dB.
    from rich.console import Console

    from soundy.cli.analyze import render_report

    m = measure_file(str(track_file(track)), max_duration_s=3600.0)
    for lang in ("en", "pt-BR"):
        out = compare(m, genre=genre, stage="master", lang=lang)
        rows = {r["metric"]: r for r in out["score"]["metrics"]}
        console = Console(record=True, width=240)
        render_report({**m, **out}, console, lang)  # type: ignore[typeddict-item]
        table = console.export_text()
        bands = [s for s in out["suggestions"] if s["metric"].startswith("spectrum.bands.")]
        assert bands, out["suggestions"]  # every one of these tracks gets band advice
        for s in bands:
            row = rows[s["metric"]]
            assert s["target"] == row["target"], s
            quoted = number(row["target"], lang)
            target_word = "target" if lang == "en" else "alvo"
            assert re.search(
                rf"{target_word}(?: of|:| de)? {re.escape(quoted)} dB", s["message"]
            ), s
            if lang == "en":
                key = s["metric"].removeprefix("spectrum.bands.")
                line = next(x for x in table.splitlines() if f" {key} " in x and " Hz " in x)
                assert f"{quoted} (" in line, (line, s["message"])
        if lang == "en":
            assert _check_band_numbers(out) >= 1
            assert "band targets above are turned" in table


def _shaped(seconds: float, density_db: Any, seed: int = 0) -> np.ndarray:
    """Stereo noise with a power density of ``density_db(f)`` (dB), unit RMS; left and right
    correlated about 0.8, as in a mix."""
    n = int(seconds * RATE_HZ)
    f = np.fft.rfftfreq(n, 1 / RATE_HZ)
    gain_db = np.array([density_db(x) if x >= 15.0 else -200.0 for x in f])
    rng = np.random.default_rng(seed)
    mid, side = rng.standard_normal((2, n))
    channels = np.stack([mid + 0.33 * side, mid - 0.33 * side])
    frames = np.fft.irfft(np.fft.rfft(channels, axis=1) * 10 ** (gain_db / 20), n, axis=1).T
    return frames / frames.std()


def test_a_band_far_under_the_rest_explains_its_move_on_a_synthetic_signal(tmp_path: Path) -> None:
    # rock_indie's curve with the mids 5 dB down and the presence 3 dB up.
    curve = genre_density_db(get_profile("rock_indie").percussion_db)

    def density(f: float) -> float:
        return curve(f) - (5.0 if 500 <= f < 2000 else 0.0) + (3.0 if 5000 <= f < 10000 else 0.0)

    m = _measure(tmp_path / "mids.wav", 0.1 * _shaped(20.0, density))
    out = compare(m, genre="rock_indie", stage="master")
    assert "spectrum.bands.mid" in _keys(out)
    assert _check_band_numbers(out) >= 1


# 4. A tilt EQ and a band move at the same frequencies: one number to dial, both parts shown.

_WITH_TILT = re.compile(
    r"(?:(cut|boost) .+ by about ([0-9.]+) dB in all|about ([+-][0-9.]+) dB in all|"
    r"would need ([0-9.]+) dB in all)"
)


def _check_tilt_and_bands(out: Any) -> int:
    """With a tilt EQ asked, every band EQ action states its sum with it (and the sum adds up);
    returns how many did."""
    keys = {s["key"] for s in out["suggestions"]}
    tilt_eq = bool(keys & {"tilt.low", "tilt.high"})
    checked = 0
    for s in out["suggestions"]:
        if not s["metric"].startswith("spectrum.bands.") or s["action"].startswith(
            ("Leave this band", "Against the other bands")
        ):
            continue
        assert ("tilt EQ" in s["action"]) == tilt_eq, s
        if not tilt_eq:
            continue
        tilt = float(re.search(r"gives it ([+-][0-9.]+) dB", s["action"])[1])  # type: ignore[index]
        move = float(re.search(r"own move is ([+-][0-9.]+) dB", s["action"])[1])  # type: ignore[index]
        verb, amount, signed, far = _WITH_TILT.search(s["action"]).groups()  # type: ignore[union-attr]
        if far:
            net = abs(tilt + move)
            assert float(far) == pytest.approx(net, abs=0.11) and net > 5.95
        elif signed:
            assert (
                float(signed) == pytest.approx(tilt + move, abs=0.11) and abs(float(signed)) < 1.05
            )
        else:
            assert (verb == "boost") == (tilt + move > 0)
            assert float(amount) == pytest.approx(abs(tilt + move), abs=0.11)
        checked += 1
    return checked


def test_a_real_tilt_and_band_moves_add_up(rock: Measurements) -> None:
    out = compare(rock, genre="rock_indie", stage="master")
    assert "tilt.high" in {s["key"] for s in out["suggestions"]}
    assert _check_tilt_and_bands(out) >= 1
    pt = compare(rock, genre="rock_indie", stage="master", lang="pt-BR")
    assert any("EQ de inclinação dá" in s["action"] for s in pt["suggestions"])


def test_a_bright_track_with_a_bass_bump_gets_one_number_per_band(tmp_path: Path) -> None:
    # rock_indie's curve 2 dB/octave brighter with 60-150 Hz 10 dB up (measured: about 1 dB/octave
    # brighter, out of the tilt range): the bass's own move is a cut, the tilt EQ a boost there.
    curve = genre_density_db(get_profile("rock_indie").percussion_db)

    def density(f: float) -> float:
        return curve(f) + 2.0 * math.log2(f / 1000.0) + (10.0 if 60 <= f < 150 else 0.0)

    m = _measure(tmp_path / "bright.wav", 0.1 * _shaped(20.0, density))
    out = compare(m, genre="rock_indie", stage="master")
    tilt = _keys(out)["spectrum.tilt_db_per_octave"]
    assert tilt["key"] == "tilt.high" and "at 50 Hz" in tilt["action"]
    assert _check_tilt_and_bands(out) >= 1
    bass = _keys(out)["spectrum.bands.bass"]["action"]
    assert re.search(r"gives it \+[0-9.]+ dB, this band's own move is -[0-9.]+ dB", bass), bass


def test_band_targets_turn_by_one_broad_tilt_eq_at_most(tmp_path: Path) -> None:
    # rock_indie's curve 3 dB/octave brighter: the bands are judged against targets turned by
    # 1.5 dB/octave (MAX_TURN_DB_PER_OCTAVE), not by the whole difference, in the score and in
    # nearest_genres alike.
    p = get_profile("rock_indie")
    curve = genre_density_db(p.percussion_db)
    m = _measure(
        tmp_path / "b.wav", 0.1 * _shaped(20.0, lambda f: curve(f) + 3.0 * math.log2(f / 1000.0))
    )
    targets = build_targets(genre="rock_indie", stage="master")
    tilt = m["spectrum"]["tilt_db_per_octave"]
    assert tilt is not None and tilt - targets.metrics["spectrum.tilt_db_per_octave"].target > 2.0
    raw = {k: r.target for k, r in targets.bands.items()}
    expected = tilted_targets(raw, MAX_TURN_DB_PER_OCTAVE)
    judged = band_targets_for(m, targets)
    assert {k: round(r.target, 6) for k, r in judged.items()} == {
        k: round(v, 6) for k, v in expected.items()
    }
    levels = {b["key"]: b["level_db"] for b in m["spectrum"]["bands"]}
    tilt_target = targets.metrics["spectrum.tilt_db_per_octave"].target
    assert shape_distance_db(m, raw, tilt_target) == pytest.approx(
        math.sqrt(sum((levels[k] - expected[k]) ** 2 for k in expected) / len(expected))
    )


def test_a_band_the_tilt_eq_already_moves_is_left_about_as_it_is() -> None:
    # rock_indie's own band targets with the high mids 5 dB down, and a tilt read 1.1 dB/octave
    # brighter (a hand-made result): the tilt EQ would move the outer bands and their own
    # moves undo that, so the sum is about 0: "leave it about as it is", with both parts.
    base = on_target_result("rock_indie")
    levels = {b["key"]: b["level_db"] for b in base["spectrum"]["bands"]}
    levels["high_mid"] -= 5.0
    total_db = 10 * math.log10(sum(10 ** (v / 10) for v in levels.values()))
    result = with_changes(
        base,
        **{"spectrum.tilt_db_per_octave": -1.0},
        **{f"bands.{k}": v - total_db for k, v in levels.items()},
    )
    for lang, words in (("en", "about as it is"), ("pt-BR", "mais ou menos como está")):
        out = compare(result, genre="rock_indie", stage="master", lang=lang)
        assert "tilt.high" in {s["key"] for s in out["suggestions"]}
        left = [s for s in out["suggestions"] if words in s["action"]]
        assert left, [s["action"] for s in out["suggestions"]]
        if lang == "en":
            assert _check_tilt_and_bands(out) >= len(left)


def test_beside_a_tilt_eq_a_band_is_far_only_when_the_sum_is() -> None:
    # The mids 5 dB down and the tilt read 1.1 dB/octave brighter: the sub's own move (-7.4 dB)
    # is over 6 dB, but with the tilt EQ's +5.4 dB there the sum is a 2.0 dB cut.
    base = on_target_result("rock_indie")
    levels = {b["key"]: b["level_db"] for b in base["spectrum"]["bands"]}
    levels["mid"] -= 5.0
    total_db = 10 * math.log10(sum(10 ** (v / 10) for v in levels.values()))
    result = with_changes(
        base,
        **{"spectrum.tilt_db_per_octave": -1.0},
        **{f"bands.{k}": v - total_db for k, v in levels.items()},
    )
    out = compare(result, genre="rock_indie", stage="master")
    sub = _keys(out)["spectrum.bands.sub"]
    assert sub["key"] != "band.far" and "cut 20-60 Hz by about 2.0 dB in all" in sub["action"]
    assert "own move is -7.4 dB" in sub["action"]
    assert _check_tilt_and_bands(out) >= 1
