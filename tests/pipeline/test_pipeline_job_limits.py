"""The work and memory of one job are bounded: a file with too many samples (frames x channels)
fails at once from its header, with a reason; an analysis that needs more memory than
SOUNDY_ANALYSIS_MEMORY_LIMIT_BYTES fails with that reason and the worker goes on. Real worker
processes, real FLAC files made here with soundfile. (The channel and rate limits, and the
sample limit while decoding, are in tests/analysis/test_decode.py.) ~50 s on this machine,
most of it encoding the 10-minute FLAC."""

from __future__ import annotations

import asyncio
import io
import time

import numpy as np
import pytest
import soundfile as sf
from pipeline_support import sine_wav, submit, wait_job

pytestmark = pytest.mark.slow


def _silent_flac(seconds: int, rate_hz: int, channels: int) -> bytes:
    """Digital silence as FLAC (a few hundred kB for minutes: silence compresses to nothing).
    Level 0 encodes 10 minutes of 384 kHz x 8 channels in ~15 s on this machine."""
    buffer = io.BytesIO()
    second = np.zeros((rate_hz, channels), dtype=np.int16)
    with sf.SoundFile(
        buffer, "w", rate_hz, channels, subtype="PCM_16", format="FLAC", compression_level=0.0
    ) as out:
        for _ in range(seconds):
            out.write(second)
    return buffer.getvalue()


async def test_a_10_minute_384_khz_8_channel_flac_fails_at_once_with_a_reason(
    api, client_token, upload_bytes, start_worker
):
    """Under every other limit (2 MB, 10 minutes), but 1.8 billion samples: it cost 35 s of CPU
    and 1.2 GB of memory before SOUNDY_MAX_SAMPLES_PER_JOB."""
    # Encoding takes a while: meanwhile the worker starts.
    data, _ = await asyncio.gather(
        asyncio.to_thread(_silent_flac, 600, 384_000, 8), asyncio.to_thread(start_worker)
    )
    started_s = time.monotonic()
    job_id = await submit(api, client_token, data, upload_bytes, filename="silence.flac")
    job = await wait_job(api, client_token, job_id, timeout_s=20)
    assert time.monotonic() - started_s < 5
    assert job["status"] == "failed"
    assert job["attempts"] == 1
    assert job["error"]["code"] == "audio_too_long"
    message = job["error"]["message"]
    assert "8 channels at 384000 Hz" in message and "480,000,000 samples" in message


async def test_an_analysis_over_the_memory_limit_fails_and_the_worker_goes_on(
    api, client_token, upload_bytes, start_worker
):
    """30 s of 384 kHz x 8 channels is under the sample limit, but its blocks need ~2 GB of
    address space (measured: VmPeak 2.1 GB; a 4-minute 44.1 kHz stereo file needs 0.63 GB)."""
    worker = start_worker(SOUNDY_ANALYSIS_MEMORY_LIMIT_BYTES=str(1 << 30))
    job_id = await submit(
        api, client_token, _silent_flac(30, 384_000, 8), upload_bytes, filename="wide.flac"
    )
    job = await wait_job(api, client_token, job_id, timeout_s=60)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "analysis_crashed"
    assert "1,073,741,824 bytes" in job["error"]["message"]
    assert "SOUNDY_ANALYSIS_MEMORY_LIMIT_BYTES" in job["error"]["message"]
    assert job["attempts"] == 1

    good = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    job = await wait_job(api, client_token, good, timeout_s=30)
    assert job["status"] == "completed", (job, worker.log()[-3000:])
    assert worker.popen.poll() is None
