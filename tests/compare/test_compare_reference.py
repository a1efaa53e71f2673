"""Reference mode on hand-built results: differences, similarity, targets from the reference."""

from __future__ import annotations

from compare_builders import on_target_result, with_changes

from soundy.compare import compare


def test_a_track_against_itself_is_identical() -> None:
    result = on_target_result("house")
    out = compare(result, reference=result)
    assert out["reference"]["similarity"] == 100.0
    assert out["score"]["overall"] == 100.0
    assert out["suggestions"] == []
    assert all(m["delta"] == 0 for m in out["reference"]["metrics"])
    assert all(b["delta_db"] == 0 for b in out["reference"]["bands"])
    assert out["targets"]["source"] == "reference"


def test_differences_are_reference_minus_current_and_lower_the_similarity() -> None:
    reference = on_target_result("house")
    result = with_changes(
        reference, **{"loudness.integrated_lufs": -13.5, "bands.air": -25.0, "stereo.width": 0.02}
    )
    out = compare(result, reference=reference)
    rows = {m["metric"]: m for m in out["reference"]["metrics"]}
    assert rows["loudness.integrated_lufs"]["delta"] == -9.5 + 13.5
    bands = {b["key"]: b for b in out["reference"]["bands"]}
    assert bands["air"]["delta_db"] == round(reference_air(reference) + 25.0, 2)
    assert 0 < out["reference"]["similarity"] < 100
    metrics = {s["metric"]: s for s in out["suggestions"]}
    assert metrics["loudness.integrated_lufs"]["delta"] == 4.0
    assert "(reference: -9.5 LUFS)" in metrics["loudness.integrated_lufs"]["message"]
    assert metrics["stereo.width"]["status"] == "low"


def reference_air(result: dict) -> float:
    return next(b["level_db"] for b in result["spectrum"]["bands"] if b["key"] == "air")


def test_similarity_falls_with_distance() -> None:
    reference = on_target_result("trap")
    values = []
    for offset in (0.0, 1.0, 3.0, 6.0):
        result = with_changes(
            reference,
            **{"loudness.integrated_lufs": -10.5 - offset, "dynamics.dr": 7.0 + offset},
        )
        values.append(compare(result, reference=reference)["reference"]["similarity"])
    assert values == sorted(values, reverse=True) and values[0] == 100.0 and values[-1] < 90


def test_a_clipping_or_out_of_phase_reference_is_not_a_target_to_match() -> None:
    reference = with_changes(
        on_target_result("trap"),
        **{"peaks.true_peak_dbtp": 1.2, "peaks.clipped_samples": 500, "stereo.correlation": -0.3},
    )
    targets = {
        m["metric"]: m for m in compare(reference, reference=reference)["targets"]["metrics"]
    }
    assert targets["peaks.true_peak_dbtp"]["target"] <= 0.0
    assert targets["peaks.clipped_samples"]["target"] == 0.0
    assert targets["stereo.correlation"]["target"] >= 0.0


def test_reference_mode_with_a_mono_reference_leaves_stereo_out() -> None:
    reference = on_target_result("trap")
    reference["stereo"] = {"correlation": None, "width": None, "balance_db": None}
    out = compare(on_target_result("trap"), reference=reference)
    assert not any(m["metric"].startswith("stereo.") for m in out["reference"]["metrics"])
    assert out["reference"]["similarity"] == 100.0


def test_portuguese_messages_agree_with_the_feminine_referencia() -> None:
    # "abaixo do alvo" but "abaixo da referência": the article is contracted with "de" and
    # agrees with the word (the catalogue's against.the.* / against.subject.*).
    reference = on_target_result("house")
    result = with_changes(reference, **{"stereo.width": 0.02, "bands.air": -40.0})
    out = compare(result, reference=reference, lang="pt-BR")
    messages = {s["metric"]: s["message"] for s in out["suggestions"]}
    assert "abaixo da referência" in messages["stereo.width"], messages["stereo.width"]
    assert "da referência de" in messages["spectrum.bands.air"], messages["spectrum.bands.air"]
    text = " ".join(messages.values())
    assert " do referência" not in text and " o referência" not in text
    english = compare(result, reference=reference, lang="en")["suggestions"]
    width = next(s["message"] for s in english if s["metric"] == "stereo.width")
    assert "below the reference" in width


def test_a_band_far_from_the_reference_is_told_of_the_reference_not_of_genres() -> None:
    # Against a reference track, "it is closer to Fullon; choose one of those" is no advice:
    # the producer chose the reference. pt-BR contracts "de" with its article.
    reference = on_target_result("house")
    result = with_changes(reference, **{"bands.air": -60.0})
    for lang, far, other in (
        ("en", "far from the reference track", "a reference closer to the sound you want"),
        ("pt-BR", "longe da faixa de referência", "uma referência mais próxima do som"),
    ):
        out = compare(result, reference=reference, lang=lang)
        air = next(s for s in out["suggestions"] if s["metric"] == "spectrum.bands.air")
        assert far in air["action"] and other in air["action"], air["action"]
        assert "de a " not in air["action"]
        assert (
            "choose one of those" not in air["action"] and "escolha um desses" not in air["action"]
        )
