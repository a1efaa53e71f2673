"""Structured logs: every line written while a job runs carries its id.

``job_id_var`` is a context variable; the worker sets it at the start of each job (each BullMQ
job runs in its own asyncio task, so the value stays with that job). A logging filter copies it
into every record as ``job_id``; the text format shows ``job=<id>``, the JSON format
(``SOUNDY_LOG_JSON=true``) a ``"job_id"`` field.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

__all__ = ["JobIdFilter", "JsonFormatter", "configure_logging", "job_id_var"]

job_id_var: ContextVar[str | None] = ContextVar("soundy_job_id", default=None)

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid=%(process)d%(job_part)s] %(message)s"


class JobIdFilter(logging.Filter):
    """Adds ``job_id`` (None outside a job) and ``job_part`` (`` job=<id>`` or empty)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job_id = getattr(record, "job_id", None) or job_id_var.get()
        record.job_id = job_id
        record.job_part = f" job={job_id}" if job_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, job_id, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "job_id": getattr(record, "job_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    """Log to stderr in the chosen format; safe to call more than once."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(JobIdFilter())
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_soundy", False):
            root.removeHandler(old)
    handler._soundy = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(os.environ.get("SOUNDY_LOG_LEVEL", level).upper())
    # bullmq and botocore are chatty at INFO/DEBUG.
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(logging.WARNING)
