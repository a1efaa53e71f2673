"""jobs.analysis_stage: what the file is, a mix before mastering or a finished master.

The stage sets the loudness, true-peak and DR targets (docs/scoring.md); the genre no longer
does. It is not ``jobs.stage``, the job's progress stage (queued, measuring, ...). Existing jobs
were compared as masters (or against a pre-master genre, whose targets the stage now sets), so
they read ``master``.

Revision ID: 0004_job_stage
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_job_stage"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "jobs",
        sa.Column(
            "analysis_stage", sa.String(10), nullable=False, server_default=sa.text("'master'")
        ),
    )
    op.create_check_constraint(
        "ck_jobs_analysis_stage", "jobs", "analysis_stage IN ('mix', 'master')"
    )


def downgrade() -> None:
    op.drop_constraint("ck_jobs_analysis_stage", "jobs", type_="check")
    op.drop_column("jobs", "analysis_stage")
