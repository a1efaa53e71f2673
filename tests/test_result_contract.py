"""The result contract (soundy.result) ties the layers together: the types, docs/result.md, the
band table, the score parts and a real analysis must all name the same keys."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from typing_extensions import is_typeddict

from soundy import result as contract
from soundy.compare.metrics import PART_WEIGHTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "result.md"


def _documented() -> dict[str, set[str]]:
    """``{section path: keys in its table}`` from the ``## `x` `` / ``### `x.y[]` `` headings."""
    sections: dict[str, set[str]] = {}
    current: str | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{2,3} `([a-z_.\[\]]+)`", line)
        if heading:
            current = heading.group(1)
            sections[current] = set()
        elif line.startswith("#"):
            current = None
        elif current is not None and (row := re.match(r"^\| `([a-z_]+)` \|", line)):
            sections[current].add(row.group(1))
    return sections


def _typed_sections(
    typed: Any, path: str = "", out: dict[str, set[str]] | None = None
) -> dict[str, set[str]]:
    """``{section path: keys}`` for every TypedDict reachable from ``typed``."""
    out = {} if out is None else out
    hints = typing.get_type_hints(typed)
    if path:
        out[path] = set(hints)
    for key, hint in hints.items():
        for inner in _typeddicts_in(hint):
            item = f"{path + '.' if path else ''}{key}{'[]' if _is_list_of(hint, inner) else ''}"
            _typed_sections(inner, item, out)
    return out


def _typeddicts_in(hint: Any) -> list[Any]:
    if is_typeddict(hint):
        return [hint]
    return [t for arg in typing.get_args(hint) for t in _typeddicts_in(arg)]


def _is_list_of(hint: Any, inner: Any) -> bool:
    if typing.get_origin(hint) is list:
        return inner in typing.get_args(hint)
    return any(_is_list_of(arg, inner) for arg in typing.get_args(hint))


def test_docs_list_the_same_keys_as_the_types() -> None:
    documented = _documented()
    typed = _typed_sections(contract.AnalysisResult)
    top = set(typing.get_type_hints(contract.AnalysisResult))
    # Every top-level key has its own section (schema_version is a plain value).
    assert {s for s in documented if "." not in s and not s.endswith("[]")} == top
    for path, keys in typed.items():
        # A list of objects is documented under "path[]"; the list itself may have no table.
        assert path in documented, f"docs/result.md has no section for `{path}`"
        assert documented[path] == keys, f"`{path}`: docs and types differ"
    for path, keys in documented.items():
        if keys:
            assert path in typed, f"docs/result.md documents `{path}`, which the types lack"


def test_a_real_result_fills_every_key_of_the_contract(analysis_result: Any) -> None:
    """What analyze_file returns validates against the types, with nothing dropped or added."""
    validated = TypeAdapter(contract.AnalysisResult).validate_python(analysis_result)
    assert json.loads(json.dumps(validated)) == json.loads(json.dumps(analysis_result))
    missing = [
        path
        for path, keys in _typed_sections(contract.AnalysisResult).items()
        for node in _nodes(analysis_result, path)
        for key in keys - set(node)
        if key != "reference"  # reference mode only
    ]
    assert missing == []


def _nodes(document: Any, path: str) -> list[dict[str, Any]]:
    nodes = [document]
    for part in path.split("."):
        key = part.removesuffix("[]")
        nodes = [n[key] for n in nodes if isinstance(n, dict) and n.get(key) is not None]
        if part.endswith("[]"):
            nodes = [item for n in nodes for item in n]
    return [n for n in nodes if isinstance(n, dict)]


def test_one_band_table_and_one_set_of_score_parts(analysis_result: Any) -> None:
    assert tuple(typing.get_args(contract.BandKey)) == contract.BAND_KEYS
    measured = [(b["key"], b["low_hz"], b["high_hz"]) for b in analysis_result["spectrum"]["bands"]]
    assert measured == [tuple(b) for b in contract.BANDS]
    assert list(typing.get_type_hints(contract.ScoreParts)) == list(PART_WEIGHTS)
    assert list(analysis_result["score"]["parts"]) == list(PART_WEIGHTS)


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (contract.JobStatus, {"pending", "processing", "completed", "failed"}),
        (contract.Mode, {"genre", "reference"}),
        (contract.Destination, {"streaming", "club"}),
        (contract.Stage, {"mix", "master"}),
        (contract.Lang, {"en", "pt-BR"}),
    ],
)
def test_the_vocabulary_is_what_other_programs_send(enum: Any, values: set[str]) -> None:
    """These strings cross the HTTP API, the queue and the database: renaming one breaks them."""
    assert {member.value for member in enum} == values


def test_openapi_documents_the_result(app: Any) -> None:
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    result = schemas["JobOut"]["properties"]["result"]
    ref = next(s["$ref"] for s in result["anyOf"] if "$ref" in s).rsplit("/", 1)[-1]
    properties = schemas[ref]["properties"]
    assert set(properties) == set(typing.get_type_hints(contract.AnalysisResult))
    bands = schemas["BandTarget"]["properties"]
    assert set(bands) == {"key", "target", "target_min", "target_max"}
