"""Stored results take the one range shape of ``soundy.result.Range`` (docs/result.md).

``targets.bands[]`` was ``{key, target_db, min_db, max_db}``; it becomes
``{key, target, target_min, target_max}`` like every other range. ``targets.stage`` reads
``mix`` where it read ``pre-master mix`` (``soundy.result.Stage``). One UPDATE per change, in
PostgreSQL's jsonb functions; rows already converted are left alone, so it is idempotent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rename_band_keys(old: tuple[str, str, str], new: tuple[str, str, str]) -> None:
    target, low, high = new
    op.execute(
        f"""
        UPDATE jobs SET result = jsonb_set(
            result, '{{targets,bands}}',
            (SELECT coalesce(jsonb_agg(
                        jsonb_build_object(
                            'key', band->'key',
                            '{target}', band->'{old[0]}',
                            '{low}', band->'{old[1]}',
                            '{high}', band->'{old[2]}')
                        ORDER BY position), '[]'::jsonb)
             FROM jsonb_array_elements(result->'targets'->'bands')
                  WITH ORDINALITY AS bands(band, position)))
        WHERE jsonb_typeof(result->'targets'->'bands') = 'array'
          AND jsonb_path_exists(result, '$.targets.bands[*].{old[0]}')
        """
    )


def _set_stage(old: str, new: str) -> None:
    op.execute(
        f"""
        UPDATE jobs SET result = jsonb_set(result, '{{targets,stage}}', '"{new}"')
        WHERE result->'targets'->>'stage' = '{old}'
        """
    )


def upgrade() -> None:
    _rename_band_keys(("target_db", "min_db", "max_db"), ("target", "target_min", "target_max"))
    _set_stage("pre-master mix", "mix")


def downgrade() -> None:
    _rename_band_keys(("target", "target_min", "target_max"), ("target_db", "min_db", "max_db"))
    _set_stage("mix", "pre-master mix")
