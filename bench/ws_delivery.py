"""WebSocket delivery: frontdesk against a bare uvicorn WebSocket app, measured in one run.

1. frontdesk (``frontdesk serve``, one worker, SQLite in a temporary directory) with N
   visitors, each signed in anonymously with its own conversation and a socket subscribed to
   its messages topic. An agent replies once to each through REST (a few replies in flight);
   latency runs from just before the POST to the visitor's receipt of the message.
2. The same pattern against a bare ASGI app on the same uvicorn (ws=websockets-sansio) that
   only holds sockets and sends to them, plus one broadcast to all N.
3. Server memory per idle connection: RSS delta over M connected sockets (authenticated and
   subscribed, for frontdesk), divided by M — for both servers.

N = 1,000 and M = 5,000 (quick: 100 and 500). Loopback only. While the replies are timed
this client runs no garbage collection: a full collection over its own sockets took 100 to
245 ms, which each reply in flight would have counted as the server's latency. Usage:
``python -m bench.ws_delivery [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import UNLIMITED

IN_FLIGHT = 8  # concurrent agent replies
CONNECT_BATCH = 100
TEXT = "Thanks for waiting, your order left the warehouse this morning and should arrive soon."


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@contextlib.contextmanager
def _server(argv: list[str], env: dict[str, str], port: int) -> Any:
    process = subprocess.Popen(
        argv,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_raise_fd_limit,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{argv} exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url + "/", timeout=1)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{argv} did not start")
            time.sleep(0.1)
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=15)


def bare_argv(port: int) -> list[str]:
    """The command that serves the bare uvicorn WebSocket app the figures compare with."""
    return [sys.executable, "-m", "uvicorn", "bench._bare_ws:app", "--port", str(port),
            "--ws", "websockets-sansio", "--log-level", "warning"]


def _ms_stats(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def _gather_batched(
    count: int, make: Callable[[int], Awaitable[Any]], batch: int = CONNECT_BATCH
) -> list[Any]:
    results: list[Any] = []
    for start in range(0, count, batch):
        results += await asyncio.gather(*(make(i) for i in range(start, min(count, start + batch))))
    return results


async def _receipt(ws: ClientConnection, text: str) -> float:
    while True:
        frame = json.loads(await ws.recv())
        if frame["action"] == "publish" and any(
            m.get("text") == text for m in frame["payload"]["message"]
        ):
            return time.perf_counter()


async def _replies(
    sockets: list[ClientConnection], post: Callable[[int, str], Awaitable[None]]
) -> list[float]:
    """Latency of each reply from just before its POST to its receipt, with this client's
    garbage collector off meanwhile (the servers' own run as usual)."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int) -> float:
        async with gate:
            text = f"{TEXT} #{i}"
            receipt = asyncio.create_task(_receipt(sockets[i], text))
            started = time.perf_counter()
            await post(i, text)
            return await asyncio.wait_for(receipt, 30) - started

    gc.collect()  # the set-up's garbage, before the clock starts
    gc.disable()
    try:
        return list(await asyncio.gather(*(one(i) for i in range(len(sockets)))))
    finally:
        gc.enable()


@contextlib.asynccontextmanager
async def _closing(sockets: list[ClientConnection]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


class _Frontdesk:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url

    async def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": token} if token else {}
        r = await self.http.request(method, path, headers=headers, **kw)
        if r.status_code != 200:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json()

    async def setup_agent(self) -> tuple[str, str]:
        creds = {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": "bench pass 1"}
        await self.call("POST", "/auth/signup", json={**creds, "firstname": "Bench"})
        token = (await self.call("POST", "/auth/signin", json=creds))["token"]
        project = await self.call("POST", "/projects", token, json={"name": "Bench"})
        return token, project["_id"]

    async def visitor(self, pid: str) -> tuple[str, str]:
        token = (await self.call("POST", "/auth/signinAnonymously", json={"id_project": pid}))[
            "token"
        ]
        rid = f"support-group-{pid}-{uuid.uuid4().hex}"
        await self.call("POST", f"/{pid}/requests/{rid}/messages", token, json={"text": "hi"})
        return token, rid

    async def socket(self, token: str, topic: str) -> ClientConnection:
        ws = await connect(
            self.url.replace("http", "ws") + "/ws?token=" + quote(token),
            open_timeout=30,
            ping_interval=None,
        )
        await ws.send(json.dumps({"action": "subscribe", "payload": {"topic": topic}}))
        while json.loads(await ws.recv())["action"] != "subscribed":
            pass
        return ws


async def _measure_frontdesk(
    url: str, pid_of_server: int, visitors: int, idle: int
) -> dict[str, float]:
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=httpx.Limits(max_connections=64)
    ) as http:
        fd = _Frontdesk(http, url)
        agent, pid = await fd.setup_agent()
        people = await _gather_batched(visitors, lambda i: fd.visitor(pid), batch=16)

        async def open_one(i: int) -> ClientConnection:
            token, rid = people[i % visitors]
            return await fd.socket(token, f"/{pid}/requests/{rid}/messages")

        before = _rss_kib(pid_of_server)
        idle_sockets = await _gather_batched(idle, open_one)
        after = _rss_kib(pid_of_server)
        async with _closing(idle_sockets):
            pass

        async def reply(i: int, text: str) -> None:
            await fd.call(
                "POST", f"/{pid}/requests/{people[i][1]}/messages", agent, json={"text": text}
            )

        sockets = await _gather_batched(visitors, open_one)
        async with _closing(sockets):
            latencies = await _replies(sockets, reply)
        p50, p99 = _ms_stats(latencies)
    return {"p50_ms": p50, "p99_ms": p99, "kib_per_idle_conn": (after - before) / idle}


async def _measure_bare(url: str, pid_of_server: int, visitors: int, idle: int) -> dict[str, float]:
    ws_url = url.replace("http", "ws")
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=httpx.Limits(max_connections=64)
    ) as http:

        async def open_one(i: int) -> ClientConnection:
            return await connect(f"{ws_url}/ws?i={i}", open_timeout=30, ping_interval=None)

        before = _rss_kib(pid_of_server)
        idle_sockets = await _gather_batched(idle, lambda i: open_one(visitors + i))
        after = _rss_kib(pid_of_server)
        async with _closing(idle_sockets):
            pass

        async def send(i: int, text: str) -> None:
            r = await http.post(f"/send?i={i}", content=text)
            r.raise_for_status()

        sockets = await _gather_batched(visitors, open_one)
        async with _closing(sockets):
            latencies = await _replies(sockets, send)
            text = "broadcast"
            receipts = [asyncio.create_task(_receipt(ws, text)) for ws in sockets]
            started = time.perf_counter()
            (await http.post("/broadcast", content=text)).raise_for_status()
            broadcast = max(await asyncio.gather(*receipts)) - started
        p50, p99 = _ms_stats(latencies)
    return {
        "p50_ms": p50,
        "p99_ms": p99,
        "kib_per_idle_conn": (after - before) / idle,
        "broadcast_all_ms": broadcast * 1000,
    }


def run(quick: bool = False) -> dict[str, float]:
    """Measure both servers; figures in milliseconds and KiB, plus frontdesk/bare ratios."""
    _raise_fd_limit()
    visitors, idle = (100, 500) if quick else (1000, 5000)
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        port = _free_port()
        env = {
            "FRONTDESK_DATA_DIR": tmp,
            "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "FRONTDESK_LOG_LEVEL": "warning",
            # Idle sockets in this run do not answer heartbeats; keep them open meanwhile.
            "FRONTDESK_WS_HEARTBEAT_INTERVAL": "600",
            **UNLIMITED,
        }
        argv = [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)]
        with _server(argv, env, port) as (process, url):
            frontdesk = asyncio.run(_measure_frontdesk(url, process.pid, visitors, idle))
        port = _free_port()
        with _server(bare_argv(port), {}, port) as (process, url):
            bare = asyncio.run(_measure_bare(url, process.pid, visitors, idle))
    results = {f"frontdesk_{k}": v for k, v in frontdesk.items()}
    results |= {f"bare_{k}": v for k, v in bare.items()}
    results |= {
        "visitors": float(visitors),
        "idle_connections": float(idle),
        "p50_ratio": frontdesk["p50_ms"] / bare["p50_ms"],
        "p99_ratio": frontdesk["p99_ms"] / bare["p99_ms"],
        "memory_ratio": frontdesk["kib_per_idle_conn"] / bare["kib_per_idle_conn"],
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 visitors, 500 idle sockets")
    results = run(quick=parser.parse_args().quick)
    for name, value in results.items():
        print(f"{name:32} {value:10.2f}")


if __name__ == "__main__":
    main()
