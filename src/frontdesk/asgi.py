"""Entry point for ASGI servers: ``uvicorn --factory frontdesk.asgi:app``."""

from __future__ import annotations

import gc

from starlette.applications import Starlette

from frontdesk.app import create_app
from frontdesk.observability.logs import configure_logging
from frontdesk.settings import Settings

# Allocations (less deallocations) of objects that can hold others between two collections
# of the youngest generation: CPython's default is 700.
YOUNG_COLLECTION_THRESHOLD = 10_000


def app() -> Starlette:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    served = create_app(settings)
    # What the process made to serve (modules, models, routes, schemas) lives as long as it
    # does: frozen, the collector's full passes no longer walk it (docs/performance.md).
    gc.collect()
    gc.freeze()
    # A request in flight holds a few hundred objects: at the default 700 allocations the
    # youngest generation is collected every few requests, and what the requests in flight
    # hold at that moment is promoted, only to die soon after in an older generation, whose
    # collections (every object the caches hold) it brings on sooner. At 10,000, a sign-in
    # and a message cost 6-9% less CPU through the server (docs/performance.md).
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    return served
