"""Figure 8: 10,000 idle visitor sockets on one frontdesk process, delivery to 100 of them.

1. frontdesk (``frontdesk serve``, one worker, SQLite in a temporary directory) with N distinct
   visitors, each signed in anonymously over REST (rate limits off, as for every figure). The
   first S of them open a conversation with a first message.
2. This process opens S sockets, each subscribed to its visitor's conversation. A holder
   process opens the other N - S sockets (authenticated by the token in the URL, subscribed to
   nothing) and answers every server heartbeat, so keep-alive frames flow on all of them during
   the measurement.
3. For 1.2 heartbeat intervals (every idle socket is pinged once or more meanwhile) an agent
   replies over REST into the S conversations in turn, 8 replies in flight; latency runs from
   just before the POST to the visitor's receipt of the message. p50 and p99. The same
   measurement runs first with only the S subscribed sockets open (the control), so that what
   the idle sockets cost stands apart from the noise of a shared machine.
4. Memory: the server's RSS delta from before the idle sockets open to all of them open, divided
   by their count; beside the bare uvicorn WebSocket app (``bench/_bare_ws.py``) holding N
   sockets the same way.

Each process needs N file descriptors plus a margin: the bench raises its own soft
``RLIMIT_NOFILE`` and that of the servers it starts up to the hard limit (never the product's
defaults); when the hard limit is too low, N is scaled down and the output says so. The server's
socket caps are raised for the run only, through its environment: ``FRONTDESK_HTTP_MAX_CONNECTIONS``
to N + 1,000 and the per-address caps off (every client is on 127.0.0.1); one socket per session.

N = 10,000 and S = 100 (``--quick``: 1,000 and 100, 5 s heartbeats). Usage:
``python -m bench.ws_scale [--quick] [--sockets N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import UNLIMITED
from bench.ws_delivery import (
    _free_port,
    _Frontdesk,
    _ms_stats,
    _rss_kib,
    _server,
    bare_argv,
)

SUBSCRIBED = 100
IN_FLIGHT = 8
CONNECT_BATCH = 100
FD_MARGIN = 500  # descriptors each process needs besides the sockets (files, HTTP, pipes)
PONG = json.dumps({"action": "heartbeat", "payload": {"message": {"text": "pong"}}})
TEXT = "Thanks for waiting, your order left the warehouse this morning and should arrive soon."


def fd_budget(wanted: int) -> tuple[int, int, str]:
    """Raise the soft file limit to the hard one; (sockets possible, hard limit, note)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    possible = min(wanted, hard - FD_MARGIN)
    note = ""
    if possible < wanted:
        note = (
            f"RLIMIT_NOFILE hard limit {hard} is below {wanted + FD_MARGIN}: scaled down to "
            f"{possible} sockets"
        )
    return possible, hard, note


def _is_heartbeat(frame: dict[str, Any]) -> bool:
    return frame.get("action") == "heartbeat"


async def _keep_alive(ws: ClientConnection, counts: dict[str, int]) -> None:
    """Answer every server ping until the socket closes; count pings and unexpected closes."""
    try:
        async for raw in ws:
            frame = json.loads(raw)
            if _is_heartbeat(frame) and frame["payload"]["message"].get("text") == "ping":
                counts["pings"] += 1
                await ws.send(PONG)
    except Exception:
        pass
    if not counts["closing"]:
        counts["dropped"] += 1


async def _hold_async(urls: list[str], pipe: Connection) -> None:
    counts = {"pings": 0, "dropped": 0, "closing": 0}
    sockets: list[ClientConnection] = []
    tasks: list[asyncio.Task[None]] = []
    failures = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for start in range(0, len(urls), CONNECT_BATCH):
        batch = urls[start : start + CONNECT_BATCH]
        opened = await asyncio.gather(
            *(connect(u, open_timeout=60, ping_interval=None, max_queue=4) for u in batch),
            return_exceptions=True,
        )
        for ws in opened:
            if isinstance(ws, BaseException):
                failures += 1
                continue
            sockets.append(ws)
            tasks.append(asyncio.create_task(_keep_alive(ws, counts)))
    pipe.send(
        {
            "opened": len(sockets),
            "failed": failures,
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
        }
    )
    cpu_idle = time.process_time()
    idle_started = time.perf_counter()
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # the stop signal
    report = {
        "pings": counts["pings"],
        "dropped": counts["dropped"],
        "idle_cpu_pct": 100
        * (time.process_time() - cpu_idle)
        / max(1e-9, time.perf_counter() - idle_started),
    }
    counts["closing"] = 1
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(report)


def _hold(urls: list[str], pipe: Connection) -> None:
    """Holder process: open the sockets, answer heartbeats, close on the stop signal."""
    fd_budget(len(urls))
    asyncio.run(_hold_async(urls, pipe))


class Holder:
    """Idle sockets in a process of their own, so that they do not delay the measurement:
    ``target(*args, pipe)`` opens them, sends what it opened, holds them until the stop signal
    and sends its report (``_hold`` here; ``bench.ws_memory`` has its own)."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=target, args=(*args, child), daemon=True)
        self.process.start()

    def opened(self) -> dict[str, Any]:
        result: dict[str, Any] = self.pipe.recv()
        return result

    async def opened_async(self) -> dict[str, Any]:
        return await asyncio.get_running_loop().run_in_executor(None, self.opened)

    def stop(self) -> dict[str, Any]:
        self.pipe.send("stop")
        report: dict[str, Any] = self.pipe.recv() if self.pipe.poll(120) else {}
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
        return report


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _subscribed_socket(url: str, token: str, topic: str) -> ClientConnection:
    ws = await connect(
        url.replace("http", "ws") + "/ws?token=" + quote(token), open_timeout=60, ping_interval=None
    )
    await ws.send(json.dumps({"action": "subscribe", "payload": {"topic": topic}}))
    while json.loads(await ws.recv())["action"] != "subscribed":
        pass
    return ws


async def _receipt(ws: ClientConnection, text: str) -> float:
    """When ``text`` arrives on ``ws``; heartbeats meanwhile are answered."""
    while True:
        frame = json.loads(await ws.recv())
        if _is_heartbeat(frame):
            if frame["payload"]["message"].get("text") == "ping":
                await ws.send(PONG)
            continue
        if frame["action"] == "publish" and any(
            m.get("text") == text for m in frame["payload"]["message"]
        ):
            return time.perf_counter()


async def _deliveries(
    fd: _Frontdesk,
    agent: str,
    pid: str,
    targets: list[tuple[ClientConnection, str]],
    seconds: float,
) -> list[float]:
    """Agent replies to the targets in turn for ``seconds``; latency of each to its receipt."""
    latencies: list[float] = []
    # One reply per socket at a time, so that each receipt is read by one reader.
    locks = [asyncio.Lock() for _ in targets]
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker() -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            i = counter
            counter += 1
            ws, rid = targets[i % len(targets)]
            async with locks[i % len(targets)]:
                text = f"{TEXT} #{i}"
                receipt = asyncio.create_task(_receipt(ws, text))
                started = time.perf_counter()
                await fd.call("POST", f"/{pid}/requests/{rid}/messages", agent, json={"text": text})
                latencies.append(await asyncio.wait_for(receipt, 30) - started)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return latencies


async def _ping_every(interval: float, sockets: list[ClientConnection]) -> None:
    ping = json.dumps({"action": "heartbeat", "payload": {"message": {"text": "ping"}}})
    while True:
        await asyncio.sleep(interval)
        await asyncio.gather(*(ws.send(ping) for ws in sockets), return_exceptions=True)


async def _measure_frontdesk(
    url: str, server_pid: int, sockets: int, subscribed: int, heartbeat: float
) -> dict[str, float]:
    seconds = 1.2 * heartbeat
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=64)
    ) as http:
        fd = _Frontdesk(http, url)
        agent, pid = await fd.setup_agent()

        gate = asyncio.Semaphore(32)

        async def sign_in(_: int) -> str:
            async with gate:
                for attempt in range(3):
                    # A kept-alive connection the server closed just as it was reused; another
                    # sign-in in its place is harmless.
                    try:
                        body = await fd.call(
                            "POST", "/auth/signinAnonymously", json={"id_project": pid}
                        )
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                token: str = body["token"]
                return token

        started = time.perf_counter()
        tokens = await asyncio.gather(*(sign_in(i) for i in range(sockets)))
        signin_seconds = time.perf_counter() - started
        conversations: list[str] = []
        for token in tokens[:subscribed]:
            rid = f"support-group-{pid}-{os.urandom(16).hex()}"
            await fd.call("POST", f"/{pid}/requests/{rid}/messages", token, json={"text": "hi"})
            conversations.append(rid)

        targets = []
        for token, rid in zip(tokens, conversations, strict=False):
            ws = await _subscribed_socket(url, token, f"/{pid}/requests/{rid}/messages")
            targets.append((ws, rid))
        # Between replies nobody reads these sockets: ping the server now and then (the pongs
        # are skipped by the next receipt) so that they stay alive while the holder connects.
        pinger = asyncio.create_task(_ping_every(heartbeat / 2, [ws for ws, _ in targets]))  # noqa: RUF006
        try:
            # The control: the same replies with only the subscribed sockets open, so that what
            # the idle ones cost stands apart from the machine's own noise.
            alone = await _deliveries(fd, agent, pid, targets, seconds)
            await asyncio.sleep(1)  # let the server settle before reading its RSS
            before = _rss_kib(server_pid)
            ws_url = url.replace("http", "ws")
            holder = Holder(_hold, [f"{ws_url}/ws?token={quote(t)}" for t in tokens[subscribed:]])
            try:
                held = await holder.opened_async()
                await asyncio.sleep(1)
                after = _rss_kib(server_pid)
                open_sockets = held["opened"] + len(targets)
                cpu_before, wall = _cpu_seconds(server_pid), time.perf_counter()
                latencies = await _deliveries(fd, agent, pid, targets, seconds)
                server_cpu = (
                    100 * (_cpu_seconds(server_pid) - cpu_before) / (time.perf_counter() - wall)
                )
            finally:
                report = holder.stop()
        finally:
            pinger.cancel()
            await asyncio.gather(pinger, return_exceptions=True)
            await asyncio.gather(*(ws.close() for ws, _ in targets), return_exceptions=True)
    p50, p99 = _ms_stats(latencies)
    alone_p50, alone_p99 = _ms_stats(alone)
    return {
        "sockets_open": float(open_sockets),
        "sockets_failed": float(held["failed"]),
        "signins_per_s": sockets / signin_seconds,
        "connect_s": held["seconds"],
        "holder_connect_cpu_s": held["cpu_seconds"],
        "replies": float(len(latencies)),
        "p50_ms": p50,
        "p99_ms": p99,
        "alone_replies": float(len(alone)),
        "alone_p50_ms": alone_p50,
        "alone_p99_ms": alone_p99,
        "server_cpu_pct": server_cpu,
        "holder_idle_cpu_pct": report.get("idle_cpu_pct", float("nan")),
        "heartbeats_answered": float(report.get("pings", float("nan"))),
        "sockets_dropped": float(report.get("dropped", float("nan"))),
        "kib_per_socket": (after - before) / held["opened"],
    }


async def _measure_bare(url: str, server_pid: int, sockets: int) -> dict[str, float]:
    ws_url = url.replace("http", "ws")
    before = _rss_kib(server_pid)
    holder = Holder(_hold, [f"{ws_url}/ws?i={i}" for i in range(sockets)])
    try:
        held = await holder.opened_async()
        await asyncio.sleep(1)
        after = _rss_kib(server_pid)
    finally:
        holder.stop()
    return {
        "sockets_open": float(held["opened"]),
        "kib_per_socket": (after - before) / held["opened"],
    }


def run(quick: bool = False, sockets: int | None = None) -> dict[str, Any]:
    """Measure frontdesk and the bare app; figures in ms, KiB and counts, plus a ``note``."""
    wanted = sockets or (1_000 if quick else 10_000)
    count, hard, note = fd_budget(wanted)
    heartbeat = 5.0 if quick else 25.0
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        port = _free_port()
        env = {
            "FRONTDESK_DATA_DIR": tmp,
            "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "FRONTDESK_LOG_LEVEL": "warning",
            "FRONTDESK_WS_HEARTBEAT_INTERVAL": str(heartbeat),
            # Set-up calls may pause longer than the default 5 s on a loaded machine.
            "FRONTDESK_HTTP_KEEP_ALIVE_TIMEOUT": "60",
            **UNLIMITED,
            "FRONTDESK_HTTP_MAX_CONNECTIONS": str(count + 1_000),
            "FRONTDESK_HTTP_MAX_CONNECTIONS_PER_IP": "0",
            "FRONTDESK_WS_SOCKETS_PER_ADDRESS": "0",
        }
        argv = [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)]
        with _server(argv, env, port) as (process, url):
            frontdesk = asyncio.run(
                _measure_frontdesk(url, process.pid, count, min(SUBSCRIBED, count), heartbeat)
            )
        port = _free_port()
        with _server(bare_argv(port), {}, port) as (process, url):
            bare = asyncio.run(_measure_bare(url, process.pid, count))
    results: dict[str, Any] = {"sockets_wanted": float(wanted), "fd_hard_limit": float(hard)}
    results |= {f"frontdesk_{k}": v for k, v in frontdesk.items()}
    results |= {f"bare_{k}": v for k, v in bare.items()}
    results |= {
        "subscribed": float(min(SUBSCRIBED, count)),
        "heartbeat_interval_s": heartbeat,
        "measured_s": 1.2 * heartbeat,
        "memory_ratio": frontdesk["kib_per_socket"] / bare["kib_per_socket"],
        "load_avg_1m_before": load_before,
        "load_avg_1m_after": os.getloadavg()[0],
        "note": note,
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 sockets, 5 s heartbeats")
    parser.add_argument("--sockets", type=int, help="sockets to open (default 10,000)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    results = run(quick=args.quick, sockets=args.sockets)
    for name, value in results.items():
        if isinstance(value, float):
            print(f"{name:32} {value:12,.2f}")
        elif value:
            print(f"{name:32} {value}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
