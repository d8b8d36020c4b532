"""A real frontdesk server on a free loopback port, for clients that need a socket
(browsers, Node clients, WebSockets from outside the process)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

from frontdesk.app import create_app
from frontdesk.services import Services
from frontdesk.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    def __init__(self, app: Starlette, server: uvicorn.Server, port: int) -> None:
        self.app = app
        self.server = server
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services


@contextmanager
def live_server(settings: Settings, **app_kwargs: Any) -> Iterator[LiveServer]:
    """Serve ``create_app(settings)`` with uvicorn in a background thread until the block ends."""
    port = settings.port if settings.port != 8000 else free_port()
    settings = settings.replace(port=port, public_url=f"http://127.0.0.1:{port}")
    app = create_app(settings, **app_kwargs)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(app, server, port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
