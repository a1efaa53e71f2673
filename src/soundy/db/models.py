"""Tables: clients, client_jobs_in_flight, plans, uploads, jobs, shares, albums (SQLAlchemy 2
``Mapped[]`` declarative models).

PostgreSQL is the source of truth for jobs and their results
(docs/architecture.md#how-the-parts-run).
Timestamps are ``timestamptz`` in UTC. A client's bearer token is never stored: only its
SHA-256 hex digest (``token_hash``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from soundy.result import Measurements

__all__ = ["Album", "Base", "Client", "ClientJobsInFlight", "Job", "Plan", "Share", "Upload"]


class Base(DeclarativeBase):
    """Declarative base; ``Base.metadata`` is what the Alembic migrations create."""


class Client(Base):
    """An API client: anonymous (``POST /api/clients``) or a named key (``soundy keys create``)."""

    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 hex digest of the bearer token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    is_key: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # The client's plan (soundy.jobs.quota); None = SOUNDY_DEFAULT_PLAN, read on each request.
    plan: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # When ``soundy keys revoke`` revoked the token (401 from then on); None while it works.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClientJobsInFlight(Base):
    """How many of a client's jobs are pending or processing, kept by PostgreSQL itself: a
    trigger on ``jobs`` adds or subtracts one as a row enters or leaves those statuses
    (migration 0014), so ``POST /api/audio/analyze`` reads one row instead of counting them.
    Never written by the application. No row = none yet."""

    __tablename__ = "client_jobs_in_flight"

    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    jobs: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (
        CheckConstraint("jobs >= 0", name="ck_client_jobs_in_flight_jobs"),
        # Room on each page for the updated versions of its rows (HOT updates, no index write).
        {"postgresql_with": {"fillfactor": 50}},
    )


class Plan(Base):
    """A plan's monthly analyses set by an operator (``PUT /api/admin/plans/{name}``); it
    overrides the plan's ``SOUNDY_PLAN_<NAME>_ANALYSES_PER_MONTH`` (soundy.jobs.quota)."""

    __tablename__ = "plans"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Analyses per calendar month (UTC); None = unlimited.
    analyses_per_month: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Upload(Base):
    """A file a client announced with ``POST /api/uploads`` and then PUT to storage."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    )
    file_key: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    # Size the client declared, in bytes; the PUT may not exceed it.
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Bytes actually stored by the local PUT handler (None until a PUT finished; S3 uploads
    # are checked with ``storage.size``).
    received_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # When the upload URL stops working.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the reconciler deleted the stored file, SOUNDY_AUDIO_RETENTION_S after the last job
    # on it finished (the jobs and their results stay); None while the audio is kept.
    audio_deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_uploads_client_created", "client_id", "created_at"),
        # The reconciler's audio retention: old uploads whose audio is still kept.
        Index(
            "ix_uploads_audio_kept_created",
            "created_at",
            postgresql_where=text("audio_deleted_at IS NULL"),
        ),
    )


class Job(Base):
    """One analysis job; ``status`` moves only forward (see ``soundy.jobs.store``)."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    )
    upload_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("uploads.id", ondelete="SET NULL")
    )
    file_key: Mapped[str] = mapped_column(Text, nullable=False)
    mode: Mapped[str] = mapped_column(String(20), nullable=False)
    genre: Mapped[str | None] = mapped_column(String(100))
    destination: Mapped[str | None] = mapped_column(String(50))
    # What the file is, "mix" or "master" (soundy.result.Stage); not the progress ``stage``.
    analysis_stage: Mapped[str] = mapped_column(
        String(10), nullable=False, server_default=text("'master'")
    )
    reference_job_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="SET NULL")
    )
    lang: Mapped[str | None] = mapped_column(String(16))
    # Not counted against the client's monthly quota (an operator's retry).
    quota_exempt: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # The song this job is a version of (the client's own name for it; None = no song).
    song: Mapped[str | None] = mapped_column(String(200))
    # Also encode with the platforms' delivery codecs and measure the decodes (codec_check).
    codec_check: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=text("'pending'")
    )
    # 0-100, never decreases.
    progress: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    stage: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # The measurements (soundy.result.Measurements); the comparison is derived on read from
    # them and the columns above (soundy.jobs.results).
    result: Mapped[Measurements | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # GET /api/jobs: a client's jobs, newest first (keyset pagination on created_at, id).
        Index("ix_jobs_client_created", "client_id", text("created_at DESC"), text("id DESC")),
        # The reconciler: pending/processing jobs not updated for a while.
        Index("ix_jobs_status_updated", "status", "updated_at"),
        # The reconciler's upload purges: the jobs of an upload.
        Index("ix_jobs_upload", "upload_id"),
        # A client's jobs in flight (POST /api/audio/analyze counts them; migration 0012).
        Index(
            "ix_jobs_client_in_flight",
            "client_id",
            postgresql_where=text("status IN ('pending', 'processing')"),
        ),
        # A song's versions, oldest first (GET /api/songs/{song}).
        Index(
            "ix_jobs_client_song_created",
            "client_id",
            "song",
            "created_at",
            postgresql_where=text("song IS NOT NULL"),
        ),
    )


class Share(Base):
    """A read-only link to one job's report (``POST /api/jobs/{id}/share``) or one album's
    (``POST /api/albums/{id}/share``): exactly one of ``job_id`` and ``album_id`` is set.

    ``token`` is the unguessable part of the link (``secrets.token_urlsafe``, 192 bits). It is
    kept, not only its digest, so the owner can see the link again; it grants reading one report
    and nothing else. A job or album has at most one live link: ``revoked_at`` is set by
    ``DELETE``, and a revoked token never works again (a new ``POST`` makes a new token).
    """

    __tablename__ = "shares"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="CASCADE")
    )
    album_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("albums.id", ondelete="CASCADE")
    )
    token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("(job_id IS NULL) <> (album_id IS NULL)", name="ck_shares_one_target"),
        # At most one live link per job, and per album.
        Index(
            "ux_shares_job_live",
            "job_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
        Index(
            "ux_shares_album_live",
            "album_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )


class Album(Base):
    """Several of a client's jobs read as one release (``POST /api/albums``), in track order.

    Only the order is stored: the report is derived on read from the jobs' measurements
    (``soundy.compare.album``), like a job's comparison. A job deleted later leaves the album.
    """

    __tablename__ = "albums"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str | None] = mapped_column(String(200))
    job_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), nullable=False)
    lang: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    __table_args__ = (Index("ix_albums_client_created", "client_id", "created_at"),)
