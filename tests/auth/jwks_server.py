"""A customer's JWKS host for tests: HTTPS on loopback with a test CA (trustme), whose paths
behave well or badly on demand, plus a plain-HTTP "internal" server that counts its hits."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import trustme

# What a path does: "ok" serves the document, "slow" drips a body that never ends, "huge"
# streams megabytes without a length, "huge-announced" announces them, "redirect" answers 302
# to ``redirect_to``, "error" answers 500 with an internal-looking text.
Mode = str
HUGE_BYTES = 10 * 1024 * 1024
INTERNAL_TEXT = "db-password=hunter2 internal-build-7"


class JwksHost:
    def __init__(
        self,
        ca: trustme.CA,
        document: dict[str, Any],
        names: tuple[str, ...] = ("localhost", "127.0.0.1", "::1"),
    ) -> None:
        self.document = document
        self.modes: dict[str, Mode] = {}
        self.fetches: dict[str, int] = {}
        self.huge_completed = False
        self.redirect_to = ""
        self.stop = threading.Event()
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.fetches[self.path] = host.fetches.get(self.path, 0) + 1
                try:
                    host.answer(self, host.modes.get(self.path, "ok"))
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    return

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*names).configure_cert(context)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}{path}"

    def answer(self, handler: http.server.BaseHTTPRequestHandler, mode: Mode) -> None:
        if mode == "ok":
            body = json.dumps(self.document).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        elif mode == "slow":
            handler.send_response(200)
            handler.send_header("Content-Length", "4000")
            handler.end_headers()
            while not self.stop.wait(0.2):
                handler.wfile.write(b" ")
                handler.wfile.flush()
        elif mode in ("huge", "huge-announced"):
            handler.send_response(200)
            if mode == "huge-announced":
                handler.send_header("Content-Length", str(HUGE_BYTES))
            handler.end_headers()
            chunk = b" " * 65536
            for _ in range(HUGE_BYTES // len(chunk)):
                handler.wfile.write(chunk)
            self.huge_completed = True
        elif mode == "redirect":
            handler.send_response(302)
            handler.send_header("Location", self.redirect_to)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif mode == "error":
            body = INTERNAL_TEXT.encode()
            handler.send_response(500)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class InternalService:
    """A plain-HTTP service on loopback, as found inside a network; counts who reached it."""

    def __init__(self) -> None:
        self.hits = 0
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.hits += 1
                body = INTERNAL_TEXT.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/latest/meta-data"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def jwks_host(tmp_path: Path, document: dict[str, Any]) -> Iterator[tuple[JwksHost, str]]:
    """A JwksHost and the path of its CA's certificate (for FRONTDESK_JWKS_CA_FILE)."""
    ca = trustme.CA()
    ca_file = tmp_path / "jwks-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    host = JwksHost(ca, document)
    try:
        yield host, str(ca_file)
    finally:
        host.close()
