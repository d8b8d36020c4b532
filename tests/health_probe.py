"""``GET /health`` latencies measured from a process of its own, so that a test's attack
threads (sharing the test process's interpreter) do not delay the measuring client.

Run as ``python -m tests.health_probe URL SECONDS``: prints the latencies as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

FAILED_CALL_SECONDS = 2.0


def health_latencies(url: str, seconds: float) -> list[float]:
    """Seconds each ``GET /health`` took, one after another over ``seconds``, on one
    kept-alive connection; a failed or refused call counts as its whole timeout."""
    measured = subprocess.run(
        [sys.executable, "-m", "tests.health_probe", url, str(seconds)],
        cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=seconds + 30,
        check=True,
    )
    latencies: list[float] = json.loads(measured.stdout)
    return latencies


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _measure(url: str, seconds: float) -> list[float]:
    latencies = []
    end = time.monotonic() + seconds
    with httpx.Client(base_url=url, timeout=FAILED_CALL_SECONDS) as client:
        while time.monotonic() < end:
            started = time.perf_counter()
            try:
                ok = client.get("/health").status_code == 200
            except httpx.TransportError:
                ok = False
            latencies.append(time.perf_counter() - started if ok else FAILED_CALL_SECONDS)
            time.sleep(0.01)
    return latencies


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1], float(sys.argv[2]))))
