"""client_jobs_in_flight: each client's count of pending and processing jobs, kept by a trigger
on ``jobs``, so ``soundy_create_job()`` (``POST /api/audio/analyze``) reads one row instead of
counting the client's in-flight jobs.

0013's count stopped at the limit, but each row it counted was checked in the heap (no
index-only scan on a table this updated): with a high ``SOUNDY_MAX_JOBS_IN_FLIGHT_PER_CLIENT``
(the load bench's 1,000,000) and thousands of pending jobs a POST cost PostgreSQL 0.3-0.8 ms.

The counter cannot drift from the rows: the trigger runs in the transaction that changes a
job (AFTER INSERT, AFTER UPDATE OF status or client_id when the row enters or leaves the
in-flight statuses or changes client, AFTER DELETE, including the ON DELETE CASCADE of a
client's deletion; the cascade also deletes the counter row, in either order). A transition
between pending and processing does not fire it. Nothing in the application deletes jobs or
clients, or changes a job's client; the trigger would follow both. TRUNCATE does not fire it:
``TRUNCATE jobs`` must also truncate this table (``TRUNCATE clients CASCADE`` does).

Locks: an insert adds one to the counter row (INSERT ... ON CONFLICT DO UPDATE), a job leaving
the in-flight statuses subtracts one (UPDATE); either holds that row's lock until its
transaction commits. Each transaction takes the counter row last (the trigger runs after the
job row is written) and one row per statement, so there is no lock-order cycle: a POST holds
the client's advisory lock and then waits for the counter row; the worker (one autocommit
UPDATE per transition, jobs.store) holds only its job row and then waits for the counter row;
whoever holds the counter row waits for nothing more than its commit. The cost: the worker's
ending transition (completed, failed) updates one more row, and the writes of one client's
jobs (its POSTs and its jobs' endings) queue on that row for the time of a commit. A single
statement that changes many clients' jobs (an operator's bulk UPDATE) takes their counter rows
in scan order and could deadlock with another such statement (PostgreSQL then aborts one).

The read in ``soundy_create_job()`` is the exact count (no longer capped at the limit), read
after the client's advisory lock is held, in its own snapshot (the function is VOLATILE), so
it sees every job committed before, as 0013's count did. Same signature and OUT values.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IN_FLIGHT = "('pending', 'processing')"


def upgrade() -> None:
    op.create_table(
        "client_jobs_in_flight",
        sa.Column(
            "client_id",
            sa.dialects.postgresql.UUID(as_uuid=True),
            sa.ForeignKey("clients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.CheckConstraint("jobs >= 0", name="ck_client_jobs_in_flight_jobs"),
        postgresql_with={"fillfactor": 50},
    )
    op.execute(
        f"""
        CREATE FUNCTION soundy_count_jobs_in_flight() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND OLD.status IN {_IN_FLIGHT} THEN
                UPDATE client_jobs_in_flight SET jobs = jobs - 1
                 WHERE client_id = OLD.client_id;
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.status IN {_IN_FLIGHT} THEN
                INSERT INTO client_jobs_in_flight AS c (client_id, jobs)
                VALUES (NEW.client_id, 1)
                ON CONFLICT (client_id) DO UPDATE SET jobs = c.jobs + 1;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER jobs_in_flight_insert AFTER INSERT ON jobs FOR EACH ROW "
        f"WHEN (NEW.status IN {_IN_FLIGHT}) EXECUTE FUNCTION soundy_count_jobs_in_flight()"
    )
    op.execute(
        "CREATE TRIGGER jobs_in_flight_update AFTER UPDATE OF status, client_id ON jobs "
        f"FOR EACH ROW WHEN ((OLD.status IN {_IN_FLIGHT}) <> (NEW.status IN {_IN_FLIGHT}) "
        f"OR (OLD.client_id <> NEW.client_id AND OLD.status IN {_IN_FLIGHT})) "
        "EXECUTE FUNCTION soundy_count_jobs_in_flight()"
    )
    op.execute(
        "CREATE TRIGGER jobs_in_flight_delete AFTER DELETE ON jobs FOR EACH ROW "
        f"WHEN (OLD.status IN {_IN_FLIGHT}) EXECUTE FUNCTION soundy_count_jobs_in_flight()"
    )
    # After the triggers: CREATE TRIGGER holds a lock that blocks writes to jobs until this
    # migration commits, so no job changes between this count and the triggers taking over.
    op.execute(
        "INSERT INTO client_jobs_in_flight (client_id, jobs) "
        f"SELECT client_id, count(*) FROM jobs WHERE status IN {_IN_FLIGHT} GROUP BY client_id"
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION soundy_create_job(
            p_id uuid, p_client_id uuid, p_upload_id uuid, p_file_key text, p_mode text,
            p_genre text, p_destination text, p_analysis_stage text, p_reference_job_id uuid,
            p_lang text, p_song text, p_codec_check boolean,
            p_month_start timestamptz, p_quota_limit bigint, p_in_flight_limit bigint,
            OUT quota_used bigint, OUT in_flight bigint, OUT created_at timestamptz)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('jobs:' || p_client_id::text));
            SELECT count(*) INTO quota_used FROM (
                SELECT 1 FROM jobs j
                 WHERE j.client_id = p_client_id AND j.created_at >= p_month_start
                   AND j.quota_exempt IS FALSE
                 LIMIT coalesce(p_quota_limit, 0)) q;
            SELECT coalesce(max(c.jobs), 0) INTO in_flight
              FROM client_jobs_in_flight c WHERE c.client_id = p_client_id;
            IF (p_quota_limit IS NULL OR quota_used < p_quota_limit)
               AND in_flight < p_in_flight_limit THEN
                INSERT INTO jobs (id, client_id, upload_id, file_key, mode, genre, destination,
                                  analysis_stage, reference_job_id, lang, quota_exempt, song,
                                  codec_check, status, progress, stage, attempts)
                VALUES (p_id, p_client_id, p_upload_id, p_file_key, p_mode, p_genre,
                        p_destination, p_analysis_stage, p_reference_job_id, p_lang, false,
                        p_song, p_codec_check, 'pending', 0, 'queued', 0)
                RETURNING jobs.created_at INTO created_at;
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    # 0013's function as 0013 created it (CREATE OR REPLACE), then the counter goes.
    importlib.import_module("soundy.db.migrations.versions.0013_create_job_function").upgrade()
    for trigger in ("jobs_in_flight_insert", "jobs_in_flight_update", "jobs_in_flight_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON jobs")
    op.execute("DROP FUNCTION IF EXISTS soundy_count_jobs_in_flight()")
    op.drop_table("client_jobs_in_flight")
