"""A deployment as an operator builds it, for tests that go through the proxy only: Debian's
nginx with ``deploy/nginx.conf`` (TLS from a test authority) in front of two ``frontdesk
serve`` processes on PostgreSQL and Redis."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import trustme

from tests.conftest import IN_CI
from tests.live import free_port
from tests.realtime.served import Served, process_env, shared_env
from tests.realtime.served import start as start_server

ROOT = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"
_SHIPPED_UPSTREAMS = ("127.0.0.1:8001", "127.0.0.1:8002")


def require_nginx() -> None:
    """Skip without nginx, except in CI (``make test`` installs it)."""
    if os.access(NGINX, os.X_OK):
        return
    if IN_CI:
        pytest.fail(f"{NGINX} is missing (CI=true: make test installs Debian's nginx)")
    pytest.skip(f"{NGINX} is missing; make test installs it")


@dataclass
class Process:
    """One ``frontdesk serve`` behind the proxy; it can be stopped and started again."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    served: Served | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.served = start_server(self.env, self.log, port=self.port, probe="/health", append=True)

    def terminate(self) -> int:
        """SIGTERM, as systemd and container runtimes stop a process; its exit status."""
        assert self.served is not None
        self.served.process.send_signal(signal.SIGTERM)
        return self.served.process.wait(timeout=60)

    def kill(self) -> None:
        if self.served is not None and self.served.process.poll() is None:
            self.served.process.kill()
            self.served.process.wait(timeout=10)


@dataclass
class Stack:
    url: str  # https://127.0.0.1:<port>, nginx's TLS listener
    http_url: str  # nginx's plain listener, which only redirects
    processes: list[Process]
    ssl_context: ssl.SSLContext
    log_dir: Path
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, source: str = "127.0.0.1") -> httpx.AsyncClient:
        """An HTTPS client to the proxy whose connections come from address ``source``."""
        transport = httpx.AsyncHTTPTransport(verify=self.ssl_context, local_address=source)
        return httpx.AsyncClient(base_url=self.url, transport=transport, timeout=15)


def render_nginx_conf(
    tls_port: int, http_port: int, upstreams: list[int], cert: Path, key: Path, logs: Path
) -> str:
    """deploy/nginx.conf with this machine's ports, certificate and log folder."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{tls_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "/etc/ssl/frontdesk/fullchain.pem": str(cert),
        "/etc/ssl/frontdesk/privkey.pem": str(key),
        "/var/log/nginx/": f"{logs}/",
    }
    for shipped, port in zip(_SHIPPED_UPSTREAMS, upstreams, strict=True):
        replacements[shipped] = f"127.0.0.1:{port}"
    for shipped, local in replacements.items():
        assert shipped in conf, f"deploy/nginx.conf no longer has {shipped!r}"
        conf = conf.replace(shipped, local)
    # The test machine may have no IPv6 loopback: the [::] listeners are left out.
    return re.sub(r"^\s*listen \[::\]:\d+[^;]*;\n", "", conf, flags=re.MULTILINE)


def _main_conf(work: Path, site: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the test's files
    temp = "\n".join(
        f"    {kind}_temp_path {work / kind};" for kind in
        ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {work / 'nginx.pid'};\n"
        f"error_log {work / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n{temp}\n    include {site};\n}}\n"
    )


@contextmanager
def nginx(work: Path, site_conf: str) -> Iterator[subprocess.Popen[bytes]]:
    work.mkdir(parents=True, exist_ok=True)
    site = work / "frontdesk.conf"
    site.write_text(site_conf)
    main = work / "nginx.conf"
    main.write_text(_main_conf(work, site))
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(work), "-c", str(main)], capture_output=True, text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    with (work / "nginx.out").open("wb") as out:
        process = subprocess.Popen(
            [NGINX, "-p", str(work), "-c", str(main)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for(url: str, context: ssl.SSLContext) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(url + "/health", verify=context, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("nginx did not answer")
        time.sleep(0.1)


@contextmanager
def deployment(tmp_path: Path, pg_schema: str, **settings: str) -> Iterator[Stack]:
    """nginx in front of two frontdesk processes on ``pg_schema`` and Redis; ``settings`` are
    FRONTDESK_* overrides (lower-case names) for both processes."""
    require_nginx()
    env = process_env(shared_env(
        pg_schema,
        # nginx connects from the loopback address: the one proxy to trust.
        trusted_proxies="127.0.0.1",
        **settings,
    ), clean=True)
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    context = ssl.create_default_context()
    authority.configure_trust(context)

    processes = [
        Process(name, free_port(), {**env, "FRONTDESK_DATA_DIR": str(tmp_path / name)},
                tmp_path / f"{name}.log")
        for name in ("a", "b")
    ]
    tls_port, http_port = free_port(), free_port()
    logs = tmp_path / "nginx-logs"
    logs.mkdir()
    site = render_nginx_conf(tls_port, http_port, [p.port for p in processes], cert, key, logs)
    try:
        for process in processes:  # one after the other: the first migrates the schema
            process.start()
        with nginx(tmp_path / "nginx", site):
            url = f"https://127.0.0.1:{tls_port}"
            _wait_for(url, context)
            yield Stack(url, f"http://127.0.0.1:{http_port}", processes, context, logs)
    finally:
        for process in processes:
            if process.served is not None:
                process.served.stop()
