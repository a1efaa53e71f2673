"""ix_jobs_client_in_flight: a client's pending and processing jobs, for the in-flight count of
``POST /api/audio/analyze`` (soundy.jobs.service.submit). Without it the count read every job
the client ever had (ix_jobs_client_created), so a POST cost more the more jobs a client had.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_jobs_client_in_flight",
        "jobs",
        ["client_id"],
        postgresql_where=sa.text("status IN ('pending', 'processing')"),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_client_in_flight", table_name="jobs")
