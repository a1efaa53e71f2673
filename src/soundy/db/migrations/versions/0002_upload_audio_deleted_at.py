"""uploads.audio_deleted_at (audio retention) and the indexes of the reconciler's purges.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("uploads", sa.Column("audio_deleted_at", sa.DateTime(timezone=True)))
    # The reconciler's purges look up the jobs of an upload, and old uploads with their audio.
    op.create_index("ix_jobs_upload", "jobs", ["upload_id"])
    op.create_index(
        "ix_uploads_audio_kept_created",
        "uploads",
        ["created_at"],
        postgresql_where=sa.text("audio_deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_uploads_audio_kept_created", table_name="uploads")
    op.drop_index("ix_jobs_upload", table_name="jobs")
    op.drop_column("uploads", "audio_deleted_at")
