"""The embeddable chat widget: static JavaScript served under ``/widget/``.

``/widget/frontdesk.js`` is the one script a host page includes; it loads its ES modules
from ``/widget/lib/``. No build step: the files are served as they are in the source tree,
but ``lib/status.js``, which the server builds from its request status enum.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from frontdesk.statuses import serve_status_module

STATIC_DIR = Path(__file__).resolve().parent / "static"


def widget_routes() -> list[BaseRoute]:
    return [
        Route("/widget/lib/status.js", serve_status_module, methods=["GET", "HEAD"]),
        Mount("/widget", app=StaticFiles(directory=STATIC_DIR), name="widget"),
    ]
