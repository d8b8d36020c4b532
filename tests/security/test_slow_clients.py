"""Slow and endless HTTP clients against a real ``frontdesk serve`` process.

The server runs with short limits (header deadline 2 s, body idle 2 s, keep-alive 1 s) so the
tests stay quick; the attack clients speak raw TCP, and a separate client measures how fast
``/health`` answers meanwhile.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from frontdesk.server import MAX_PIPELINED_REQUESTS
from tests.health_probe import health_latencies, p99
from tests.realtime.live_api import api_on, open_socket
from tests.realtime.served import CHEAP_HASHING, Served, process_env, serving

HEADER_TIMEOUT = 2.0
BODY_IDLE_TIMEOUT = 2.0
KEEP_ALIVE_TIMEOUT = 1
MAX_HEADER_BYTES = 16 * 1024
HEALTH_P99_SECONDS = 0.050  # the acceptance criterion
REQUEST_PREFIX = b"GET /health HTTP/1.1\r\nHost: frontdesk.test\r\nX-Slow: "


@contextmanager
def _serving(
    directory: Path, open_files: tuple[int, int] | None = None, **settings: str
) -> Iterator[Served]:
    env = process_env({
        "FRONTDESK_DATA_DIR": str(directory / "data"),
        "FRONTDESK_LOG_LEVEL": "warning",
        **CHEAP_HASHING,
        **settings,
    }, clean=True)
    with serving(
        env, directory / "server.log", probe="/health",
        preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, open_files))
        if open_files else None,
    ) as running:
        yield running


def _rss_kib(server: Served) -> int:
    return server.rss_bytes() // 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with _serving(
        tmp_path_factory.mktemp("slow-clients"),
        FRONTDESK_HTTP_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        FRONTDESK_HTTP_BODY_IDLE_TIMEOUT=str(BODY_IDLE_TIMEOUT),
        FRONTDESK_HTTP_KEEP_ALIVE_TIMEOUT=str(KEEP_ALIVE_TIMEOUT),
        FRONTDESK_HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
    ) as running:
        yield running


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes, within ``timeout`` seconds."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        return received + b"<still open>"
    return received


@dataclass
class EndlessRound:
    sent: int = 0
    answer: bytes = b""
    cut_off: bool = False


def _stream_endless_header(port: int, budget: int, seconds: float) -> EndlessRound:
    """Open a connection and stream one header value without end, up to ``budget`` bytes or
    ``seconds``; ``cut_off`` says whether the server ended it first."""
    result = EndlessRound()
    chunk = b"a" * 65536
    end = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(seconds)
        try:
            sock.sendall(REQUEST_PREFIX)
            while result.sent < budget and time.monotonic() < end:
                sock.sendall(chunk)
                result.sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            result.cut_off = True
        except TimeoutError:
            pass
        result.answer = _read_until_closed(sock, timeout=2)
        if not result.answer.endswith(b"<still open>"):
            result.cut_off = True
    return result


@contextmanager
def _endless_header_attack(port: int) -> Iterator[list[EndlessRound]]:
    """One client streaming an endless header, again each time it is cut off, while the
    block runs; yields the rounds, complete once the block has ended."""
    rounds: list[EndlessRound] = []
    stop = threading.Event()

    def attack() -> None:
        while not stop.is_set():
            rounds.append(_stream_endless_header(port, budget=64 << 20, seconds=5))
            time.sleep(0.05)

    attacker = threading.Thread(target=attack, daemon=True)
    attacker.start()
    try:
        yield rounds
    finally:
        stop.set()
        attacker.join(timeout=20)


def _assert_cut_off(rounds: list[EndlessRound]) -> None:
    assert rounds and all(r.cut_off for r in rounds), [(r.sent, r.answer[:40]) for r in rounds]
    assert max(r.sent for r in rounds) < 8 << 20  # the socket buffers, not the server, held more
    assert any(b'"code":"headers_too_large"' in r.answer for r in rounds)


def test_an_endless_header_is_cut_off_while_health_stays_fast(server: Served) -> None:
    rss_before = _rss_kib(server)
    with _endless_header_attack(server.port) as rounds:
        latencies = health_latencies(server.url, seconds=5)
    grown_kib = _rss_kib(server) - rss_before

    _assert_cut_off(rounds)
    assert grown_kib < 32 * 1024, f"server grew {grown_kib} KiB"
    assert p99(latencies) < HEALTH_P99_SECONDS, sorted(latencies)[-5:]


def test_oversized_headers_are_answered_431_with_a_json_error(server: Served) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(REQUEST_PREFIX + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n\r\n")
        answer = _read_until_closed(sock, timeout=5)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"content-type: application/json" in head
    assert body.startswith(b'{"success":false,"code":"headers_too_large"')
    # A WebSocket handshake obeys the same limit.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: frontdesk.test\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"X-Big: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n"
        )
        answer = _read_until_closed(sock, timeout=5)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    # Headers just under the limit still pass.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(REQUEST_PREFIX + b"a" * (MAX_HEADER_BYTES - 200) + b"\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(12) == b"HTTP/1.1 200"


def test_trickling_connections_are_closed_at_the_header_deadline_beside_an_endless_header(
    server: Served,
) -> None:
    request = REQUEST_PREFIX + b"a" * 1000
    count = 100
    socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    opened = time.monotonic()
    closed_after: dict[int, float] = {}
    answers: dict[int, bytes] = {}
    stop = threading.Event()

    def trickle() -> None:
        for sock in socks:
            sock.setblocking(False)
        position = 0
        while not stop.is_set() and len(closed_after) < count:
            for index, sock in enumerate(socks):
                if index in closed_after:
                    continue
                try:
                    answer = sock.recv(4096)
                except BlockingIOError:
                    answer = None
                except ConnectionResetError:
                    answer = b""
                if answer is not None:  # answered and/or closed by the server
                    closed_after[index] = time.monotonic() - opened
                    answers[index] = answer
                    continue
                try:
                    sock.send(request[position:position + 1])
                except OSError:
                    closed_after[index] = time.monotonic() - opened
                    answers[index] = b""
            position += 1
            stop.wait(1.0)  # one byte a second per connection

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        with _endless_header_attack(server.port) as rounds:  # both attacks at once
            latencies = health_latencies(server.url, seconds=HEADER_TIMEOUT + 2)
        trickler.join(timeout=HEADER_TIMEOUT + 4)
    finally:
        stop.set()
        trickler.join(timeout=5)
        for sock in socks:
            sock.close()

    assert len(closed_after) == count, f"{count - len(closed_after)} still open"
    assert min(closed_after.values()) > HEADER_TIMEOUT - 0.5
    assert max(closed_after.values()) < HEADER_TIMEOUT + 4
    timed_out = [a for a in answers.values() if a.startswith(b"HTTP/1.1 408 ")]
    assert len(timed_out) == count
    assert all(b'"code":"request_timeout"' in a for a in timed_out)
    _assert_cut_off(rounds)
    assert p99(latencies) < HEALTH_P99_SECONDS, sorted(latencies)[-5:]


def test_a_connection_that_never_sends_is_closed_at_the_header_deadline(
    server: Served,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        opened = time.monotonic()
        answer = _read_until_closed(sock, timeout=HEADER_TIMEOUT + 5)
        waited = time.monotonic() - opened
    assert answer == b""  # closed without an answer: there was no request to answer
    assert HEADER_TIMEOUT - 0.5 < waited < HEADER_TIMEOUT + 3


def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout(
    server: Served,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: frontdesk.test\r\n\r\n")
        sock.settimeout(5)
        first = sock.recv(65536)
        answered = time.monotonic()
        assert first.startswith(b"HTTP/1.1 200 ")
        rest = _read_until_closed(sock, timeout=10)
        idle = time.monotonic() - answered
    assert not rest.endswith(b"<still open>")
    assert KEEP_ALIVE_TIMEOUT - 0.5 < idle < KEEP_ALIVE_TIMEOUT + 2


def test_a_stalled_body_is_answered_408_and_closed(server: Served) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /auth/signin HTTP/1.1\r\nHost: frontdesk.test\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"email": '
        )
        sent = time.monotonic()
        answer = _read_until_closed(sock, timeout=BODY_IDLE_TIMEOUT + 8)
        waited = time.monotonic() - sent
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert body.startswith(b'{"success":false,"code":"request_timeout"')
    assert BODY_IDLE_TIMEOUT - 0.5 < waited < BODY_IDLE_TIMEOUT + 3


def test_a_trickling_body_lives_while_it_moves_and_is_cut_when_it_stalls(
    server: Served,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /auth/signin HTTP/1.1\r\nHost: frontdesk.test\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        until = time.monotonic() + HEADER_TIMEOUT + BODY_IDLE_TIMEOUT  # past both deadlines
        while time.monotonic() < until:
            sock.sendall(b" ")
            time.sleep(BODY_IDLE_TIMEOUT / 4)
        last_byte = time.monotonic()
        answer = _read_until_closed(sock, timeout=BODY_IDLE_TIMEOUT + 8)
        waited = time.monotonic() - last_byte
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert BODY_IDLE_TIMEOUT - 0.5 < waited < BODY_IDLE_TIMEOUT + 3


def test_a_kept_alive_request_has_its_header_deadline_from_its_first_byte(
    server: Served,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        for _ in range(3):  # answered requests leave no deadline running behind them
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: frontdesk.test\r\n\r\n")
            sock.settimeout(5)
            answer = b""
            while not answer.endswith(b"}"):  # head and body may come in two reads
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200 ")
            time.sleep(KEEP_ALIVE_TIMEOUT / 2)
        sock.sendall(REQUEST_PREFIX)  # the next request's headers never end
        started = time.monotonic()
        answer = _read_until_closed(sock, timeout=HEADER_TIMEOUT + 8)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"code":"request_timeout"' in answer
    assert HEADER_TIMEOUT - 0.5 < waited < HEADER_TIMEOUT + 3


def test_a_client_that_stops_reading_its_answers_is_dropped(server: Served) -> None:
    pipelined = 100  # about 12 MB of answers, more than the socket buffers hold
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: frontdesk.test\r\n\r\n" * pipelined)
        time.sleep(BODY_IDLE_TIMEOUT + 2)  # reading nothing
        received = _read_until_closed(sock, timeout=10)
    assert not received.endswith(b"<still open>")
    assert received.count(b"HTTP/1.1 200 OK") < pipelined


def test_a_flood_of_pipelined_requests_is_cut_at_the_pipeline_limit(server: Served) -> None:
    flood = b"GET /health HTTP/1.1\r\nHost: frontdesk.test\r\n\r\n" * 10_000  # ~460 KB
    rss_before = _rss_kib(server)
    socks = []
    try:
        for _ in range(10):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a slow reader
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(flood)
            socks.append(sock)
        latencies = health_latencies(server.url, seconds=3)
        grown_kib = _rss_kib(server) - rss_before
        answers = [_read_until_closed(sock, timeout=10) for sock in socks]
    finally:
        for sock in socks:
            sock.close()

    assert grown_kib < 32 * 1024, f"server grew {grown_kib} KiB"
    assert p99(latencies) < HEALTH_P99_SECONDS, sorted(latencies)[-5:]
    for answer in answers:
        assert not answer.endswith(b"<still open>")
        assert MAX_PIPELINED_REQUESTS < answer.count(b"HTTP/1.1 200 OK") < 10_000


def test_a_websocket_outlives_the_header_deadline(server: Served) -> None:
    asyncio.run(_websocket_outlives_deadline(server.url))


async def _websocket_outlives_deadline(url: str) -> None:
    async with api_on(url, timeout=10) as api:
        owner = await api.agent()
        project_id = await api.project(owner)
        dashboard = await open_socket(url, owner.token)
        await asyncio.sleep(HEADER_TIMEOUT + KEEP_ALIVE_TIMEOUT + 0.5)
        await dashboard.subscribe(f"/{project_id}/requests")
        await dashboard.ws.close()


@dataclass
class HeldConnections:
    socks: list[socket.socket] = field(default_factory=list)

    def open(self, port: int, count: int, source: str) -> None:
        """``count`` idle connections from the loopback address ``source``."""
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
            self.socks.append(sock)
        time.sleep(0.5)  # let the server accept them all

    def close(self, count: int) -> None:
        for sock in self.socks[:count]:
            sock.close()
        del self.socks[:count]

    def __enter__(self) -> HeldConnections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(len(self.socks))


def _answer_from(port: int, source: str) -> tuple[bytes, bytes]:
    """(status line, body) of ``GET /health`` on a new connection from ``source``."""
    with socket.create_connection(("127.0.0.1", port), source_address=(source, 0)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: frontdesk.test\r\nConnection: close\r\n\r\n")
        answer = _read_until_closed(sock, timeout=5)
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def test_connections_past_the_caps_are_refused_until_some_close(tmp_path: Path) -> None:
    with _serving(
        tmp_path,
        FRONTDESK_HTTP_MAX_CONNECTIONS="20",
        FRONTDESK_HTTP_MAX_CONNECTIONS_PER_IP="10",
        FRONTDESK_HTTP_HEADER_TIMEOUT="60",  # the held connections stay open
    ) as capped, HeldConnections() as held:
        held.open(capped.port, 10, "127.0.0.1")
        status, body = _answer_from(capped.port, "127.0.0.1")
        assert status.startswith(b"HTTP/1.1 429 ")
        assert body.startswith(b'{"success":false,"code":"too_many_connections_per_address"')
        assert _answer_from(capped.port, "127.0.0.2")[0] == b"HTTP/1.1 200 OK"

        held.open(capped.port, 10, "127.0.0.2")  # 20 open: the server's cap
        status, body = _answer_from(capped.port, "127.0.0.3")
        assert status.startswith(b"HTTP/1.1 503 ")
        assert body.startswith(b'{"success":false,"code":"too_many_connections"')

        held.close(5)
        deadline = time.monotonic() + 5
        status = b""
        while status != b"HTTP/1.1 200 OK" and time.monotonic() < deadline:
            status = _answer_from(capped.port, "127.0.0.3")[0]
            time.sleep(0.05)
        assert status == b"HTTP/1.1 200 OK"


def test_a_trusted_proxy_is_not_capped_per_address(tmp_path: Path) -> None:
    with _serving(
        tmp_path,
        FRONTDESK_HTTP_MAX_CONNECTIONS_PER_IP="3",
        FRONTDESK_HTTP_HEADER_TIMEOUT="60",  # the held connections stay open
        FRONTDESK_TRUSTED_PROXIES="127.0.0.4",
    ) as capped, HeldConnections() as held:
        held.open(capped.port, 3, "127.0.0.4")  # the proxy carries many clients
        held.open(capped.port, 3, "127.0.0.5")
        assert _answer_from(capped.port, "127.0.0.4")[0] == b"HTTP/1.1 200 OK"
        assert _answer_from(capped.port, "127.0.0.5")[0].startswith(b"HTTP/1.1 429 ")


def _open_file_limit(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open-file limit")


def test_serve_raises_a_low_open_file_limit_to_fit_the_connection_cap(tmp_path: Path) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 2000:
        pytest.skip(f"the hard open-file limit here is {hard}")
    cap = {"FRONTDESK_HTTP_MAX_CONNECTIONS": "1000"}
    with _serving(tmp_path, open_files=(256, hard), **cap) as server:
        soft, _ = _open_file_limit(server.pid)
    assert soft >= 1000 + 100
    assert "open-file limit" not in server.log.read_text()


def test_serve_warns_when_the_open_file_limit_cannot_fit_the_cap(tmp_path: Path) -> None:
    cap = {"FRONTDESK_HTTP_MAX_CONNECTIONS": "1000"}
    with _serving(tmp_path, open_files=(256, 256), **cap) as server:
        pass  # the warning is written at start
    assert "open-file limit (256) is below FRONTDESK_HTTP_MAX_CONNECTIONS" in server.log.read_text()
