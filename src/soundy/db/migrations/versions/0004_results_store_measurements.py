"""Jobs store their measurements only; the comparison is derived when a job is read.

A result stored before this revision is the whole analysis document: the measurements plus the
comparison of the day (``targets``, ``score``, ``suggestions``, ``normalization``,
``reference``). The comparison keys are removed, so every job is compared on read with the
current targets (``soundy.jobs.results``), old ones included.

Downgrade: the comparison cannot be recomputed in SQL; the rows keep their measurements, and
code of an earlier revision shows those results without a score until they are analysed again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPARISON_KEYS = (
    "targets",
    "score",
    "suggestions",
    "normalization",
    "nearest_genres",
    "reference",
)


def upgrade() -> None:
    keys = ", ".join(f"'{key}'" for key in COMPARISON_KEYS)
    op.execute(
        f"""
        UPDATE jobs SET result = result - ARRAY[{keys}]
        WHERE jsonb_typeof(result) = 'object' AND result ?| ARRAY[{keys}]
        """
    )


def downgrade() -> None:
    pass
