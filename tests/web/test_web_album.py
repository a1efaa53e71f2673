"""Several files dropped on the page are one album: in real headless Chromium against a real API
and worker, on real music (tests/real_music.py). Screenshot: /tmp/soundy-web-album.png."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from test_web_browser import JOB_TIMEOUT_MS, SHOTS, OpenPage

import real_music

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The album chart drawn at the print width (charts.js PRINT_WIDTH_PX, an A4 page's text width).
_PRINT_WIDTH_DRAWN = (
    "() => document.querySelector('[data-testid=album] [data-testid=chart-album-loudness] svg')"
    "?.getAttribute('width') === '660'"
)


@pytest.fixture(scope="module")
def ep_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """15 s of the rock mix: at full scale, 6 dB down, and at full scale again."""
    folder = tmp_path_factory.mktemp("ep")
    return [
        real_music.write_16bit(folder / name, "rock", gain, start_s=30.0, seconds=15.0)
        for name, gain in (("1-opener.wav", 0.0), ("2-ballad.wav", -6.0), ("3-closer.wav", 0.0))
    ]


async def _drop_files(page: Any, selector: str, files: list[Path]) -> None:
    """Drop ``files`` on ``selector`` together, as dragged from the desktop."""
    payload = [[f.name, base64.b64encode(f.read_bytes()).decode()] for f in files]
    data_transfer = await page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, b64] of files) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], name, { type: "audio/wav" }));
            }
            return dt;
        }""",
        payload,
    )
    await page.dispatch_event(selector, "dragenter", {"dataTransfer": data_transfer})
    await page.dispatch_event(selector, "drop", {"dataTransfer": data_transfer})


async def test_dropped_files_make_an_album_with_a_loudness_chart(
    web_server: str, browser: Any, open_page: OpenPage, ep_files: list[Path]
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(context)
        await page.goto(web_server + "/")
        await page.wait_for_function("() => document.querySelectorAll('#genre option').length > 1")
        # Dropped in the wrong order; the closer is moved down to the end.
        await _drop_files(page, "[data-testid=dropzone]", [ep_files[0], ep_files[2], ep_files[1]])
        order = page.locator("[data-testid=album-file]")
        assert await order.count() == 3
        await page.get_by_role("button", name=f"Move {ep_files[2].name} down").click()
        assert await order.locator("span").all_inner_texts() == [f.name for f in ep_files]
        assert "3 files" in await page.locator("#file-name").inner_text()
        await page.click("[data-testid=analyze]")

        album = page.locator("[data-testid=album]")
        await album.wait_for(state="visible", timeout=3 * JOB_TIMEOUT_MS)
        assert (await page.evaluate("location.hash")).startswith("#album=")
        # The track order as a loudness chart: one bar per track, in album order, the quiet
        # one 6 LU under the others and marked as standing out.
        bars = album.locator("[data-testid=chart-album-loudness] g.bar")
        assert await bars.count() == 3
        values = [float(await bars.nth(i).get_attribute("data-value") or "nan") for i in range(3)]
        assert values[1] == pytest.approx(values[0] - 6.0, abs=0.05)
        assert values[2] == pytest.approx(values[0], abs=0.05)
        assert ep_files[1].name[:12] in (await bars.nth(1).text_content() or "")
        assert await bars.nth(1).locator("rect").get_attribute("fill") == "#c2410c"
        rows = album.locator("[data-testid=album-tracks] tbody tr")
        assert [await rows.nth(i).locator("th").inner_text() for i in range(3)] == [
            f.name for f in ep_files
        ]
        ballad = rows.nth(1)
        assert "stands out" in await ballad.locator("td[data-measure=loudness]").inner_text()
        assert "-6.0" in await ballad.locator("td[data-measure=loudness]").inner_text()
        # In the album the ballad plays 6 dB under its own track-mode level... unless lifting
        # it alone would have pushed its peaks over -1 dBTP; either way below zero.
        diff = await ballad.locator("[data-testid=album-diff]").inner_text()
        assert diff.startswith("-") and float(diff) < -1.0
        outliers = album.locator("[data-testid=album-outliers] li")
        assert await outliers.count() == 1
        assert "2-ballad.wav is 6.0 LU quieter" in await outliers.first.inner_text()
        playback = await album.locator("[data-testid=album-playback]").inner_text()
        assert "set by the loudest track" in playback and "AES TD1008" in playback
        await page.screenshot(path=str(SHOTS / "soundy-web-album.png"), full_page=True)
        # Printed: the album with its chart, without the form, the history or the buttons.
        await page.emulate_media(media="print")
        assert await page.locator("#analyze").is_hidden()
        assert await page.locator("#history").is_hidden()
        assert await album.locator("[data-testid=print]").is_hidden()
        chart = album.locator("[data-testid=chart-album-loudness] svg")
        # The redraw runs on the media query's change event, which Chromium dispatches after
        # emulate_media returns: wait for it rather than read the width at once.
        await page.wait_for_function(_PRINT_WIDTH_DRAWN)
        box = await chart.bounding_box()
        assert box is not None and box["width"] > 300
        await page.emulate_media(media="screen")

        # Each track opens as its own report; the album's address reopens the album, and so
        # does its row in the history.
        address = page.url
        await rows.nth(0).get_by_role("button").click()
        await page.locator("[data-testid=report]").wait_for(state="visible")
        assert await album.is_hidden()
        albums = page.locator("[data-testid=album-history] li")
        await albums.first.wait_for()
        assert await albums.count() == 1 and "3 tracks" in await albums.first.inner_text()
        await albums.first.get_by_role("button").click()
        await album.locator("[data-testid=album-tracks]").wait_for(state="visible")
        assert await page.locator("[data-testid=report]").is_hidden()
        await page.goto(address)
        await page.reload()
        await album.locator("[data-testid=album-tracks]").wait_for(state="visible")
        # In Portuguese.
        await page.select_option("[data-testid=lang]", "pt-BR")
        await album.get_by_role("heading", name="Ordem das faixas por loudness").wait_for()
        assert "6,0 LU mais baixa" in await outliers.first.inner_text()
        assert problems == [], problems
    finally:
        await context.close()


async def test_album_share_link_opens_without_a_token_prints_and_is_revoked(
    web_server: str, browser: Any, open_page: OpenPage, ep_files: list[Path]
) -> None:
    owner = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    stranger = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page, problems = await open_page(owner)
        await page.goto(web_server + "/")
        await page.wait_for_function("() => document.querySelectorAll('#genre option').length > 1")
        await _drop_files(page, "[data-testid=dropzone]", ep_files)
        await page.click("[data-testid=analyze]")
        album = page.locator("[data-testid=album]")
        await album.locator("[data-testid=album-tracks]").wait_for(
            state="visible", timeout=3 * JOB_TIMEOUT_MS
        )
        await album.locator("[data-testid=share-create]").click()
        field = album.locator("[data-testid=share-url]")
        await field.wait_for(state="visible")
        url = await field.input_value()
        assert url.startswith(web_server + "/r/albums/"), url

        # A browser that never used Soundy: the album, its chart and its table, and no track
        # opens (the link gives the album, not its tracks' reports).
        shared, shared_problems = await open_page(stranger)
        calls: list[str] = []
        shared.on("request", lambda r: calls.append(r.url) if "/api/" in r.url else None)
        await shared.goto(url)
        shared_album = shared.locator("[data-testid=album]")
        await shared_album.locator("[data-testid=album-tracks]").wait_for(state="visible")
        assert await shared.locator("[data-testid=report]").is_hidden()
        bars = shared_album.locator("[data-testid=chart-album-loudness] g.bar")
        assert await bars.count() == 3
        rows = shared_album.locator("[data-testid=album-tracks] tbody tr")
        assert [await rows.nth(i).locator("th").inner_text() for i in range(3)] == [
            f.name for f in ep_files
        ]
        assert await shared_album.get_by_role("button").count() == 0
        outliers = shared_album.locator("[data-testid=album-outliers] li")
        assert "2-ballad.wav is 6.0 LU quieter" in await outliers.first.inner_text()
        assert await shared.locator("#analyze, [data-testid=dropzone], #history").count() == 0
        assert await shared.locator("[data-testid=share]").count() == 0
        assert await shared.evaluate("localStorage.getItem('soundy.token')") is None
        assert not any("/api/clients" in c or "/api/albums" in c or "/api/jobs" in c for c in calls)
        await shared.screenshot(path=str(SHOTS / "soundy-share-album.png"), full_page=True)

        # Printed: the album with its chart drawn at the page's text width, no buttons.
        await shared.emulate_media(media="print")
        assert await shared.locator("[data-testid=print]").is_hidden()
        assert await shared_album.is_visible()
        await shared.wait_for_function(_PRINT_WIDTH_DRAWN)
        pdf = await shared.pdf(format="A4", print_background=True)
        (SHOTS / "soundy-share-album.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
        await shared.emulate_media(media="screen")

        # In Portuguese, as the link `soundy share create --lang pt-BR` prints opens it.
        await shared.goto(url + "?lang=pt-BR")
        await shared_album.get_by_role("heading", name="Ordem das faixas por loudness").wait_for()
        assert "6,0 LU mais baixa" in await outliers.first.inner_text()
        assert await shared.locator("[data-testid=lang]").input_value() == "pt-BR"

        # Revoked by the owner: the link says so and shows nothing of the album.
        await album.locator("[data-testid=share-revoke]").click()
        await album.locator("[data-testid=share-create]").wait_for(state="visible")
        await shared.reload()
        gone = shared.locator("[data-testid=share-status]")
        await gone.wait_for(state="visible")
        assert await shared_album.is_hidden()
        assert await shared_album.locator("[data-testid=album-tracks]").count() == 0
        assert problems == [], problems
        assert all("404" in p for p in shared_problems), shared_problems
    finally:
        await owner.close()
        await stranger.close()
