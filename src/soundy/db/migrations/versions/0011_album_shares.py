"""shares.album_id: a read-only link may open an album's report (``POST /api/albums/{id}/share``)
instead of a job's. A row names exactly one of ``job_id`` and ``album_id`` (a check constraint);
one live link per album, as per job (a partial unique index). Rows go with their album
(``ON DELETE CASCADE``). Existing rows are job links and stay as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "shares",
        sa.Column(
            "album_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("albums.id", ondelete="CASCADE"),
        ),
    )
    op.alter_column("shares", "job_id", nullable=True)
    op.create_check_constraint(
        "ck_shares_one_target", "shares", "(job_id IS NULL) <> (album_id IS NULL)"
    )
    op.create_index(
        "ux_shares_album_live",
        "shares",
        ["album_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM shares WHERE album_id IS NOT NULL")
    op.drop_index("ux_shares_album_live", table_name="shares")
    op.drop_constraint("ck_shares_one_target", "shares", type_="check")
    op.alter_column("shares", "job_id", nullable=False)
    op.drop_column("shares", "album_id")
