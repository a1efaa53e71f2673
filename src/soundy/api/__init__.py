"""The HTTP API (FastAPI): ``soundy.api.app.create_app(settings)``; routes in ``api.routes``,
typed dependencies in ``api.deps``, request/response shapes in ``api.schemas``, the error shape
in ``api.errors``, tokens and URL signing in ``api.auth``. Reference: docs/api.md."""
