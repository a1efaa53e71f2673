"""jobs.analysis_stage: what the file is, a mix before mastering or a finished master.

The stage sets the loudness, true-peak and DR targets (docs/scoring.md); the genre no longer
does. It is not ``jobs.stage``, the job's progress stage (queued, measuring, ...). Existing jobs
read ``master``, except those against one of the original system's four "pre-master mix" genres:
their user said the file was a mix, so they read ``mix`` (their comparison, derived on read,
then keeps the mix targets they were compared with).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"

#: The original system's genres whose targets were for a mix before mastering.
PRE_MASTER_GENRES = ("pop", "sertanejo", "piseiro_forro", "rock_indie")
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
    genres = ", ".join(f"'{genre}'" for genre in PRE_MASTER_GENRES)
    op.execute(f"UPDATE jobs SET analysis_stage = 'mix' WHERE genre IN ({genres})")


def downgrade() -> None:
    op.drop_constraint("ck_jobs_analysis_stage", "jobs", type_="check")
    op.drop_column("jobs", "analysis_stage")
