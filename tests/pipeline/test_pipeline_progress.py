"""A job's progress throttle (``soundy.pipeline.worker._Progress``): every stage reaches the live
events, the row gets at most one write per interval (none for a job shorter than that), and
closing neither waits out the throttle nor writes the row (the outcome's own transition follows
at once)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from soundy.pipeline.worker import _Progress


async def test_every_stage_is_published_and_close_sends_the_last_value_without_a_row_write() -> (
    None
):
    writes: list[tuple[int, str]] = []
    sent: list[tuple[str, int]] = []
    first_write = asyncio.Event()

    async def write_db(percent: int, stage: str) -> None:
        writes.append((percent, stage))
        first_write.set()

    async def send(batch: list[dict[str, Any]]) -> None:
        sent.extend((event["stage"], event["progress"]) for event in batch)

    progress = _Progress(
        "job", write_db=write_db, send=send, db_interval_s=60.0, stored=("downloading", 0)
    )
    progress.start()
    await progress.flush()
    assert sent == [("downloading", 0)] and writes == []  # the row already says so

    # A job shorter than the row's interval: every stage is published, the row is not written
    # (it says "downloading" until the outcome's transition).
    progress.update("decoding", 5)
    progress.update("measuring", 25)
    progress.update("measuring", 60)
    await progress.close()

    assert sent == [("downloading", 0), ("decoding", 5), ("measuring", 25), ("measuring", 60)]
    assert writes == [] and not first_write.is_set()
    assert progress._task is not None and progress._task.done()


async def test_a_stage_change_is_written_to_the_row_once_the_interval_has_passed() -> None:
    writes: list[tuple[int, str, float]] = []
    written = asyncio.Event()

    async def write_db(percent: int, stage: str) -> None:
        writes.append((percent, stage, time.monotonic()))
        written.set()

    async def send(batch: list[dict[str, Any]]) -> None:
        return None

    interval_s = 0.2
    created_s = time.monotonic()
    progress = _Progress(
        "job", write_db=write_db, send=send, db_interval_s=interval_s, stored=("downloading", 0)
    )
    progress.start()
    progress.update("decoding", 5)
    # No later update comes: the change is written when it is due, not dropped.
    await asyncio.wait_for(written.wait(), timeout=10)
    await progress.close()
    assert [(percent, stage) for percent, stage, _ in writes] == [(5, "decoding")]
    # Not at the stage change: one interval after the row was last written (start_attempt).
    assert writes[0][2] - created_s >= interval_s


async def test_progress_never_goes_back() -> None:
    sent: list[tuple[str, int]] = []

    async def send(batch: list[dict[str, Any]]) -> None:
        sent.extend((event["stage"], event["progress"]) for event in batch)

    async def write_db(percent: int, stage: str) -> None:
        return None

    progress = _Progress("job", write_db=write_db, send=send, db_interval_s=60.0)
    progress.start()
    progress.update("measuring", 50)
    progress.update("decoding", 10)
    await progress.close()
    assert sent == [("measuring", 50)]
