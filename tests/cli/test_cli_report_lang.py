"""``soundy analyze FILE --lang pt-BR``: the single-file report in Brazilian Portuguese, its labels
from the message catalogue (soundy.compare.messages, keys ``cli.report.*``) and its numbers with
decimal commas; in English the same labels as before. The installed command on a synthetic
stereo file with a tempo and a key (tests/musical_signals.py), in a subprocess."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from cli_run import run_analyze
from musical_signals import write_clicks_over_a_minor_triad
from soundy.compare.messages import CATALOGUE

REPORT = {key: entry for key, entry in CATALOGUE.items() if key.startswith("cli.report.")}
# The table's own labels: the header, the sections and the rows (one cell each).
TABLE_LABELS = [
    key
    for key in REPORT
    if key == "cli.report.header" or key.startswith(("cli.report.section.", "cli.report.row."))
]


def _fragments(template: str) -> set[str]:
    """The literal phrases of a template (placeholders and the header's "|" cut it), without
    the spaces and punctuation at their ends; only the ones with a letter in them."""
    pieces = (literal for literal, _, _, _ in string.Formatter().parse(template))
    phrases = (p.strip(" ,:;()") for literal in pieces for p in literal.split("|"))
    return {p for p in phrases if any(c.isalpha() for c in p)}


def _only_in(lang: str) -> set[str]:
    """Every phrase of the report's entries in ``lang`` that the other language's text of the
    same entry does not have. One letter is left out: the note names (C, D, E, A, ...) are
    also Portuguese words ("A", "E"); the key names are checked whole below."""
    other = "en" if lang == "pt-BR" else "pt-BR"
    return {
        phrase
        for entry in REPORT.values()
        for phrase in _fragments(entry[lang]) - _fragments(entry[other])
        if len(phrase) > 1
    }


def _shown(phrase: str, output: str) -> bool:
    """``phrase`` as a whole word (or words) of ``output``."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", output) is not None


@pytest.fixture(scope="module")
def clicks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clicks_over_a_minor_triad(tmp_path_factory.mktemp("report") / "clicks.wav")


@pytest.mark.parametrize(
    "options",
    [
        ("--genre", "rock_indie", "--stage", "mix"),  # a genre: score, suggestions, nearest
        ("--destination", "club"),  # the destination's targets
        ("--reference", "REFERENCE"),  # a reference track (the file itself)
    ],
    ids=["genre", "destination", "reference"],
)
def test_the_report_in_portuguese_has_no_english_label_and_english_is_as_before(
    clicks: Path, options: tuple[str, ...]
) -> None:
    args = [clicks.as_posix() if a == "REFERENCE" else a for a in options]
    en = run_analyze(*args, clicks.as_posix(), columns=240)
    pt = run_analyze(*args, "--lang", "pt-BR", clicks.as_posix(), columns=240)
    assert en.returncode == 0, en.stderr
    assert pt.returncode == 0, pt.stderr
    en_text, pt_text = " ".join(en.stdout.split()), " ".join(pt.stdout.split())

    english = sorted(p for p in _only_in("en") if _shown(p, pt_text))
    assert english == [], f"English left in the pt-BR report: {english}"
    portuguese = sorted(p for p in _only_in("pt-BR") if _shown(p, en_text))
    assert portuguese == [], f"Portuguese in the English report: {portuguese}"

    # Every label of the table that the English report shows, the Portuguese one shows in
    # Portuguese (so the check above is not passed by a report that shows nothing).
    shown = 0
    for key in TABLE_LABELS:
        for en_label, pt_label in zip(
            REPORT[key]["en"].split("|"), REPORT[key]["pt-BR"].split("|"), strict=True
        ):
            if _shown(en_label, en_text):
                shown += 1
                assert _shown(pt_label, pt_text), (key, pt_label)
    assert shown >= 28  # 4 columns, 6 sections, 22 to 24 rows

    # The numbers with a decimal comma (the ".." between a target's bounds is no decimal).
    assert re.search(r"\d\.\d", pt.stdout) is None, pt.stdout
    result = json.loads(run_analyze(*args, "--json", clicks.as_posix()).stdout)
    lufs = f"{result['loudness']['integrated_lufs']:.1f} LUFS"
    assert lufs in en_text and lufs.replace(".", ",") in pt_text
    # The key (A minor) and its relative (C major) with the solfège names.
    musical = result["musical"]
    assert musical["key"] in en_text and musical["key_relative"] in en_text
    assert "Lá menor" in pt_text and "Dó maior" in pt_text

    if "--genre" in options:
        assert "Compared with genre Rock / Indie, stage: mix" in en_text
        assert "Comparado com o gênero Rock / Indie, etapa: mixagem" in pt_text
        assert "Score:" in en_text and "Nota:" in pt_text and "(alvo: " in pt_text
        nearest = result["nearest_genres"][0]
        assert f"{nearest['label']} ({nearest['distance_db']:.1f} dB)".replace(".", ",") in pt_text
    elif "--destination" in options:
        assert (
            "Compared with the destination's targets, stage: master, destination: club" in en_text
        )
        assert "Comparado com os alvos do destino, etapa: master, destino: clube" in pt_text
    else:
        assert "Compared with a reference track, stage: master" in en_text
        assert "Comparado com uma faixa de referência, etapa: master" in pt_text
        # The reference's bounds are measured values, rounded as their target is.
        bounds = re.findall(r"\((-?[\d.]+)\.\.(-?[\d.]+)\)", en.stdout)
        assert bounds, en.stdout
        assert all(len(b.partition(".")[2]) <= 2 for pair in bounds for b in pair), bounds
