"""A job's result: its stored measurements, compared on read with the current targets.

A job stores only what cannot change: the measurements of its file (``jobs.result``,
:class:`soundy.result.Measurements`) and the inputs of its comparison (genre, destination,
stage, reference job, language: columns of the row). The comparison is a pure function of those and
of the targets, so it is computed here when the job is read, and an analysis made before the
targets changed shows today's advice. ``targets.version`` (:func:`soundy.compare.targets_version`)
names the targets and rules it used.

A comparison costs about a millisecond; :class:`ComparisonCache` keeps the recent ones per API
process, keyed by (job, targets version, language), so a job read again costs a dict lookup.
A finished job's measurements never change, and neither do its reference's (a reference must
be completed), so an entry is right for as long as its version is current.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from soundy.compare import compare, get_profile, targets_version
from soundy.compare.messages import normalise_lang
from soundy.errors import InvalidRequest
from soundy.jobs import store
from soundy.result import AnalysisResult, Comparison, Measurements

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from soundy.db.models import Job

__all__ = ["CacheKey", "ComparisonCache", "KeyedJob", "LruCache", "comparison_key", "result_of"]

_log = logging.getLogger(__name__)

CacheKey = tuple[uuid.UUID, str, str]


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """The most recently used entries, at most ``max_entries`` (0 keeps none)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class ComparisonCache(LruCache[CacheKey, Comparison]):
    """Jobs' comparisons by :func:`comparison_key`."""


def _current_genre(job: KeyedJob) -> tuple[str | None, str]:
    """(the genre to compare with, the current targets version for the job's comparison).

    A genre whose profile is gone (an operator removed it) is compared without a genre, with a
    log line, rather than failing the read of an old job.
    """
    genre = job.genre
    if genre is not None:
        try:
            get_profile(genre)
        except InvalidRequest:
            _log.warning("genre %r is no longer known; comparing without it", genre)
            genre = None
    profiles = genre is not None or job.reference_job_id is not None
    return genre, targets_version(profiles=profiles)


async def _reference_measurements(session: AsyncSession, job: Job) -> Measurements | None:
    """The reference job's measurements, read once per comparison (None without a reference)."""
    if job.reference_job_id is None:
        return None
    reference = await store.get_job(session, job.reference_job_id)
    if reference is None or reference.result is None:
        _log.warning("job %s: its reference job %s has no result", job.id, job.reference_job_id)
        return None
    return reference.result


class KeyedJob(Protocol):
    """What a job's comparison key is made of: a ``Job``, or the columns of a row read
    without building one (``soundy.jobs.store.ClientAndJob.job_key``)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def genre(self) -> str | None: ...
    @property
    def reference_job_id(self) -> uuid.UUID | None: ...
    @property
    def lang(self) -> str | None: ...


def comparison_key(job: KeyedJob, lang: str | None = None) -> CacheKey:
    """(job, current targets version, language): what the job's comparison, read in ``lang``
    (default: the job's own), depends on besides its stored measurements."""
    return _key_and_genre(job, lang)[0]


def _key_and_genre(job: KeyedJob, lang: str | None) -> tuple[CacheKey, str | None]:
    genre, version = _current_genre(job)
    return (job.id, version, normalise_lang(lang or job.lang)), genre


async def result_of(
    session: AsyncSession,
    job: Job,
    *,
    lang: str | None = None,
    cache: ComparisonCache | None = None,
) -> AnalysisResult | None:
    """The job's result (None until it completed): measurements plus their comparison against
    the current targets, with suggestions in ``lang`` (default: the job's own language)."""
    if job.result is None:
        return None
    measurements = job.result
    key, genre = _key_and_genre(job, lang)
    language = key[2]
    comparison = None if cache is None else cache.get(key)
    if comparison is None:
        comparison = compare(
            measurements,
            genre=genre,
            destination=job.destination,
            stage=job.analysis_stage,
            reference=await _reference_measurements(session, job),
            lang=language,
        )
        if cache is not None:
            cache.put(key, comparison)
    return {**measurements, **comparison}
