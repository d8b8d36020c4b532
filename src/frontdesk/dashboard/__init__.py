"""The agent dashboard: one HTML shell plus static JS and CSS modules under ``/dashboard/``.

Every page path answers the same shell; the browser-side router picks the view, and the views
talk to the public REST API and the realtime socket like any other client.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from frontdesk.statuses import serve_status_module

_HERE = Path(__file__).resolve().parent
_SHELL = _HERE / "templates" / "index.html"

# The dashboard renders visitor-supplied text; a strict policy means that even a bug that
# inserted it as markup could not run script or load anything from elsewhere.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


async def _shell(request: Request) -> Response:
    return FileResponse(_SHELL, media_type="text/html", headers=_SECURITY_HEADERS)


async def _to_shell(request: Request) -> Response:
    return RedirectResponse("/dashboard/", status_code=308)


def dashboard_routes() -> list[BaseRoute]:
    """Routes to mount before the API's, so no ``/{pid}/…`` pattern can claim a page path."""
    return [
        Route("/dashboard", _to_shell),
        Route("/dashboard/static/js/status.js", serve_status_module, methods=["GET", "HEAD"]),
        Mount("/dashboard/static", StaticFiles(directory=_HERE / "static"), name="dashboard"),
        Route("/dashboard/{page:path}", _shell, methods=["GET", "HEAD"]),
    ]
