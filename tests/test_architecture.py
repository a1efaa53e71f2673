"""docs/architecture.md holds: the rooms import only what their row allows, the analysis engine
imports nothing but numpy, scipy and the decoders, imports sit at the top of their module unless
a comment says why not, and the commands and HTTP routes it lists are the ones that exist."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import typer.main
from fastapi.routing import APIRoute

from soundy import web
from soundy.api.app import create_app
from soundy.cli.main import app as cli_app

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "soundy"
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
# Third-party packages the analysis engine may import (besides the standard library).
ANALYSIS_THIRD_PARTY = {"numpy", "scipy", "soundfile", "av"}
# Modules whose imports inside functions have no reason comment yet: they are being rewritten
# with the typed result (issue 11, items 1 and 2), which settles their imports.
_IMPORTS_NOT_YET_REVIEWED: set[str] = set()


def _section(heading: str) -> str:
    """The text under a ``## `` or ``### `` heading, up to the next heading of any level."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#)", ARCHITECTURE, re.M | re.S)
    assert match, f"docs/architecture.md has no section {heading!r}"
    return match.group(1)


def _allowed_imports() -> dict[str, set[str]]:
    """room -> the rooms it may import, from the table of "The rooms"."""
    allowed: dict[str, set[str]] = {}
    for line in _section("The rooms").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`soundy."):
            allowed[cells[0].strip("`")] = set(re.findall(r"`(soundy\.\w+)`", cells[2]))
    return allowed


def _room_files(room: str) -> list[Path]:
    name = room.split(".", 1)[1]
    package = SRC / name
    return sorted(package.rglob("*.py")) if package.is_dir() else [SRC / f"{name}.py"]


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports anywhere (functions and ``if TYPE_CHECKING:`` included);
    ``from soundy import metrics`` counts as ``soundy.metrics``."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "soundy":
                modules.update(f"soundy.{alias.name}" for alias in node.names)
            else:
                modules.add(node.module)
    return modules


def test_the_rooms_table_covers_every_package_and_module() -> None:
    rooms = set(_allowed_imports())
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    present = {f"soundy.{name}" for name in packages | modules}
    assert rooms == present


def test_each_room_imports_only_the_rooms_its_row_allows() -> None:
    wrong: list[str] = []
    for room, allowed in _allowed_imports().items():
        for path in _room_files(room):
            for module in _imported_modules(path):
                target = ".".join(module.split(".")[:2])
                if module.startswith("soundy.") and target != room and target not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_analysis_engine_imports_only_numpy_scipy_and_the_decoders() -> None:
    wrong = []
    for path in _room_files("soundy.analysis"):
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if top not in ANALYSIS_THIRD_PARTY | {"soundy"} and top not in sys.stdlib_module_names:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)


def _function_imports(tree: ast.AST) -> list[tuple[ast.stmt, set[int]]]:
    """Imports inside function bodies, each with the line numbers of every import statement of
    its function (``if TYPE_CHECKING:`` blocks sit at module level, so none is counted)."""
    found: dict[int, tuple[ast.stmt, set[int]]] = {}
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        nodes = [node for node in ast.walk(func) if isinstance(node, ast.Import | ast.ImportFrom)]
        lines = {n for node in nodes for n in range(node.lineno, (node.end_lineno or 0) + 1)}
        found.update({node.lineno: (node, lines) for node in nodes})
    return list(found.values())


def _has_reason(lines: list[str], node: ast.stmt, import_lines: set[int]) -> bool:
    """A comment on the import's own lines, or above it (past the other imports and blank lines
    of the same function); ``noqa`` and ``type: ignore`` are not reasons."""

    def reason(text: str) -> bool:
        comment = text.partition("#")[2].strip()
        return bool(comment) and not comment.startswith(("noqa", "type:"))

    own = range(node.lineno, (node.end_lineno or node.lineno) + 1)
    if any(reason(lines[n - 1]) for n in own):
        return True
    n = node.lineno - 1
    while n >= 1 and (n in import_lines or not lines[n - 1].strip()):
        n -= 1
    return n >= 1 and lines[n - 1].strip().startswith("#") and reason(lines[n - 1])


def test_imports_inside_functions_say_why() -> None:
    """Imports belong at the top of the module; one inside a function (the CLI's start-up path,
    an optional extra, an analysis process's warm-up) carries a comment with the reason."""
    silent = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative in _IMPORTS_NOT_YET_REVIEWED:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node, import_lines in _function_imports(ast.parse(text)):
            if not _has_reason(lines, node, import_lines):
                silent.append(f"src/soundy/{relative}:{node.lineno}: {ast.unparse(node)}")
    assert not silent, "\n".join(silent)


def _commands(group: object, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, command in getattr(group, "commands", {}).items():
        sub = _commands(command, f"{prefix}{name} ")
        names.update(sub or {f"{prefix}{name}"})
    return names


def test_the_commands_listed_are_the_commands_that_exist() -> None:
    listed = set(re.findall(r"`soundy ([a-z]+(?: [a-z]+)?)", _section("Command line")))
    # "soundy keys create NAME": the second word is a sub-command only for groups.
    exist = _commands(typer.main.get_command(cli_app))
    listed = {name if name in exist else name.split()[0] for name in listed}
    assert listed == exist


def test_the_http_routes_listed_are_the_routes_that_exist() -> None:
    listed = set(re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`]*)`", _section("HTTP routes")))
    app = create_app()
    exist = {
        (method, path)
        for method_path in app.openapi()["paths"].items()
        for path, methods in [method_path]
        for method in (m.upper() for m in methods)
    }
    exist |= {("GET", "/docs"), ("GET", "/openapi.json")}
    for route in web.router.routes:
        assert isinstance(route, APIRoute)
        exist.add(("GET", route.path.replace("{path:path}", "{path}")))
    assert listed == exist
