"""jobs.song: the song a job is a version of (``AnalyzeRequest.song``), and the index that lists
a client's versions of one song oldest first (``GET /api/songs/{song}``). Existing jobs have no
song.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("song", sa.String(200)))
    op.create_index(
        "ix_jobs_client_song_created",
        "jobs",
        ["client_id", "song", "created_at"],
        postgresql_where=sa.text("song IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_client_song_created", table_name="jobs")
    op.drop_column("jobs", "song")
