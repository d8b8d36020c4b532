"""Closed-loop HTTP/1.1 load generator, run as its own process: ``python -m bench.loadgen SPEC``.

SPEC is a JSON file: ``{"port", "connections", "seconds", "warmup", "requests": [...],
"cycle": bool}`` where each request is ``[method, path, authorization or null, body or null]``.
Every connection keeps one keep-alive socket and sends the next request as soon as the previous
answer is in. With ``cycle`` false each request is sent at most once (first messages of new
conversations), so the run also ends when the list is used up. Prints one JSON line: completed
requests, seconds, requests/s, p50 and p99 latency in ms, and the number of non-200 answers.

A bare asyncio client keeps the generator's own CPU cost low, since it shares the cores with
the server it measures.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any


def _encode(port: int, method: str, path: str, auth: str | None, body: str | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "User-Agent: frontdesk-bench"]
    if auth:
        lines.append(f"Authorization: {auth}")
    payload = (body or "").encode()
    if body is not None:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    else:
        raise RuntimeError(f"the server answered without Content-Length: {head[:300]!r}")
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    port = spec["port"]
    encoded = [_encode(port, *r) for r in spec["requests"]]
    source: Iterator[bytes]
    if spec.get("cycle", True):
        source = (encoded[i % len(encoded)] for i in range(10**9))
    else:
        source = iter(encoded)
    warmup_until = time.perf_counter() + spec.get("warmup", 0.0)
    stop_at = warmup_until + spec["seconds"]
    latencies: list[float] = []
    errors = 0
    warmup_requests = 0
    error_sample = ""
    first_done: float | None = None
    last_done = 0.0

    async def connection() -> None:
        nonlocal errors, warmup_requests, error_sample, first_done, last_done
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
        try:
            for raw in source:
                started = time.perf_counter()
                if started >= stop_at:
                    return
                status, body = await _exchange(reader, writer, raw)
                done = time.perf_counter()
                if started < warmup_until:
                    warmup_requests += 1
                    continue
                if first_done is None:
                    first_done = started
                last_done = done
                latencies.append(done - started)
                if status != 200:
                    errors += 1
                    error_sample = error_sample or f"{status} {body[:200]!r}"
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(spec["connections"])))
    elapsed = (last_done - first_done) if first_done is not None else 0.0
    latencies.sort()
    count = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] * 1000 if count else float("nan")

    return {
        "requests": count,
        "seconds": elapsed,
        "rps": count / elapsed if elapsed > 0 else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if count else float("nan"),
        "p99_ms": pct(0.99),
        "errors": errors,
        "warmup_requests": warmup_requests,
        "error_sample": error_sample,
    }


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
