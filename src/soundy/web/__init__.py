"""The web page at ``/`` and the operator dashboard at ``/admin``.

Plain HTML, JavaScript modules and CSS shipped inside the package (``web/static``): no build step,
no CDN. The charts are drawn by the page's own small SVG code (``static/js/charts.js``).

Routes (all ``GET``, no authentication: the pages hold no data, they call ``/api`` with the
browser's token):

* ``/``                the producer's page (upload, live progress, report, history)
* ``/admin``           the operator dashboard (asks for ``SOUNDY_ADMIN_TOKEN``)
* ``/r/{token}``       a shared report, read-only (its data: ``GET /api/shared/{token}``)
* ``/r/albums/{token}`` a shared album report (``GET /api/shared/albums/{token}``)
* ``/static/{path}``   the page's files; only files inside ``static/`` are ever served
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

__all__ = ["STATIC_DIR", "content_security_policy", "router"]

STATIC_DIR = (Path(__file__).parent / "static").resolve()

# The files change with each release and carry no version in their names: ask browsers to
# revalidate (ETag / Last-Modified from FileResponse make that a cheap 304).
_CACHE_HEADERS = {"Cache-Control": "no-cache"}
# Pages: no framing by other sites, no sniffing, scripts and styles only from this origin, and
# connections only to this origin (plus the S3 endpoint the page PUTs uploads to).
_PAGE_HEADERS = {
    **_CACHE_HEADERS,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def content_security_policy(upload_origin: str | None = None) -> str:
    """The pages' CSP: everything from this origin; ``upload_origin`` (``https://host:port``,
    the storage's presigned upload URLs) may also be connected to."""
    connect = "'self'" + (f" {upload_origin}" if upload_origin else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}

router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str) -> FileResponse:
    state = getattr(request.app.state, "soundy", None)
    upload_origin = state.storage.upload_origin() if state is not None else None
    headers = {**_PAGE_HEADERS, "Content-Security-Policy": content_security_policy(upload_origin)}
    return FileResponse(STATIC_DIR / name, media_type=_MEDIA_TYPES[".html"], headers=headers)


@router.api_route("/", methods=["GET", "HEAD"])
async def index(request: Request) -> FileResponse:
    """The producer's page."""
    return _page(request, "index.html")


@router.api_route("/admin", methods=["GET", "HEAD"])
async def admin(request: Request) -> FileResponse:
    """The operator dashboard (its data comes from ``/api/admin/*``, behind the admin token)."""
    return _page(request, "admin.html")


@router.api_route("/r/{token}", methods=["GET", "HEAD"])
async def shared(request: Request, token: str) -> FileResponse:
    """A shared report, read-only: the page reads the token from its own address and asks
    ``/api/shared/{token}``, which answers 404 for a wrong or revoked link."""
    return _page(request, "share.html")


@router.api_route("/r/albums/{token}", methods=["GET", "HEAD"])
async def shared_album(request: Request, token: str) -> FileResponse:
    """A shared album report, read-only: the same page, which asks
    ``/api/shared/albums/{token}`` when its address starts ``/r/albums/``."""
    return _page(request, "share.html")


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static(path: str) -> Response:
    """A file under ``static/``; anything that resolves outside it is a 404."""
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        return JSONResponse(
            {"error": {"code": "not_found", "message": "No such file."}}, status_code=404
        )
    media_type = _MEDIA_TYPES.get(target.suffix.lower(), "application/octet-stream")
    return FileResponse(target, media_type=media_type, headers=_CACHE_HEADERS)
