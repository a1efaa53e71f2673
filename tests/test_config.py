"""soundy.config: what an operator can set is what docs/configuration.md lists."""

from __future__ import annotations

from pathlib import Path

from soundy.config import Settings

CONFIGURATION_DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented_under_its_environment_variable() -> None:
    """Every limit (size, duration, rate) and every other setting has a row in the docs."""
    doc = CONFIGURATION_DOC.read_text(encoding="utf-8")
    missing = [
        f"SOUNDY_{name.upper()}"
        for name in Settings.model_fields
        if f"`SOUNDY_{name.upper()}`" not in doc
    ]
    assert missing == []
