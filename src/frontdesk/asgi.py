"""Entry point for ASGI servers: ``uvicorn --factory frontdesk.asgi:app``."""

from __future__ import annotations

from starlette.applications import Starlette

from frontdesk.app import create_app
from frontdesk.observability.logs import configure_logging
from frontdesk.settings import Settings


def app() -> Starlette:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
