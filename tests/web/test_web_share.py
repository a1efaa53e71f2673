"""A report you can send, in real headless Chromium against a real API and worker: the owner's
read-only link opens in a browser that has no token, stops working when revoked, and the report
prints (print media, and Chromium's own PDF) with its charts and without the upload UI.

The PDF goes to /tmp/soundy-share.pdf and screenshots to /tmp/soundy-share-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_web_browser import JOB_TIMEOUT_MS, SHOTS, OpenPage, _analyze, _api_job

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def _visible_charts(page: Any) -> int:
    """How many report charts are drawn with a non-empty box."""
    return int(
        await page.evaluate(
            """() => [...document.querySelectorAll('#report .chart-svg')]
                .filter((svg) => { const r = svg.getBoundingClientRect();
                                   return r.width > 100 && r.height > 50; }).length"""
        )
    )


async def test_share_link_opens_without_a_token_prints_and_is_revoked(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path
) -> None:
    owner = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    stranger = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(owner)
        job_id = await _analyze(page, web_server, sine_wav)
        report = page.locator("[data-testid=report]")
        await report.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        job = await _api_job(web_server, page, job_id)

        await report.locator("[data-testid=share-create]").click()
        field = report.locator("[data-testid=share-url]")
        await field.wait_for(state="visible")
        url = await field.input_value()
        assert re.fullmatch(re.escape(web_server) + r"/r/[\w-]{32,}", url), url

        # The owner's page printed: the report and its charts, not the form, history or buttons.
        await page.emulate_media(media="print")
        assert await page.locator("#analyze").is_hidden()
        assert await page.locator("#history").is_hidden()
        assert await report.locator("[data-testid=share]").is_hidden()
        assert await report.is_visible()
        assert await _visible_charts(page) == 3
        await page.emulate_media(media="screen")

        # A browser that never used Soundy: no token, no client is made, the same report.
        shared, shared_problems = await open_page(stranger)
        calls: list[str] = []
        shared.on("request", lambda r: calls.append(r.url) if "/api/" in r.url else None)
        await shared.goto(url)
        shared_report = shared.locator("[data-testid=report]")
        await shared_report.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        score = await shared_report.locator("[data-testid=score] .score-value").inner_text()
        assert int(score) == round(job["result"]["score"]["overall"])
        assert sine_wav.name in await shared_report.locator("#report-title").inner_text()
        rows = shared_report.locator("[data-testid=metrics] tbody tr")
        assert await rows.count() == len(job["result"]["score"]["metrics"])
        assert await shared.locator("#analyze, [data-testid=dropzone], #history").count() == 0
        assert await shared_report.locator("[data-testid=share]").count() == 0
        assert await shared.evaluate("localStorage.getItem('soundy.token')") is None
        assert not any("/api/clients" in call or "/api/jobs" in call for call in calls), calls
        await shared.screenshot(path=str(SHOTS / "soundy-share-screen.png"), full_page=True)

        # Printed: the report with its three charts, no buttons; Chromium makes the PDF.
        await shared.emulate_media(media="print")
        assert await shared.locator("[data-testid=print]").is_hidden()
        assert await shared.locator("[data-testid=download]").is_hidden()
        assert await shared_report.is_visible()
        assert await _visible_charts(shared) == 3
        # Drawn at the page's text width (so their text prints at its size), back after. The
        # redraw runs on the media query's change event, dispatched after emulate_media returns.
        await shared.wait_for_function(
            "() => [...document.querySelectorAll('#report .chart-svg')]"
            ".map((s) => s.getAttribute('width')).join() === '660,660,660'"
        )
        await shared.screenshot(path=str(SHOTS / "soundy-share-print.png"), full_page=True)
        pdf = await shared.pdf(format="A4", print_background=True)
        (SHOTS / "soundy-share.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2  # a report of several pages
        await shared.emulate_media(media="screen")
        # On screen again the first chart spans the 1280 px window once more.
        await shared.wait_for_function(
            "() => +document.querySelector('#report .chart-svg').getAttribute('width') > 900"
        )

        # Revoked by the owner: the link says so, and shows nothing of the report.
        await page.locator("[data-testid=share-revoke]").click()
        await report.locator("[data-testid=share-create]").wait_for(state="visible")
        await shared.reload()
        gone = shared.locator("[data-testid=share-status]")
        await gone.wait_for(state="visible")
        assert "revoked" in await gone.inner_text()
        assert await shared_report.is_hidden()
        assert await shared_report.locator("[data-testid=score]").count() == 0
        assert problems == [], problems
        # The one expected console error: the 404 of the revoked link's request.
        assert all("404" in p for p in shared_problems), shared_problems
    finally:
        await owner.close()
        await stranger.close()


async def test_shared_report_in_portuguese(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path
) -> None:
    owner = await browser.new_context(locale="en-US")
    reader = await browser.new_context(locale="pt-BR")
    try:
        page, _ = await open_page(owner)
        await _analyze(page, web_server, sine_wav)
        report = page.locator("[data-testid=report]")
        await report.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        await report.locator("[data-testid=share-create]").click()
        url = await report.locator("[data-testid=share-url]").input_value()
        shared, problems = await open_page(reader)
        await shared.goto(url)
        await shared.locator("[data-testid=report]").wait_for(state="visible")
        assert await shared.locator("[data-testid=print]").inner_text() == (
            "Imprimir ou salvar em PDF"
        )
        assert "somente leitura" in await shared.locator(".tagline").inner_text()
        assert problems == [], problems
    finally:
        await owner.close()
        await reader.close()
