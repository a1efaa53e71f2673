"""The web page and the operator dashboard in real headless Chromium, against a real API and
worker (PostgreSQL, Redis, local storage): what a producer and an operator see and rely on.

Screenshots go to /tmp/soundy-web-*.png (desktop and 375 px wide) for a person to look at.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOB_TIMEOUT_MS = 60_000
SHOTS = Path("/tmp")

OpenPage = Callable[[Any], Awaitable[tuple[Any, list[str]]]]


async def _drop_file(page: Any, selector: str, audio: Path) -> None:
    """Drop ``audio`` on ``selector`` as a person dragging it from the desktop would."""
    data_transfer = await page.evaluate_handle(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: "audio/wav" }));
            return dt;
        }""",
        [audio.name, base64.b64encode(audio.read_bytes()).decode()],
    )
    await page.dispatch_event(selector, "dragenter", {"dataTransfer": data_transfer})
    await page.dispatch_event(selector, "drop", {"dataTransfer": data_transfer})


async def _analyze(
    page: Any,
    base_url: str,
    audio: Path,
    *,
    genre: str | None = "trap",
    drop: bool = False,
    stage: str | None = None,
) -> str:
    """Open the page, choose the file (button, or drag and drop) and genre, press Analyse;
    returns the job id."""
    await page.goto(base_url + "/")
    # The genre list comes from GET /api/genres; wait until it is there.
    await page.wait_for_function("() => document.querySelectorAll('#genre option').length > 1")
    if genre is not None:
        await page.select_option("#genre", genre)
    if stage is not None:
        await page.select_option("#stage", stage)
    if drop:
        await _drop_file(page, "[data-testid=dropzone]", audio)
        assert audio.name in await page.locator("#file-name").inner_text()
    else:
        await page.set_input_files("#file", str(audio))
    await page.click("[data-testid=analyze]")
    await page.wait_for_function("() => location.hash.startsWith('#job=')", timeout=JOB_TIMEOUT_MS)
    return str(await page.evaluate("location.hash.slice(5)"))


async def _api_job(base_url: str, page: Any, job_id: str) -> dict[str, Any]:
    """The job as the API gives it to the page's own client token."""
    token = await page.evaluate("localStorage.getItem('soundy.token')")
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get(
            f"/api/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_upload_shows_live_progress_report_and_charts(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(context)
        streams: list[tuple[str, int, str]] = []
        page.on(
            "response",
            lambda r: (
                streams.append((r.url, r.status, r.headers.get("content-type", "")))
                if "/events" in r.url
                else None
            ),
        )
        job_id = await _analyze(page, web_server, sine_wav, stage="mix")
        report = page.locator("[data-testid=report]")
        await report.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        # The page followed the job over Server-Sent Events (with its bearer token).
        assert any(
            url.endswith(f"/api/jobs/{job_id}/events")
            and status == 200
            and ctype.startswith("text/event-stream")
            for url, status, ctype in streams
        ), streams
        job = await _api_job(web_server, page, job_id)
        assert job["status"] == "completed"
        result = job["result"]

        # The stage chosen on the page reached the comparison, and the report says so.
        assert job["analysis_stage"] == "mix" and result["targets"]["stage"] == "mix"
        compared = await report.locator("[data-testid=context]").inner_text()
        assert "a mix before mastering" in compared and "Trap" in compared
        # The nearest genres, with their distances, as the comparison lists them.
        nearest = report.locator("[data-testid=nearest-genres] li")
        assert await nearest.count() == len(result["nearest_genres"]) == 3
        for row, genre in zip(
            await nearest.all_inner_texts(), result["nearest_genres"], strict=True
        ):
            # the page writes a whole number of 10 or more without its ".0" (report.js digitsFor)
            distance = genre["distance_db"]
            whole = float(distance).is_integer() and abs(distance) >= 10
            shown = f"{distance:.0f}" if whole else f"{distance:.1f}"
            assert genre["label"] in row and f"{shown} dB" in row
        # Each suggestion says where its target comes from.
        first = report.locator("[data-testid=suggestion]").first
        assert f"target from: {result['suggestions'][0]['source']}" in await first.inner_text()

        # The score and its parts.
        score_text = await report.locator("[data-testid=score] .score-value").inner_text()
        assert 0 <= int(score_text) <= 100
        assert int(score_text) == round(result["score"]["overall"])
        assert await report.locator(".parts li").count() == len(result["score"]["parts"])

        # Every metric of the comparison has a row with its target and a severity colour.
        rows = report.locator("[data-testid=metrics] tbody tr")
        assert await rows.count() == len(result["score"]["metrics"])
        loudness_row = report.locator(
            "[data-testid=metrics] tr[data-metric='loudness.integrated_lufs']"
        )
        # BS.1770: a stereo 1 kHz sine at -20 dBFS peak per channel reads -19.99 LUFS at 48 kHz.
        assert "-20.0 LUFS" in await loudness_row.inner_text()
        for metric in result["score"]["metrics"]:
            row = report.locator(f"[data-testid=metrics] tr[data-metric='{metric['metric']}']")
            assert await row.get_attribute("class") == f"sev-row sev-{metric['severity']}"
        # A -20 LUFS track for streaming (-14 LUFS) gets a loudness suggestion.
        suggestions = report.locator("[data-testid=suggestion]")
        assert await suggestions.count() == len(result["suggestions"]) > 0
        # Every platform and mode, simulated; no codec check unless asked for.
        playback = report.locator("[data-testid=playback] tbody tr")
        assert await playback.count() == len(result["playback"]) == 10
        loud = report.locator(
            "[data-testid=playback] tr[data-platform='Spotify'][data-mode='loud']"
        )
        assert "Loud" in await loud.inner_text() and "+9.0" in await loud.inner_text()
        assert "does not act" in await loud.locator("[data-testid=limiter]").inner_text()
        soundcloud = report.locator("[data-testid=playback] tr[data-platform='SoundCloud']")
        assert "none" in await soundcloud.inner_text()
        assert await report.locator("[data-testid=codec-results]").count() == 0

        # The three charts, drawn as SVG.
        loudness = report.locator("[data-testid=chart-loudness] svg")
        # momentary, short-term and the dashed target line
        assert await loudness.locator("path").count() >= 2
        assert await loudness.locator("line[stroke-dasharray]").count() == 1
        spectrum = report.locator("[data-testid=chart-spectrum] svg")
        for band in ("Sub", "Bass", "Mid", "Air"):
            assert await spectrum.get_by_text(band, exact=True).count() == 1
        # Each band's target line is the target it is judged against (turned by the track's
        # tilt, score.metrics), the one its suggestion quotes, not the genre's own.
        judged = {
            m["metric"].removeprefix("spectrum.bands."): m["target"]
            for m in result["score"]["metrics"]
            if m["metric"].startswith("spectrum.bands.")
        }
        own = {b["key"]: b["target"] for b in result["targets"]["bands"]}
        assert judged and any(abs(judged[k] - own[k]) > 0.05 for k in judged)  # turned here
        for key, target in judged.items():
            line = spectrum.locator(f"line[data-band='{key}']")
            assert float(await line.get_attribute("data-target") or "nan") == target, key
        correlation = report.locator("[data-testid=chart-correlation] svg path")
        assert await correlation.count() == 1
        await page.screenshot(path=str(SHOTS / "soundy-web-desktop.png"), full_page=True)

        # The result downloads as the JSON the API stores.
        async with page.expect_download() as download_info:
            await report.locator("[data-testid=download]").click()
        download = await download_info.value
        downloaded = json.loads(Path(await download.path()).read_text())
        assert downloaded == result

        # The history lists the job and reopens it.
        history_row = page.locator(f"[data-testid=history] tr[data-job-id='{job_id}']")
        await history_row.wait_for()
        assert "sine-1k.wav" in await history_row.inner_text()
        await page.evaluate("document.querySelector('[data-testid=report]').hidden = true")
        await history_row.get_by_role("button").click()
        await report.wait_for(state="visible")

        # Phone width: the same report, nothing wider than the screen.
        await page.set_viewport_size({"width": 375, "height": 800})
        await page.wait_for_timeout(300)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        await page.screenshot(path=str(SHOTS / "soundy-web-375.png"), full_page=True)
        assert problems == []
    finally:
        await context.close()


async def test_the_codec_check_option_shows_the_encodings_and_the_limiter_on_a_real_master(
    web_server: str, browser: Any, open_page: OpenPage, tmp_path: Path
) -> None:
    """A real rock mix pushed into a limiter at -0.1 dBFS (a hot master): with the codec check
    ticked, the report shows each platform's decode and the plain advice; and the same mix
    6 dB under full scale, unlimited, shows Spotify Loud's limiter at work."""
    import numpy as np
    import soundfile as sf
    from tests.real_music import decoded

    from soundy.analysis.playback import Limiter

    frames, rate = decoded("rock")
    clip = frames[frames.shape[0] // 3 :][: 8 * rate]
    limiter = Limiter(rate, 6.0, threshold_dbfs=-0.1, attack_s=0.001, release_s=0.05)
    hot = np.concatenate([limiter.process(clip), limiter.flush()])
    hot_path = tmp_path / "hot-master.wav"
    sf.write(hot_path, np.clip(np.round(hot * 32768), -32768, 32767).astype(np.int16), rate)

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(context)
        await page.goto(web_server + "/")
        await page.wait_for_function("() => document.querySelectorAll('#genre option').length > 1")
        box = page.locator("[data-testid=codec-check]")
        assert not await box.is_checked()
        label = page.locator("label.check")
        assert "Codec check" in await label.inner_text()
        await box.check()
        await page.set_input_files("#file", str(hot_path))
        await page.click("[data-testid=analyze]")
        await page.wait_for_function(
            "() => location.hash.startsWith('#job=')", timeout=JOB_TIMEOUT_MS
        )
        job_id = str(await page.evaluate("location.hash.slice(5)"))
        report = page.locator("[data-testid=report]")
        await report.wait_for(state="visible", timeout=3 * JOB_TIMEOUT_MS)
        job = await _api_job(web_server, page, job_id)
        assert job["codec_check"] is True
        result = job["result"]
        rows = report.locator("[data-testid=codec-results] tbody tr")
        assert await rows.count() == len(result["codec_check"]) == 5
        assert result["codec_check_skipped"] == []  # the worker finds Debian's ffmpeg
        youtube = next(e for e in result["codec_check"] if e["platform"] == "YouTube")
        row = report.locator("[data-testid=codec-results] tr[data-platform='YouTube']")
        text = await row.inner_text()
        assert "Opus 160 kbit/s" in text and f"+{youtube['true_peak_dbtp']:.1f}" in text
        # Spotify's apps: Ogg Vorbis by the system ffmpeg's libvorbis, a row of its own.
        vorbis = next(e for e in result["codec_check"] if e["codec"] == "vorbis")
        assert (vorbis["platform"], vorbis["encoder"]) == ("Spotify", "libvorbis")
        text = await report.locator(
            "[data-testid=codec-results] tr[data-codec='vorbis']"
        ).inner_text()
        assert "Spotify" in text and "Ogg Vorbis 160 kbit/s" in text
        assert f"{vorbis['true_peak_dbtp']:+.1f}" in text
        assert await report.locator("[data-testid=codec-skipped]").count() == 0
        advice = result["suggestions"]
        codec = next(s for s in advice if s["metric"] == "codec_check.true_peak_dbtp")
        assert "encoding" in codec["message"] and "Lower the ceiling to" in codec["action"]
        shown = report.locator("[data-testid=suggestion]", has_text=codec["message"][:40])
        assert await shown.count() == 1
        await page.screenshot(path=str(SHOTS / "soundy-web-codec-check.png"), full_page=True)
        # In Portuguese: the card, its headers and the advice.
        await page.select_option("[data-testid=lang]", "pt-BR")
        await report.get_by_role("heading", name="Checagem de codec").wait_for()
        # (lower-cased: the headers are shown in capitals by the style sheet)
        card = (await report.locator("[data-testid=codec-results]").inner_text()).lower()
        assert "true peak após a codificação" in card and "plataforma" in card
        assert (
            await report.locator(
                "[data-testid=suggestion]", has_text="Depois da codificação do"
            ).count()
            == 1
        )
        playback = await report.locator("[data-testid=playback]").inner_text()
        assert "Alto" in playback and "documentado pela plataforma" in playback
        await page.select_option("[data-testid=lang]", "en")
        await report.get_by_role("heading", name="Codec check").wait_for()

        # The same mix 6 dB under full scale, unlimited: Loud mode lifts it into its limiter.
        quiet_path = tmp_path / "quiet-mix.wav"
        quiet = np.round(clip * 10 ** (-6 / 20) * 32768).astype(np.int16)
        sf.write(quiet_path, quiet, rate)
        await box.uncheck()
        await page.set_input_files("#file", str(quiet_path))
        await page.click("[data-testid=analyze]")
        await page.wait_for_function(
            f"() => location.hash.startsWith('#job=') && location.hash !== '#job={job_id}'",
            timeout=JOB_TIMEOUT_MS,
        )
        quiet_id = str(await page.evaluate("location.hash.slice(5)"))
        await report.locator("[data-testid=playback]").wait_for(timeout=JOB_TIMEOUT_MS)
        await page.wait_for_function(
            "() => !document.querySelector('[data-testid=codec-results]')", timeout=JOB_TIMEOUT_MS
        )
        quiet_job = await _api_job(web_server, page, quiet_id)
        loud = next(
            e
            for e in quiet_job["result"]["playback"]
            if (e["platform"], e["mode"]) == ("Spotify", "loud")
        )
        assert loud["limiter"]["active_fraction"] > 0
        loud_row = "[data-testid=playback] tr[data-platform='Spotify'][data-mode='loud']"
        cell = report.locator(f"{loud_row} [data-testid=limiter]")
        percent = round(loud["limiter"]["active_fraction"] * 100)
        assert await cell.inner_text() == (
            f"touches {percent} % of it, up to {loud['limiter']['max_reduction_db']:.1f} dB"
            f" (median {loud['limiter']['median_reduction_db']:.1f} dB)"
        )
        assert problems == []
    finally:
        await context.close()


async def test_polling_when_the_event_stream_is_blocked(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path
) -> None:
    """A proxy that blocks Server-Sent Events: the page polls the job and still gets there."""
    context = await browser.new_context(locale="en-US")
    try:
        await context.route("**/api/jobs/*/events", lambda route: route.abort())
        page, problems = await open_page(context)
        polls: list[str] = []
        page.on(
            "request",
            lambda r: (
                polls.append(r.url) if re.search(r"/api/jobs/[0-9a-f-]{36}$", r.url) else None
            ),
        )
        job_id = await _analyze(page, web_server, sine_wav)
        await page.locator("[data-testid=report]").wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        assert any(url.endswith(job_id) for url in polls)
        # Only the blocked stream requests may have failed.
        assert [p for p in problems if "ERR_FAILED" not in p] == []
    finally:
        await context.close()


async def test_corrupt_file_shows_its_reason_and_a_retry(
    web_server: str, browser: Any, open_page: OpenPage, corrupt_file: Path
) -> None:
    context = await browser.new_context(locale="en-US")
    try:
        page, problems = await open_page(context)
        job_id = await _analyze(page, web_server, corrupt_file)
        error = page.locator("[data-testid=job-error]")
        await error.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        job = await _api_job(web_server, page, job_id)
        assert job["status"] == "failed"
        shown = await page.locator("[data-testid=job-error-message]").inner_text()
        assert shown.strip() and shown == job["error"]["message"]
        assert await page.locator("[data-testid=report]").is_hidden()
        await page.screenshot(path=str(SHOTS / "soundy-web-failed.png"))

        # Try again, from the keyboard (the failure moves the focus to the button): a new job
        # with the same inputs, which fails for the same reason.
        assert await page.evaluate("document.activeElement.dataset.testid") == "retry"
        await page.keyboard.press("Enter")
        await page.wait_for_function(
            f"() => location.hash.startsWith('#job=') && location.hash.slice(5) !== '{job_id}'"
        )
        await error.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        retried = await _api_job(web_server, page, await page.evaluate("location.hash.slice(5)"))
        assert retried["status"] == "failed"
        assert retried["file_key"] == job["file_key"]
        assert problems == []
    finally:
        await context.close()


async def test_progress_is_shown_live(
    web_server: str, browser: Any, open_page: OpenPage, long_wav: Path
) -> None:
    """The upload bar moves, then the job's stage and percentage move while it runs."""
    context = await browser.new_context(locale="en-US")
    try:
        page, problems = await open_page(context)
        await page.goto(web_server + "/")
        await page.set_input_files("#file", str(long_wav))
        # Record every change of the progress text in the page itself: polling from the test
        # misses states that last less than one round trip (a loopback upload can take 10 ms).
        await page.evaluate(
            """() => {
                window.__seen = [];
                const text = document.querySelector('#progress-text');
                const pct = document.querySelector('#progress-pct');
                const record = () => {
                    const entry = [text.innerText, parseInt(pct.innerText, 10) || 0];
                    const last = window.__seen[window.__seen.length - 1];
                    const same = last && last[0] === entry[0] && last[1] === entry[1];
                    if (!same) window.__seen.push(entry);
                };
                const observer = new MutationObserver(record);
                for (const el of [text, pct]) {
                    observer.observe(el, {childList: true, characterData: true, subtree: true});
                }
            }"""
        )
        await page.click("[data-testid=analyze]")
        report = page.locator("[data-testid=report]")
        await report.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        seen = [(t, p) for t, p in await page.evaluate("window.__seen")]
        uploads = [p for t, p in seen if t.startswith("Uploading")]
        running = [p for t, p in seen if not t.startswith("Uploading")]
        assert uploads and uploads[-1] == 100, seen
        assert any(t == "Measuring" for t, _ in seen), seen
        # Several distinct percentages between start and end, never going back.
        assert len({p for p in running if 0 < p < 100}) >= 3, seen
        assert running == sorted(running), seen
        assert problems == []
    finally:
        await context.close()


async def test_reference_file_side_by_side(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path, louder_wav: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(context)
        await page.goto(web_server + "/")
        await page.set_input_files("#file", str(louder_wav))
        await page.check("input[name=refmode][value=file]")
        await page.set_input_files("#ref-file", str(sine_wav))
        await page.click("[data-testid=analyze]")
        side = page.locator("[data-testid=report] [data-testid=reference]")
        await side.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        job = await _api_job(web_server, page, await page.evaluate("location.hash.slice(5)"))
        assert job["mode"] == "reference" and job["reference_job_id"]
        # Both tracks' integrated loudness side by side: 6 dB apart, as generated.
        row = side.locator("tbody tr", has_text="Integrated loudness")
        cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
        assert cells == ["-14.0", "-20.0", "+6.0"]
        assert "sine-1k.wav" in await side.locator("thead").inner_text()
        # The reference is drawn in the charts too.
        for chart in ("loudness", "spectrum", "correlation"):
            legend = page.locator(f"[data-testid=chart-{chart}] .chart-legend")
            assert "Reference" in await legend.inner_text(), chart
        await page.screenshot(path=str(SHOTS / "soundy-web-reference.png"), full_page=True)

        # The same reference again, this time as "an earlier analysis" from the history.
        first_id = job["id"]
        await page.check("input[name=refmode][value=job]")
        option = page.locator("#ref-job option", has_text="sine-1k.wav")
        await page.select_option("#ref-job", await option.get_attribute("value"))
        await page.click("[data-testid=analyze]")
        await page.wait_for_function(
            f"() => location.hash.startsWith('#job=') && location.hash.slice(5) !== '{first_id}'"
        )
        await side.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        again = await _api_job(web_server, page, await page.evaluate("location.hash.slice(5)"))
        assert again["reference_job_id"] == job["reference_job_id"]
        cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
        assert cells == ["-14.0", "-20.0", "+6.0"]
        assert problems == []
    finally:
        await context.close()


async def test_another_browser_cannot_open_the_job(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path
) -> None:
    owner = await browser.new_context(locale="en-US")
    stranger = await browser.new_context(locale="en-US")
    try:
        page, _ = await open_page(owner)
        job_id = await _analyze(page, web_server, sine_wav)
        await page.locator("[data-testid=report]").wait_for(state="visible", timeout=JOB_TIMEOUT_MS)

        other, problems = await open_page(stranger)
        await other.goto(f"{web_server}/#job={job_id}")
        await other.locator("#form-error").wait_for(state="visible")
        assert "does not exist" in await other.locator("#form-error").inner_text()
        assert await other.locator("[data-testid=report]").is_hidden()
        assert await other.locator(f"tr[data-job-id='{job_id}']").count() == 0
        # The browser logs the 404 of GET /api/jobs/{id} itself; nothing else may go wrong.
        assert [p for p in problems if "404" not in p] == []
    finally:
        await owner.close()
        await stranger.close()


async def test_portuguese_page(
    web_server: str, browser: Any, open_page: OpenPage, sine_wav: Path
) -> None:
    context = await browser.new_context(locale="pt-BR", viewport={"width": 375, "height": 800})
    try:
        page, problems = await open_page(context)
        await _analyze(page, web_server, sine_wav, drop=True)
        assert await page.evaluate("document.documentElement.lang") == "pt-BR"
        assert await page.locator("#form-title").inner_text() == "Analisar uma faixa"
        assert await page.locator("[data-testid=analyze]").inner_text() == "Analisar"
        report = page.locator("[data-testid=report]")
        await report.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        assert (await report.locator("#report-title").inner_text()).startswith("Relatório")
        assert "Loudness ao longo do tempo" in await report.inner_text()
        # Numbers in Brazilian form (decimal comma).
        row = report.locator("[data-testid=metrics] tr[data-metric='loudness.integrated_lufs']")
        assert "-20,0 LUFS" in await row.inner_text()
        suggestions = report.locator("[data-testid=suggestions]")
        assert "alvo" in await suggestions.inner_text()  # written by the API in Portuguese
        await page.screenshot(path=str(SHOTS / "soundy-web-pt-375.png"), full_page=True)

        # The switch turns the page into English, the API's suggestions included.
        await page.select_option("#lang", "en")
        assert await page.locator("#form-title").inner_text() == "Analyse a track"
        await page.wait_for_function(
            "() => document.querySelector('#report-title').textContent.startsWith('Report')"
        )
        await page.wait_for_function(
            "() => document.querySelector('[data-testid=suggestions]').textContent"
            ".includes('target')"
        )
        assert "alvo" not in await suggestions.inner_text()
        assert problems == []
    finally:
        await context.close()


async def _failed_job_via_api(base_url: str, data: bytes) -> str:
    """A client uploads bytes that are not audio and the worker fails the job; returns its id."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        token = (await client.post("/api/clients")).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        grant = (
            await client.post(
                "/api/uploads", json={"filename": "broken.wav", "size": len(data)}, headers=headers
            )
        ).json()
        put = await client.put(grant["upload_url"], content=data, headers=grant["headers"])
        assert put.status_code == 200, put.text
        created = await client.post(
            "/api/audio/analyze", json={"file_key": grant["file_key"]}, headers=headers
        )
        assert created.status_code == 202, created.text
        job_id = str(created.json()["job"]["id"])
        for _ in range(600):
            job = (await client.get(f"/api/jobs/{job_id}", headers=headers)).json()
            if job["status"] == "failed":
                return job_id
            assert job["status"] != "completed"
            await _sleep(0.1)
    raise AssertionError("the corrupt job did not fail within 60 s")


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def test_admin_dashboard(
    web_server: str, web_admin_token: str, browser: Any, open_page: OpenPage
) -> None:
    failed_id = await _failed_job_via_api(web_server, b"not audio at all\n" * 64)
    context = await browser.new_context(locale="en-US")
    try:
        page, problems = await open_page(context)
        await page.goto(web_server + "/admin")
        await page.locator("[data-testid=admin-signin]").wait_for(state="visible")
        assert await page.locator("[data-testid=admin-dashboard]").is_hidden()

        # A wrong token is refused and nothing is shown.
        await page.fill("#token", "not-the-token")
        await page.click("[data-testid=admin-signin-button]")
        await page.locator("[data-testid=admin-error]").wait_for(state="visible")
        assert "refused" in await page.locator("[data-testid=admin-error]").inner_text()
        assert await page.locator("[data-testid=admin-dashboard]").is_hidden()

        await page.fill("#token", web_admin_token)
        await page.click("[data-testid=admin-signin-button]")
        dashboard = page.locator("[data-testid=admin-dashboard]")
        await dashboard.wait_for(state="visible")
        for state in ("waiting", "active", "delayed", "completed", "failed"):
            text = await page.locator(f"[data-count={state}] .n").inner_text()
            assert re.fullmatch(r"\d+", text), (state, text)
        # BullMQ counted the failed job as failed (the worker's permanent failure).
        assert int(await page.locator("[data-count=failed] .n").inner_text()) >= 1
        # The running worker is listed.
        assert await page.locator("[data-testid=admin-workers] tbody tr").count() == 1
        # The failure is listed with its reason, and can be retried as a new job.
        failures = page.locator("[data-testid=admin-failures]")
        assert "broken.wav" in await failures.inner_text()
        await page.screenshot(path=str(SHOTS / "soundy-admin.png"), full_page=True)
        row = failures.locator("tr", has_text=failed_id[:8])
        await row.locator("[data-testid=admin-retry]").click()
        note = page.locator("#retry-note")
        await note.wait_for(state="visible")
        match = re.search(r"job ([0-9a-f-]{36})", await note.inner_text())
        assert match, await note.inner_text()
        assert match.group(1) != failed_id

        # sessionStorage keeps the token for a reload, not for a new browser.
        await page.reload()
        await dashboard.wait_for(state="visible")
        # The browser logs the refused request (401) itself; nothing else may go wrong.
        assert [p for p in problems if "401" not in p] == []
    finally:
        await context.close()


async def test_the_report_shows_tempo_and_key_alternatives(
    web_server: str, browser: Any, open_page: OpenPage, tmp_path: Path
) -> None:
    from musical_signals import write_clicks_over_a_minor_triad

    # Clicks at 120 BPM over an A minor triad: a tempo with its half/double readings, a key
    # with its relative key.
    audio = write_clicks_over_a_minor_triad(tmp_path / "clicks.wav")

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(context)
        job_id = await _analyze(page, web_server, audio)
        report = page.locator("[data-testid=report]")
        await report.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
        musical = (await _api_job(web_server, page, job_id))["result"]["musical"]
        text = await report.locator("[data-testid=musical]").inner_text()
        detected, *others = musical["tempo_candidates"]
        assert f"{round(detected['bpm'])} BPM ({round(detected['confidence'] * 100)} %)" in text
        shown = [o for o in others if o["confidence"] >= 0.005]  # 0 % is no reading
        assert shown
        for other in shown:
            assert f"{round(other['bpm'])} ({round(other['confidence'] * 100)} %)" in text
        assert "(0 %)" not in text
        assert f"key: {musical['key']} (relative: {musical['key_relative']})" in text
        await report.locator("[data-testid=musical]").screenshot(
            path=str(SHOTS / "soundy-web-musical.png")
        )
        assert problems == []
    finally:
        await context.close()
