"""A job's progress throttle (``soundy.pipeline.worker._Progress``): every stage reaches the live
events, the row gets the stage changes, and closing neither waits out the throttle nor writes
the row (the outcome's own transition follows at once)."""

from __future__ import annotations

import asyncio
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

    async def send(event: dict[str, Any]) -> None:
        sent.append((event["stage"], event["progress"]))

    progress = _Progress(
        "job", write_db=write_db, send=send, db_interval_s=60.0, stored=("downloading", 0)
    )
    progress.start()
    await progress.flush()
    assert sent == [("downloading", 0)] and writes == []  # the row already says so

    progress.update("decoding", 5)
    await asyncio.wait_for(first_write.wait(), timeout=10)
    # Within the throttle: two updates, then the job ends.
    progress.update("measuring", 25)
    progress.update("measuring", 60)
    await progress.close()

    assert sent == [("downloading", 0), ("decoding", 5), ("measuring", 25), ("measuring", 60)]
    assert writes == [(5, "decoding")]
    assert progress._task is not None and progress._task.done()


async def test_progress_never_goes_back() -> None:
    sent: list[tuple[str, int]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append((event["stage"], event["progress"]))

    async def write_db(percent: int, stage: str) -> None:
        return None

    progress = _Progress("job", write_db=write_db, send=send, db_interval_s=60.0)
    progress.start()
    progress.update("measuring", 50)
    progress.update("decoding", 10)
    await progress.close()
    assert sent == [("measuring", 50)]
