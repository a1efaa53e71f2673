"""A worker without the ffmpeg command (PATH holds none, as on a machine without Debian's
``ffmpeg`` package): in real headless Chromium the codec check shows the four encodings PyAV
makes and says, in English and Brazilian Portuguese, that Spotify's Ogg Vorbis was not checked
and which package would check it. Screenshot: /tmp/soundy-web-codec-skipped.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_web_browser import JOB_TIMEOUT_MS, SHOTS, OpenPage, _api_job

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def web_server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # The processes start by absolute path; only the worker's ffmpeg lookup reads PATH.
    return {"PATH": str(tmp_path_factory.mktemp("no-ffmpeg"))}


async def test_without_ffmpeg_the_page_says_spotify_vorbis_was_not_checked(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(context)
        await page.goto(web_server + "/")
        await page.wait_for_function("() => document.querySelectorAll('#genre option').length > 1")
        await page.locator("[data-testid=codec-check]").check()
        await page.set_input_files("#file", str(sine_wav))
        await page.click("[data-testid=analyze]")
        await page.wait_for_function(
            "() => location.hash.startsWith('#job=')", timeout=JOB_TIMEOUT_MS
        )
        job_id = str(await page.evaluate("location.hash.slice(5)"))
        report = page.locator("[data-testid=report]")
        await report.locator("[data-testid=codec-results]").wait_for(timeout=3 * JOB_TIMEOUT_MS)
        result = (await _api_job(web_server, page, job_id))["result"]
        (skipped,) = result["codec_check_skipped"]
        assert (skipped["codec"], skipped["package"]) == ("vorbis", "ffmpeg")
        rows = report.locator("[data-testid=codec-results] tbody tr")
        assert await rows.count() == len(result["codec_check"]) == 4
        assert await report.locator("tr[data-codec='vorbis']").count() == 0
        note = report.locator("[data-testid=codec-skipped]")
        text = await note.inner_text()
        assert text.startswith("Not checked: Spotify (Ogg Vorbis, 160 kbit/s).")
        assert "libvorbis" in text and "apt install ffmpeg" in text
        await page.screenshot(path=str(SHOTS / "soundy-web-codec-skipped.png"), full_page=True)
        await page.select_option("[data-testid=lang]", "pt-BR")
        await report.get_by_role("heading", name="Checagem de codec").wait_for()
        text = await note.inner_text()
        assert text.startswith("Não checado: Spotify (Ogg Vorbis, 160 kbit/s).")
        assert "instale o pacote ffmpeg" in text
        assert problems == [], problems
    finally:
        await context.close()
