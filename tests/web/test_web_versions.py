"""Versions of a song on the page, in real headless Chromium against a real API and worker, on
real music (tests/real_music.py). Screenshot: /tmp/soundy-web-versions.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_web_browser import JOB_TIMEOUT_MS, SHOTS, OpenPage

import real_music

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def mixes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two exports of one song: 15 s of the rock mix 12 dB down, then 6 dB louder."""
    folder = tmp_path_factory.mktemp("mixes")
    return [
        real_music.write_16bit(folder / name, "rock", gain, start_s=30.0, seconds=15.0)
        for name, gain in (("summer-v1.wav", -12.0), ("summer-v2.wav", -6.0))
    ]


async def _analyze_version(page: Any, base_url: str, audio: Path, song: str) -> None:
    await page.goto(base_url + "/")
    await page.wait_for_function("() => document.querySelectorAll('#genre option').length > 1")
    await page.select_option("#destination", "streaming")
    await page.set_input_files("#file", str(audio))
    await page.fill("[data-testid=song]", song)
    await page.click("[data-testid=analyze]")
    await page.locator("[data-testid=report]").wait_for(state="visible", timeout=JOB_TIMEOUT_MS)


async def test_versions_show_what_moved_and_whether_the_score_went_up(
    web_server: str, browser: Any, open_page: OpenPage, mixes: list[Path]
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(context)
        await _analyze_version(page, web_server, mixes[0], "Summer Nights")
        first = page.locator("[data-testid=versions]")
        await first.wait_for(state="visible")
        assert await first.locator("[data-testid=versions-list] tbody tr").count() == 1

        await _analyze_version(page, web_server, mixes[1], "Summer Nights")
        versions = page.locator("[data-testid=versions]")
        await versions.locator("tr[data-version='2']").wait_for()
        assert "Versions of Summer Nights" in await versions.locator("h3").inner_text()
        rows = versions.locator("[data-testid=versions-list] tbody tr")
        assert await rows.count() == 2
        second = rows.nth(1)
        score = await second.locator("[data-testid=version-score]").inner_text()
        assert "▲" in score  # 6 dB closer to -14 LUFS: the score went up
        summary = await second.locator("[data-testid=version-summary]").inner_text()
        assert summary.startswith("Score up") and "loudness +6.0 LUFS" in summary
        # Every measure of both versions; the loudness moved (bold), the tilt did not.
        matrix = versions.locator("[data-testid=versions-matrix]")
        assert await matrix.locator("tbody tr").count() == 19
        loudness = matrix.locator("tr[data-metric='loudness.integrated_lufs'] td[data-version='2']")
        assert "(+6.0 LUFS)" in await loudness.inner_text()
        assert "moved" in (await loudness.get_attribute("class") or "")
        tilt = matrix.locator("tr[data-metric='spectrum.tilt_db_per_octave'] td[data-version='2']")
        assert "moved" not in (await tilt.get_attribute("class") or "")
        await page.screenshot(path=str(SHOTS / "soundy-web-versions.png"), full_page=True)

        # The first version opens from the history, and its row is marked as the one shown.
        await rows.nth(0).get_by_role("button").click()
        await page.locator("[data-testid=versions] tr.current[data-version='1']").wait_for()
        # The song is offered again in the form for the next version.
        options = await page.eval_on_selector_all("#song-list option", "os => os.map(o => o.value)")
        assert options == ["Summer Nights"]
        assert problems == [], problems
    finally:
        await context.close()
