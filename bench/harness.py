"""Servers, load runs and the comparison with the baseline.

frontdesk runs as a user runs it (``frontdesk serve --workers N``), the baseline as
``uvicorn --factory bench.baseline:app`` with the same worker count, both on the same database
and tables. Each figure alternates frontdesk and baseline runs so that the noise of a shared
machine falls on both; medians of the repeats are reported.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Request = tuple[str, str, str | None, str | None]  # method, path, Authorization, JSON body

# All load comes from one loopback address, which the per-IP abuse limits and connection caps
# would throttle within a second: benchmarks measure the server's cost with them off.
UNLIMITED = {
    "FRONTDESK_SIGNIN_RATE_PER_IP": "0",
    "FRONTDESK_SIGNIN_RATE_PER_PROJECT": "0",
    "FRONTDESK_MESSAGE_RATE_PER_IP": "0",
    "FRONTDESK_MESSAGE_RATE_PER_PROJECT": "0",
    "FRONTDESK_HTTP_MAX_CONNECTIONS": "20000",
    "FRONTDESK_HTTP_MAX_CONNECTIONS_PER_IP": "0",
    "FRONTDESK_WS_SOCKETS_PER_ADDRESS": "0",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http(port: int, method: str, path: str, body: Any = None, auth: str | None = None) -> Any:
    """One JSON call to a local server (set-up only, not measured)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Server:
    """A server process on a free loopback port, stopped (and waited for) on exit."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            argv, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.log.seek(0)
        output = self.log.read().decode()[-3000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not start:\n{output}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes.

        Read from /proc, so Linux only (NaN elsewhere). Unlike requests/s it hardly moves when
        other programs compete for the cores, which makes it the steadier cost figure.
        """
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        stats: dict[int, tuple[int, float]] = {}
        try:
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/stat") as handle:
                            fields = handle.read().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    stats[int(entry)] = (
                        int(fields[1]),
                        (int(fields[11]) + int(fields[12])) / ticks,
                    )
        except OSError:
            return float("nan")
        family, total, grew = {self.process.pid}, 0.0, True
        while grew:
            grew = False
            for pid, (parent, _) in stats.items():
                if parent in family and pid not in family:
                    family.add(pid)
                    grew = True
        for pid in family:
            total += stats.get(pid, (0, 0.0))[1]
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@contextmanager
def frontdesk_server(
    env: dict[str, str], workers: int, *, name: str = "frontdesk"
) -> Iterator[Server]:
    port = free_port()
    if workers > 1:  # frontdesk refuses several workers that cannot share sign-outs
        env = {
            "FRONTDESK_REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "FRONTDESK_REDIS_CHANNEL": f"frontdesk-bench:{port}",
            **env,
        }
    server = Server(
        name,
        [
            sys.executable,
            "-m",
            "frontdesk",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        {**env, **UNLIMITED, "FRONTDESK_LOG_LEVEL": "warning"},
        port,
    )
    try:
        server.wait_ready("/openapi.json")
        yield server
    finally:
        server.stop()


@contextmanager
def baseline_server(database_url: str, workers: int) -> Iterator[Server]:
    port = free_port()
    root = str(Path(__file__).resolve().parent.parent)
    server = Server(
        "baseline",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.baseline:app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {
            "BENCH_DATABASE_URL": database_url,
            "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""),
        },
        port,
    )
    try:
        server.wait_ready("/")
        yield server
    finally:
        server.stop()


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = float("nan")  # server CPU time per request, microseconds


def load(
    server: Server,
    requests: list[Request],
    *,
    seconds: float,
    warmup: float,
    connections: int,
    cycle: bool = True,
) -> Run:
    """One closed-loop run from a separate process; raises if any answer was not a 200."""
    port = server.port
    requests = list(requests)
    cpu_before = server.cpu_seconds()
    spec = {
        "port": port,
        "connections": connections,
        "seconds": seconds,
        "warmup": warmup,
        "requests": requests,
        "cycle": cycle,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", handle.name],
            capture_output=True,
            text=True,
            timeout=seconds + warmup + 120,
            check=False,
            env={
                **os.environ,
                "PYTHONPATH": str(Path(__file__).resolve().parent.parent)
                + os.pathsep
                + os.environ.get("PYTHONPATH", ""),
            },
        )
    finally:
        os.unlink(handle.name)
    if out.returncode != 0:
        raise RuntimeError(f"the load generator failed on port {port}:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout)
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} failed requests, e.g. {result['error_sample']}")
    cpu = server.cpu_seconds() - cpu_before
    # The CPU count covers warm-up and the whole run; so does this request count.
    sent = result["requests"] + result["warmup_requests"]
    cpu_us = cpu / sent * 1e6 if sent else float("nan")
    return Run(result["rps"], result["p50_ms"], result["p99_ms"], result["errors"], cpu_us)


@dataclass
class Comparison:
    figure: str
    backend: str
    workers: int
    data: str
    frontdesk: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)

    @staticmethod
    def _median(runs: list[Run], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs) if runs else float("nan")

    def fd(self, attr: str) -> float:
        return self._median(self.frontdesk, attr)

    def base(self, attr: str) -> float:
        return self._median(self.baseline, attr)

    @property
    def ratio(self) -> float:
        base = self.base("rps")
        return self.fd("rps") / base if base else float("nan")

    @property
    def cpu_ratio(self) -> float:
        """Baseline CPU per request ÷ frontdesk's: the throughput share on idle cores."""
        fd = self.fd("cpu_us")
        return self.base("cpu_us") / fd if fd else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "backend": self.backend,
            "workers": self.workers,
            "data": self.data,
            "frontdesk_rps": self.fd("rps"),
            "frontdesk_p50_ms": self.fd("p50_ms"),
            "frontdesk_p99_ms": self.fd("p99_ms"),
            "baseline_rps": self.base("rps"),
            "baseline_p50_ms": self.base("p50_ms"),
            "baseline_p99_ms": self.base("p99_ms"),
            "ratio": self.ratio,
            "frontdesk_cpu_us": self.fd("cpu_us"),
            "baseline_cpu_us": self.base("cpu_us"),
            "cpu_ratio": self.cpu_ratio,
            "repeats": len(self.frontdesk),
        }


def compare(
    comparison: Comparison,
    frontdesk: Server,
    baseline: Server,
    requests_for: Callable[[], list[Request]],
    *,
    repeats: int,
    seconds: float,
    warmup: float,
    connections: int,
    cycle: bool = True,
) -> Comparison:
    """Alternate frontdesk and baseline runs; ``requests_for`` is called once per run."""
    for _ in range(repeats):
        for server, runs in (
            (frontdesk, comparison.frontdesk),
            (baseline, comparison.baseline),
        ):
            runs.append(
                load(
                    server,
                    requests_for(),
                    seconds=seconds,
                    warmup=warmup,
                    connections=connections,
                    cycle=cycle,
                )
            )
    return comparison
