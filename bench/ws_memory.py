"""Memory per idle WebSocket: frontdesk beside the bare uvicorn WebSocket app, and what each
frontdesk socket holds.

1. frontdesk (``frontdesk serve``, one worker, SQLite, limits off as for every figure) with N
   distinct visitors signed in anonymously over REST. A holder process (``bench.ws_scale``'s
   way) opens N sockets, each authenticated by the token in its URL and subscribed to nothing,
   as figure 8's idle sockets are (``--subscribed``: each subscribed to its own conversation,
   as figure 6's are), and answers every server heartbeat.
2. The RSS of the server is read before the sockets open and once every socket has been pinged
   and has answered (1.5 heartbeat intervals after the last opened): the delta over N.
3. The bare app (``bench/_bare_ws.py``) holds N sockets opened by the same holder, read the
   same way after the same wait.
4. ``--trace``: a second frontdesk run under ``tracemalloc``. This module starts the server
   (``frontdesk serve`` behind a SIGUSR1 handler that starts tracing and writes snapshots:
   nothing in the product) and prints what is still allocated per socket the server holds,
   by traceback, the objects per socket by type, and the chain of coroutines each task waits
   in.

Both holders offer permessage-deflate as the ``websockets`` client does by default (as the
widget's browser does); ``--no-deflate`` opens them without it. Usage:
``python -m bench.ws_memory [--sockets N] [--subscribed] [--trace] [--no-deflate]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import UNLIMITED
from bench.ws_delivery import _free_port, _Frontdesk, _rss_kib, _server, bare_argv
from bench.ws_scale import CONNECT_BATCH, PONG, Holder, fd_budget

HEARTBEAT = 4.0
TRACE_FRAMES = 30
_SNAPSHOT_ENV = "BENCH_WS_MEMORY_SNAPSHOTS"


# --- the holder: idle sockets in a process of their own ---------------------------------------


async def _keep_alive(ws: ClientConnection, counts: dict[str, int]) -> None:
    try:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("action") == "heartbeat" and frame["payload"]["message"]["text"] == "ping":
                counts["pings"] += 1
                await ws.send(PONG)
    except Exception:
        pass
    if not counts["closing"]:
        counts["dropped"] += 1


async def _open(url: str, topic: str | None, deflate: bool) -> ClientConnection:
    ws = await connect(
        url, open_timeout=60, ping_interval=None, max_queue=4,
        compression="deflate" if deflate else None,
    )
    if topic is not None:
        await ws.send(json.dumps({"action": "subscribe", "payload": {"topic": topic}}))
        while json.loads(await ws.recv())["action"] != "subscribed":
            pass
    return ws


async def _hold_async(targets: list[tuple[str, str | None]], deflate: bool, pipe: Any) -> None:
    counts = {"pings": 0, "dropped": 0, "closing": 0}
    sockets: list[ClientConnection] = []
    tasks: list[asyncio.Task[None]] = []
    failed = 0
    for start in range(0, len(targets), CONNECT_BATCH):
        batch = targets[start : start + CONNECT_BATCH]
        opened = await asyncio.gather(
            *(_open(url, topic, deflate) for url, topic in batch), return_exceptions=True
        )
        for ws in opened:
            if isinstance(ws, BaseException):
                failed += 1
                continue
            sockets.append(ws)
            tasks.append(asyncio.create_task(_keep_alive(ws, counts)))
    extensions = sockets[0].response.headers.get("Sec-WebSocket-Extensions", "") if sockets else ""
    pipe.send({"opened": len(sockets), "failed": failed, "extensions": extensions})
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # the stop signal
    counts["closing"] = 1
    report = {"pings": counts["pings"], "dropped": counts["dropped"]}
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(report)


def _hold(targets: list[tuple[str, str | None]], deflate: bool, pipe: Any) -> None:
    fd_budget(len(targets))
    asyncio.run(_hold_async(targets, deflate, pipe))


# --- the traced server ----------------------------------------------------------------------


def _dump(_signum: int, _frame: Any) -> None:
    """SIGUSR1 in the traced server: the first starts tracing (imports traced would take
    minutes), each one writes a snapshot and the tasks' await chains."""
    if not tracemalloc.is_tracing():
        tracemalloc.start(TRACE_FRAMES)
    directory = Path(os.environ[_SNAPSHOT_ENV])
    count = len(list(directory.glob("*.snapshot")))
    tracemalloc.take_snapshot().dump(str(directory / f"{count}.snapshot"))
    census = {"tasks": _task_chains(), "objects": _object_census()}
    (directory / f"{count}.tasks.json").write_text(json.dumps(census))


def _object_census() -> dict[str, list[int]]:
    """[count, bytes by sys.getsizeof] of the objects the collector tracks, by type."""
    census: dict[str, list[int]] = {}
    for thing in gc.get_objects():
        entry = census.setdefault(type(thing).__qualname__, [0, 0])
        entry[0] += 1
        entry[1] += sys.getsizeof(thing)
    return census


def _task_chains() -> dict[str, int]:
    """How many tasks suspend on each chain of coroutines (outermost first)."""
    # type(), not isinstance(): a dead weak proxy among the objects raises on the latter.
    tasks = [t for t in gc.get_objects() if issubclass(type(t), asyncio.Task) and not t.done()]
    chains: dict[str, int] = {}
    for task in tasks:
        names = []
        awaited: Any = task.get_coro()
        while awaited is not None:
            code = getattr(awaited, "cr_code", None) or getattr(awaited, "gi_code", None)
            if code is None:
                names.append(type(awaited).__name__)
                break
            names.append(code.co_qualname)
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        chain = " > ".join(names)
        chains[chain] = chains.get(chain, 0) + 1
    return chains


def _serve_traced(argv: list[str]) -> None:
    signal.signal(signal.SIGUSR1, _dump)
    from frontdesk.cli import main

    sys.exit(main(argv))


# --- the measurements -----------------------------------------------------------------------


def _env(tmp: str, sockets: int, heartbeat: float = HEARTBEAT) -> dict[str, str]:
    return {
        "FRONTDESK_DATA_DIR": tmp,
        "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "FRONTDESK_LOG_LEVEL": "warning",
        "FRONTDESK_WS_HEARTBEAT_INTERVAL": str(heartbeat),
        "FRONTDESK_HTTP_KEEP_ALIVE_TIMEOUT": "60",
        **UNLIMITED,
        "FRONTDESK_HTTP_MAX_CONNECTIONS": str(sockets + 1_000),
        "FRONTDESK_HTTP_MAX_CONNECTIONS_PER_IP": "0",
        "FRONTDESK_WS_SOCKETS_PER_ADDRESS": "0",
    }


async def _visitors(url: str, count: int, subscribed: bool) -> list[tuple[str, str | None]]:
    """(socket URL, topic or None) for ``count`` visitors signed in anonymously."""
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=32)
    ) as http:
        fd = _Frontdesk(http, url)
        _agent, pid = await fd.setup_agent()
        gate = asyncio.Semaphore(16)

        async def one(_: int) -> tuple[str, str | None]:
            async with gate:
                if subscribed:
                    token, rid = await fd.visitor(pid)
                    topic: str | None = f"/{pid}/requests/{rid}/messages"
                else:
                    body = await fd.call(
                        "POST", "/auth/signinAnonymously", json={"id_project": pid}
                    )
                    token, topic = body["token"], None
                return url.replace("http", "ws") + "/ws?token=" + quote(token), topic

        return list(await asyncio.gather(*(one(i) for i in range(count))))


def _hold_and_measure(
    pid: int,
    targets: list[tuple[str, str | None]],
    deflate: bool,
    snapshot: Any = None,
    wait: float = 1.5 * HEARTBEAT + 1,
) -> dict[str, Any]:
    time.sleep(1)
    if snapshot:
        snapshot()
    before = _rss_kib(pid)
    holder = Holder(_hold, targets, deflate)
    try:
        held = holder.opened()
        # Every socket pinged by the server and answered at least once: the steady state.
        time.sleep(wait)
        after = _rss_kib(pid)
        if snapshot:
            snapshot()
    finally:
        report = holder.stop()
    return {
        "opened": held["opened"],
        "failed": held["failed"],
        "dropped": report.get("dropped"),
        "pings_answered": report.get("pings"),
        "extensions": held["extensions"],
        "kib_per_socket": (after - before) / max(1, held["opened"]),
    }


def measure(sockets: int, subscribed: bool, deflate: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        port = _free_port()
        argv = [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)]
        with _server(argv, _env(tmp, sockets), port) as (process, url):
            targets = asyncio.run(_visitors(url, sockets, subscribed))
            frontdesk = _hold_and_measure(process.pid, targets, deflate)
        port = _free_port()
        with _server(bare_argv(port), {}, port) as (process, url):
            ws_url = url.replace("http", "ws")
            bare_targets: list[tuple[str, str | None]] = [
                (f"{ws_url}/ws?i={i}", None) for i in range(sockets)
            ]
            bare = _hold_and_measure(process.pid, bare_targets, deflate)
    return {
        "frontdesk": frontdesk,
        "bare": bare,
        "ratio": frontdesk["kib_per_socket"] / bare["kib_per_socket"],
    }


def trace(sockets: int, subscribed: bool, deflate: bool, top: int) -> dict[str, Any]:
    """A frontdesk run under tracemalloc: live allocations per socket by traceback."""
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        snapshots = Path(tmp) / "snapshots"
        snapshots.mkdir()
        port = _free_port()
        argv = [sys.executable, "-m", "bench.ws_memory", "--serve-traced", "serve",
                "--port", str(port)]
        # Traced, the server is several times slower: no heartbeat may close a socket meanwhile.
        env = {**_env(tmp, sockets, heartbeat=600), _SNAPSHOT_ENV: str(snapshots)}
        with _server(argv, env, port) as (process, url):
            targets = asyncio.run(_visitors(url, sockets, subscribed))

            def snapshot() -> None:
                count = len(list(snapshots.glob("*.snapshot")))
                process.send_signal(signal.SIGUSR1)
                deadline = time.monotonic() + 120
                while not (snapshots / f"{count}.tasks.json").exists():
                    if time.monotonic() > deadline:
                        raise RuntimeError("no snapshot from the traced server")
                    time.sleep(0.2)
                time.sleep(0.5)

            held = _hold_and_measure(process.pid, targets, deflate, snapshot, wait=2)
        before = tracemalloc.Snapshot.load(str(snapshots / "0.snapshot"))
        after = tracemalloc.Snapshot.load(str(snapshots / "1.snapshot"))
        census = json.loads((snapshots / "1.tasks.json").read_text())
        first = json.loads((snapshots / "0.tasks.json").read_text())["objects"]
    # Per socket the server holds (those the holder opened may have closed meanwhile).
    n = census["objects"].get("Connection", [0])[0] - first.get("Connection", [0])[0]
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(ignore), after.filter_traces(ignore)
    diff = after.compare_to(before, "traceback")
    total = sum(d.size_diff for d in diff)
    rows = []
    for stat in diff[:top]:
        frames = [f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback][-6:]
        rows.append({
            "bytes_per_socket": stat.size_diff / n,
            "blocks_per_socket": stat.count_diff / n,
            "where": " < ".join(reversed(frames)),
        })
    by_line = after.compare_to(before, "lineno")
    lines = [
        {"bytes_per_socket": s.size_diff / n,
         "where": f"{Path(s.traceback[0].filename).name}:{s.traceback[0].lineno}"}
        for s in by_line[:top]
    ]
    return {
        "opened": n,
        "extensions": held["extensions"],
        "traced_bytes_per_socket": total / n,
        "traced_blocks_per_socket": sum(d.count_diff for d in diff) / n,
        "by_traceback": rows,
        "by_line": lines,
        "tasks": dict(sorted(census["tasks"].items(), key=lambda kv: -kv[1])[:8]),
        "objects_per_socket": _census_diff(first, census["objects"], n, top),
    }


def _census_diff(
    before: dict[str, list[int]], after: dict[str, list[int]], n: int, top: int
) -> list[dict[str, Any]]:
    rows = []
    for name, (count, size) in after.items():
        old_count, old_size = before.get(name, [0, 0])
        rows.append({"type": name, "per_socket": (count - old_count) / n,
                     "bytes_per_socket": (size - old_size) / n})
    rows.sort(key=lambda row: -row["bytes_per_socket"])
    return rows[:top]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-traced":
        _serve_traced(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1_000)
    parser.add_argument("--subscribed", action="store_true",
                        help="each socket subscribed to its visitor's conversation")
    parser.add_argument("--no-deflate", action="store_true",
                        help="clients do not offer permessage-deflate")
    parser.add_argument("--trace", action="store_true", help="also a tracemalloc breakdown")
    parser.add_argument("--no-rss", action="store_true", help="only the tracemalloc breakdown")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    count, _hard, note = fd_budget(args.sockets)
    deflate = not args.no_deflate
    results: dict[str, Any] = {"sockets": count, "subscribed": args.subscribed,
                               "client_offers_deflate": deflate, "note": note}
    if not args.no_rss:
        results |= measure(count, args.subscribed, deflate)
        print(f"frontdesk {results['frontdesk']['kib_per_socket']:.1f} KiB/socket, bare "
              f"{results['bare']['kib_per_socket']:.1f} KiB/socket, ratio {results['ratio']:.2f}")
        for side in ("frontdesk", "bare"):
            print(f"  {side}: {results[side]}")
    if args.trace:
        traced = trace(count, args.subscribed, deflate, args.top)
        results["trace"] = traced
        print(f"traced: {traced['traced_bytes_per_socket']:.0f} B in "
              f"{traced['traced_blocks_per_socket']:.1f} blocks per socket "
              f"(extensions: {traced['extensions'] or 'none'})")
        for row in traced["by_traceback"]:
            print(f"  {row['bytes_per_socket']:8.0f} B {row['blocks_per_socket']:6.2f} blk  "
                  f"{row['where']}")
        print("by line:")
        for row in traced["by_line"]:
            print(f"  {row['bytes_per_socket']:8.0f} B  {row['where']}")
        print("objects the collector tracks, per socket (sys.getsizeof):")
        for row in traced["objects_per_socket"]:
            print(f"  {row['bytes_per_socket']:8.0f} B {row['per_socket']:6.2f}  {row['type']}")
        print("tasks:")
        for chain, number in traced["tasks"].items():
            print(f"  {number:6}  {chain}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
