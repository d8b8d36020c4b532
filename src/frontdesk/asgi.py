"""Entry point for ASGI servers: ``uvicorn --factory frontdesk.asgi:app``."""

from __future__ import annotations

import gc

from starlette.applications import Starlette

from frontdesk.app import create_app
from frontdesk.observability.logs import configure_logging
from frontdesk.settings import Settings


def app() -> Starlette:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    served = create_app(settings)
    # What the process made to serve (modules, models, routes, schemas) lives as long as it
    # does: frozen, the collector's full passes no longer walk it (docs/performance.md).
    gc.collect()
    gc.freeze()
    return served
