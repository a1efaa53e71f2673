"""soundy_create_job(): the client's lock, the monthly quota and in-flight counts, and the insert
of a ``pending`` job, as one statement of ``POST /api/audio/analyze`` (soundy.jobs.service.submit).

It replaces three round trips (BEGIN with the lock, the counts with the insert, COMMIT) by one
that runs on its own in autocommit. The lock (``hashtext('jobs:<client id>')``, the key submit
took before) is a transaction lock, so it is held until that statement's transaction commits,
after the insert. The function is VOLATILE: in READ COMMITTED each of its queries takes a new
snapshot, so the counts, run after the lock is held, see every job committed before it (one
statement of plain SQL could not: its snapshot would be taken before it waited for the lock).

Each count stops at its limit (no more changes the answer); a plan without a limit
(``p_quota_limit`` NULL) is not counted. ``created_at`` is NULL when a limit refused the job
(nothing was inserted).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
            SELECT count(*) INTO in_flight FROM (
                SELECT 1 FROM jobs j
                 WHERE j.client_id = p_client_id AND j.status IN ('pending', 'processing')
                 LIMIT p_in_flight_limit) f;
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
    op.execute("DROP FUNCTION IF EXISTS soundy_create_job")
