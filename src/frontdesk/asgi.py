"""Entry point for ASGI servers: ``uvicorn --factory frontdesk.asgi:app``."""

from __future__ import annotations

from starlette.applications import Starlette

from frontdesk.app import create_app
from frontdesk.settings import Settings


def app() -> Starlette:
    return create_app(Settings.from_env())
