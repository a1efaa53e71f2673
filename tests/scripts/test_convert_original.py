"""scripts/convert_original.py: re-running it reproduces the shipped genre profiles, its stereo
formula holds on measured noise, and the runtime package neither carries nor imports it."""

from __future__ import annotations

import ast
import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "convert_original.py"
# Where the original system's data came from, on the machines that have it (the repository keeps
# a copy next to the script).
SHARED_SOURCE = Path("/work/shared/reference/original-genre-targets.json")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("convert_original", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


convert_original = _load_script()


def test_the_copy_of_the_original_matches_the_shared_reference() -> None:
    if not SHARED_SOURCE.is_file():
        pytest.skip("shared reference not present on this machine")
    assert json.loads(SHARED_SOURCE.read_text()) == json.loads(
        convert_original.SOURCE_FILE.read_text()
    )


def test_rerunning_the_conversion_reproduces_the_shipped_files() -> None:
    files = convert_original.convert_all()
    genres_dir = convert_original.GENRES_DIR
    assert set(files) == {p.name for p in genres_dir.glob("*.json")}
    for name, text in files.items():
        assert (genres_dir / name).read_text(encoding="utf-8") == text, name
    assert convert_original.main(["--check"]) == 0


def test_check_reports_a_profile_that_differs(tmp_path: Path) -> None:
    for path in convert_original.GENRES_DIR.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "trap.json").write_text("{}\n", encoding="utf-8")
    assert convert_original.main(["--check", "--out", str(tmp_path)]) == 1
    assert convert_original.main(["--out", str(tmp_path)]) == 0
    assert convert_original.main(["--check", "--out", str(tmp_path)]) == 0


def test_width_from_correlation_matches_measured_stereo_noise() -> None:
    """width = (1 - r) / (1 + r) for equal-power channels: check on synthesized noise."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 200_000))
    for r in (0.95, 0.875, 0.5, 0.18, 0.0):
        left = a
        right = r * a + math.sqrt(1 - r * r) * b
        pearson = float(np.corrcoef(left, right)[0, 1])
        mid, side = (left + right) / 2, (left - right) / 2
        width = float(np.mean(side**2) / np.mean(mid**2))
        assert convert_original.correlation_to_width(pearson) == pytest.approx(width, rel=0.02)


def test_the_runtime_package_does_not_carry_the_script() -> None:
    assert importlib.util.find_spec("soundy.compare.convert_original") is None
    package = ROOT / "src" / "soundy"
    assert not list(package.rglob("original_genre_targets.json"))
    importers = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or "", *(alias.name for alias in node.names)]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any("convert_original" in name for name in names):
                importers.append(path)
    assert not importers
