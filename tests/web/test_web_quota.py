"""The page shows the analyses left this month (from the API's X-Quota-* headers) in real
headless Chromium against a real API and worker: it counts down after an analysis, shows the
API's dated 429 when another tab used the last one, speaks Portuguese, and then stops before
uploading anything."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from soundy.jobs.quota import month_bounds

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOB_TIMEOUT_MS = 60_000
OpenPage = Callable[[Any], Awaitable[tuple[Any, list[str]]]]
_MONTHS_PT = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)  # fmt: skip


async def _client_on_plan(database_url: str, plan: str) -> str:
    from soundy.api.auth import create_client
    from soundy.db.session import create_engine, sessionmaker

    engine = create_engine(database_url, pool_size=1)
    try:
        async with sessionmaker(engine)() as session:
            return await create_client(session, plan=plan)
    finally:
        await engine.dispose()


async def _quota_reads(page: Any, text: str) -> None:
    await page.wait_for_function(
        "(text) => document.querySelector('[data-testid=quota]').textContent.includes(text)",
        arg=text,
        timeout=JOB_TIMEOUT_MS,
    )


async def test_the_page_shows_the_quota_left_and_its_renewal(
    web_server: str,
    web_database_url: str,
    web_admin_token: str,
    browser: Any,
    open_page: OpenPage,
    sine_wav: Path,
) -> None:
    plan = f"trial-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=web_server, timeout=30) as http:
        made = await http.put(
            f"/api/admin/plans/{plan}",
            json={"analyses_per_month": 2},
            headers={"Authorization": f"Bearer {web_admin_token}"},
        )
        assert made.status_code == 200, made.text
    token = await _client_on_plan(web_database_url, plan)
    reset = month_bounds(datetime.now(UTC))[1]
    renews_en = f"{reset:%B} {reset.day}, {reset.year}"
    renews_pt = f"{reset.day} de {_MONTHS_PT[reset.month - 1]} de {reset.year}"

    context = await browser.new_context(locale="en-US")
    await context.add_init_script(f"localStorage.setItem('soundy.token', {token!r})")
    try:
        page, problems = await open_page(context)
        await page.goto(web_server + "/")
        await _quota_reads(page, f"2 of 2 analyses left this month ({plan} plan)")
        assert renews_en in await page.locator("[data-testid=quota]").inner_text()

        # One analysis on the page: the count goes down with the analyze answer's headers.
        await page.wait_for_function("() => document.querySelectorAll('#genre option').length > 1")
        await page.set_input_files("#file", str(sine_wav))
        await page.click("[data-testid=analyze]")
        await page.locator("[data-testid=report]").wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        await _quota_reads(page, f"1 of 2 analyses left this month ({plan} plan)")

        # Another tab (here: a script with the same token) uses the last analysis.
        async with httpx.AsyncClient(base_url=web_server, timeout=30) as http:
            auth = {"Authorization": f"Bearer {token}"}
            data = sine_wav.read_bytes()
            grant = (
                await http.post(
                    "/api/uploads", json={"filename": "b.wav", "size": len(data)}, headers=auth
                )
            ).json()
            await http.put(grant["upload_url"], content=data, headers=grant["headers"])
            used = await http.post(
                "/api/audio/analyze", json={"file_key": grant["file_key"]}, headers=auth
            )
            assert used.status_code == 202 and used.headers["x-quota-remaining"] == "0"

        # The page still thinks one is left: the API refuses, and the page says when it renews.
        await page.click("[data-testid=analyze]")
        error = page.locator("#form-error")
        await error.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        assert f"The quota renews on {renews_en}, 00:00 UTC" in await error.inner_text()
        await _quota_reads(page, f"No analyses left this month on the {plan} plan")
        assert renews_en in await page.locator("[data-testid=quota]").inner_text()

        # In Portuguese, and a further try stops before uploading.
        await page.select_option("#lang", "pt-BR")
        await _quota_reads(page, f"Não restam análises neste mês no plano {plan}")
        assert renews_pt in await page.locator("[data-testid=quota]").inner_text()
        uploads: list[str] = []
        page.on("request", lambda r: uploads.append(r.url) if "/api/uploads" in r.url else None)
        await page.click("[data-testid=analyze]")
        await page.wait_for_function(
            "(text) => document.querySelector('#form-error').textContent.includes(text)",
            arg=f"a cota renova em {renews_pt}",
        )
        assert uploads == []
        assert problems == [] or all("429" in p for p in problems), problems
    finally:
        await context.close()
