"""What the code cites is inside the repository: no file under src/ points at a document outside
it, every ``docs/<page>.md`` it names exists, and every ``docs/architecture.md#<section>`` citation
(in src/, tests/, docs/ and the README) names a heading of that page."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Documents outside the repository that code used to cite, and paths that lead out of it.
OUTSIDE = re.compile(r"DESIGN\.md|\bDESIGN\b|\.\./shared|/work/|\bshared/reference\b")
DOC_PAGE = re.compile(r"\bdocs/([\w-]+\.md)")
ARCHITECTURE_CITATION = re.compile(r"(?:docs/|\]\()architecture\.md#([\w-]+)")


def _text_files(top: Path) -> list[Path]:
    """Every text file under ``top`` (built extensions, caches and egg-info skipped)."""
    files = []
    for path in sorted(top.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if any(part.endswith(".egg-info") for part in path.parts):
            continue
        data = path.read_bytes()
        if b"\0" not in data:
            files.append(path)
    return files


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to -."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {_slug(heading) for heading in headings}


def test_nothing_under_src_points_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _text_files(ROOT / "src")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)


def test_every_docs_page_named_in_src_exists() -> None:
    missing = [
        f"{path.relative_to(ROOT)}: docs/{page}"
        for path in _text_files(ROOT / "src")
        for page in DOC_PAGE.findall(path.read_text(encoding="utf-8"))
        if not (DOCS / page).is_file()
    ]
    assert not missing, "\n".join(missing)


def test_every_architecture_citation_names_a_heading() -> None:
    anchors = _anchors(DOCS / "architecture.md")
    places = [
        *_text_files(ROOT / "src"),
        *_text_files(ROOT / "tests"),
        *_text_files(DOCS),
        ROOT / "README.md",
    ]
    cited = {
        (path.relative_to(ROOT), anchor)
        for path in places
        for anchor in ARCHITECTURE_CITATION.findall(path.read_text(encoding="utf-8"))
    }
    assert any(path.parts[0] == "src" for path, _ in cited), "src/ cites no section any more"
    broken = sorted(f"{path}: #{anchor}" for path, anchor in cited if anchor not in anchors)
    assert not broken, "\n".join(broken)


def test_the_anchor_rule_matches_githubs() -> None:
    assert _slug("Measurement facts the code cites") == "measurement-facts-the-code-cites"
    assert _slug("`POST /api/clients`") == "post-apiclients"
    assert _slug("Queue and Redis") == "queue-and-redis"
