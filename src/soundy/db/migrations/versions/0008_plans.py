"""Plans and quotas: ``clients.plan``, ``clients.revoked_at``, the ``plans`` table of the
operators' limits, and ``jobs.quota_exempt``.

``clients.plan`` NULL means the default plan (``SOUNDY_DEFAULT_PLAN``), so every existing
client, anonymous or key, keeps working under it. A ``plans`` row overrides the configured
analyses per month of its plan (NULL = unlimited). ``jobs.quota_exempt`` marks jobs that do
not count against the monthly quota (an operator's retry); existing jobs count.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("plan", sa.String(40)))
    op.add_column("clients", sa.Column("revoked_at", sa.DateTime(timezone=True)))
    op.create_table(
        "plans",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("analyses_per_month", sa.Integer()),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.add_column(
        "jobs",
        sa.Column("quota_exempt", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade() -> None:
    op.drop_column("jobs", "quota_exempt")
    op.drop_table("plans")
    op.drop_column("clients", "revoked_at")
    op.drop_column("clients", "plan")
