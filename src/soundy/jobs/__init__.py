"""The job service: what the API and the worker do with jobs.

* :mod:`soundy.jobs.store`: job rows and their transitions (``create_job``, ``start_attempt``,
  ``complete``, ``fail``, ...), each one conditional UPDATE;
* :mod:`soundy.jobs.service`: the rules of starting a job, ``submit`` and ``retry``;
* :mod:`soundy.jobs.results`: a job's result, its stored measurements compared on read with
  the current targets (``result_of``).

The store's functions are re-exported here, so callers write ``jobs.get_job(...)``.
"""

from soundy.jobs.store import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    STAGE_DOWNLOADING,
    JobStatus,
    client_and_job,
    complete,
    count_in_flight,
    create_job,
    fail,
    get_job,
    list_jobs,
    pending_or_processing,
    set_progress,
    start_attempt,
)

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "STAGE_DOWNLOADING",
    "JobStatus",
    "client_and_job",
    "complete",
    "count_in_flight",
    "create_job",
    "fail",
    "get_job",
    "list_jobs",
    "pending_or_processing",
    "set_progress",
    "start_attempt",
]
