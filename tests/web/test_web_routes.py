"""The page, the dashboard and their files as served by the API (in-process)."""

from __future__ import annotations

from typing import Any

import pytest


async def test_pages_are_served_with_a_strict_policy(api: Any) -> None:
    page = await api.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-testid="analyze"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    admin = await api.get("/admin")
    assert admin.status_code == 200 and 'id="token"' in admin.text
    assert (await api.head("/")).status_code == 200


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/", "/admin", "/r/some-token"])
async def test_pages_connect_only_to_their_own_origin(api: Any, path: str) -> None:
    page = await api.get(path)
    assert _directives(page.headers["content-security-policy"])["connect-src"] == "'self'"


async def test_with_s3_storage_pages_may_also_connect_to_the_bucket_endpoint(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    api = await make_api(storage_url="s3://bucket/p", s3_endpoint_url="http://127.0.0.1:9")
    page = await api.get("/")
    policy = _directives(page.headers["content-security-policy"])
    assert policy["connect-src"] == "'self' http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/js/app.js", "text/javascript"),
        ("/static/js/charts.js", "text/javascript"),
        ("/static/css/style.css", "text/css"),
    ],
)
async def test_static_files(api: Any, path: str, media_type: str) -> None:
    response = await api.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    # Revalidated on each load, so a new release is picked up at once.
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers.get("etag")


@pytest.mark.parametrize(
    "path",
    [
        "/static/../__init__.py",
        "/static/%2e%2e/__init__.py",
        "/static/..%2f..%2fconfig.py",
        "/static/js/missing.js",
        "/static/js",
    ],
)
async def test_nothing_outside_static_is_served(api: Any, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_every_module_the_pages_load_exists(api: Any) -> None:
    """Each ES module import in the shipped JavaScript resolves to a served file."""
    import re

    seen: set[str] = set()
    todo = ["/static/js/app.js", "/static/js/admin.js"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = await api.get(path)
        assert response.status_code == 200, path
        for name in re.findall(r'from "\./([\w.-]+\.js)"', response.text):
            todo.append("/static/js/" + name)
    assert {"/static/js/api.js", "/static/js/i18n.js", "/static/js/report.js"} <= seen
