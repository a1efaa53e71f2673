"""uploads.audio_deleted_at: when the reconciler deleted the stored audio (retention).

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


def downgrade() -> None:
    op.drop_column("uploads", "audio_deleted_at")
