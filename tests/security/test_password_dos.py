"""A flood of wrong passwords against a real ``frontdesk serve`` process, with the default
Argon2id costs: other clients' calls stay fast."""

from __future__ import annotations

import base64
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

FLOOD_CLIENTS = 12
HEALTH_SAMPLES = 150
SAMPLING_SECONDS = 30  # a stalled server gives fewer samples, not a stuck test
P99_LIMIT_SECONDS = 0.050  # the acceptance criterion


def _serve(tmp_path: Path, **env: str) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontdesk", "serve", "--port", str(port)],
            env={
                **os.environ,
                "FRONTDESK_DATA_DIR": str(tmp_path / "data"),
                "FRONTDESK_SECRET": "test-secret-" + "z" * 40,
                "FRONTDESK_LOG_LEVEL": "warning",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(log_path.read_text())
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Default settings: real Argon2id costs and the default failure limits."""
    yield from _serve(tmp_path)


@pytest.fixture
def unlimited_server(tmp_path: Path) -> Iterator[str]:
    """Real Argon2id costs with the failure limits off: every guess reaches the hash, as
    when a flood comes from more addresses than the limits can tell apart. A short queue,
    so the flood also overflows it."""
    yield from _serve(tmp_path, FRONTDESK_FAILED_PASSWORDS_PER_IP="0",
                      FRONTDESK_FAILED_PASSWORDS_PER_ACCOUNT="0", FRONTDESK_PASSWORD_HASH_QUEUE="4")


def _basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def _flood(url: str, header: str, stop: threading.Event, answers: Counter[str]) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        while not stop.is_set():
            r = http.get("/projects", headers={"Authorization": header})
            answer = f"{r.status_code} {r.json().get('code', '')}"
            if r.status_code in (429, 503) and not r.headers.get("retry-after", "").isdigit():
                answer += " without Retry-After"
            answers[answer] += 1


def _health_latencies(url: str) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + SAMPLING_SECONDS
    with httpx.Client(base_url=url, timeout=30) as http:
        while len(latencies) < HEALTH_SAMPLES and time.monotonic() < deadline:
            started = time.perf_counter()
            r = http.get("/health")
            latencies.append(time.perf_counter() - started)
            assert r.status_code == 200
            time.sleep(0.01)
    return sorted(latencies)


def _flood_and_measure(url: str) -> tuple[float, Counter[str]]:
    """/health p99 (seconds) while FLOOD_CLIENTS send wrong Basic credentials, and the
    flood's answers by status and code."""
    email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    r = httpx.post(url + "/auth/signup", json={"email": email, "password": "correct horse 1"},
                   timeout=30)
    assert r.status_code == 200, r.text
    stop = threading.Event()
    answers: Counter[str] = Counter()
    flooders = [
        threading.Thread(target=_flood, args=(url, _basic(email, f"guess {n}"), stop, answers))
        for n in range(FLOOD_CLIENTS)
    ]
    for thread in flooders:
        thread.start()
    try:
        time.sleep(0.5)  # the flood is under way
        latencies = _health_latencies(url)
    finally:
        stop.set()
        for thread in flooders:
            thread.join(timeout=60)
    p99 = latencies[math.ceil(len(latencies) * 0.99) - 1]
    print(f"/health p50 {latencies[len(latencies) // 2] * 1000:.1f} ms,"
          f" p99 {p99 * 1000:.1f} ms over {len(latencies)}; flood answers {dict(answers)}")
    return p99, answers


def test_a_flood_of_wrong_basic_credentials_leaves_health_fast(server: str) -> None:
    p99, answers = _flood_and_measure(server)
    assert p99 < P99_LIMIT_SECONDS, f"/health p99 {p99 * 1000:.1f} ms during the flood"
    # The flood was answered, mostly refused before any hashing; nothing else went wrong.
    assert answers["429 too_many_failed_signins"] > answers["401 bad_credentials"] > 0
    assert set(answers) <= {"429 too_many_failed_signins", "401 bad_credentials",
                            "503 password_checks_busy"}


def test_hashing_every_guess_still_leaves_health_fast(unlimited_server: str) -> None:
    p99, answers = _flood_and_measure(unlimited_server)
    assert p99 < P99_LIMIT_SECONDS, f"/health p99 {p99 * 1000:.1f} ms during the flood"
    # Guesses were hashed, two at a time; those beyond the queue were refused at once.
    assert answers["401 bad_credentials"] > 0 and answers["503 password_checks_busy"] > 0
    assert set(answers) <= {"401 bad_credentials", "503 password_checks_busy"}
