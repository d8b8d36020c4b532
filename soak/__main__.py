"""``python -m soak``: serve frontdesk, drive mixed traffic, and check that RSS and open file
descriptors level off instead of growing.

Traffic: agent sign-ins and sign-outs, anonymous visitor sign-ins, messages into new and
existing conversations, agents listing and replying, visitors reading their history; and
WebSocket subscribers — widgets that follow their conversation and must receive each reply,
dashboards that follow the project's requests — connecting, subscribing, receiving and
dropping (half close cleanly, half vanish without a close frame). Loopback only; every loop
is bounded by the run's duration.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from bench.harness import UNLIMITED
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

PASSWORD = "soak password 1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Sample:
    elapsed: float
    rss_kib: int
    fds: int
    requests: int


@dataclass
class Counters:
    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: int = 0
    errors: int = 0
    sockets: int = 0

    def opened(self) -> None:
        with self.lock:
            self.sockets += 1

    def add(self, ok: bool, why: str = "") -> None:
        with self.lock:
            if ok:
                self.ok += 1
            else:
                self.errors += 1
                if why and self.errors <= 10:
                    print("unexpected:", why, file=sys.stderr)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_server(database_url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FRONTDESK_DATABASE_URL": database_url,
        "FRONTDESK_DATA_DIR": str(data_dir),
        "FRONTDESK_PORT": str(port),
        "FRONTDESK_LOG_LEVEL": "warning",
        "FRONTDESK_PASSWORD_HASH_MEMORY_KIB": "8192",
        "FRONTDESK_PASSWORD_HASH_TIME_COST": "1",
        # Every soak client comes from 127.0.0.1 far faster than any visitor: the per-IP and
        # per-project abuse limits would answer most of the traffic with 429.
        **UNLIMITED,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "frontdesk", "serve"], env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("frontdesk serve did not start")


def set_up(url: str, agents: int) -> tuple[str, list[str]]:
    with httpx.Client(base_url=url, timeout=10) as client:
        emails = [f"soak{i}@example.com" for i in range(agents)]
        for email in emails:
            body = {"email": email, "password": PASSWORD}
            client.post("/auth/signup", json=body).raise_for_status()
        owner = client.post("/auth/signin", json={"email": emails[0], "password": PASSWORD})
        headers = {"Authorization": owner.json()["token"]}
        project_id = client.post("/projects", json={"name": "Soak"}, headers=headers).json()["_id"]
        for email in emails[1:]:
            invited = client.post(
                f"/{project_id}/project_users/invite", json={"email": email}, headers=headers
            )
            invited.raise_for_status()
            member = client.post("/auth/signin", json={"email": email, "password": PASSWORD})
            client.post(
                "/auth/invitations/accept", json={"token": invited.json()["token"]},
                headers={"Authorization": member.json()["token"]},
            ).raise_for_status()
    return project_id, emails


def new_visitor(
    client: httpx.Client, project_id: str, counters: Counters
) -> tuple[str, str] | None:
    """An anonymous visitor's token and a fresh request id for it; None if sign-in failed."""
    signin = client.post("/auth/signinAnonymously", json={"id_project": project_id})
    counters.add(signin.status_code == 200)
    if signin.status_code != 200:
        return None
    return signin.json()["token"], f"support-group-{project_id}-{uuid.uuid4().hex}"


def visitor_loop(url: str, project_id: str, stop: threading.Event, counters: Counters) -> None:
    rng = random.Random()
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            visitor = new_visitor(client, project_id, counters)
            if visitor is None:
                continue
            token, rid = visitor
            headers = {"Authorization": token}
            for n in range(rng.randint(1, 6)):
                sent = client.post(
                    f"/{project_id}/requests/{rid}/messages",
                    json={"text": f"message {n} " + "x" * rng.randint(0, 400)},
                    headers=headers,
                )
                counters.add(sent.status_code == 200)
            history = client.get(f"/{project_id}/requests/{rid}/messages", headers=headers)
            counters.add(history.status_code == 200)
            if rng.random() < 0.5:
                counters.add(client.post("/auth/logout", headers=headers).status_code == 200)


def agent_loop(
    url: str, project_id: str, email: str, stop: threading.Event, counters: Counters
) -> None:
    rng = random.Random()
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            signin = client.post("/auth/signin", json={"email": email, "password": PASSWORD})
            counters.add(signin.status_code == 200)
            headers = {"Authorization": signin.json()["token"]}
            for _ in range(rng.randint(3, 10)):
                if stop.is_set():
                    break
                listed = client.get(f"/{project_id}/requests?limit=20", headers=headers)
                counters.add(listed.status_code == 200)
                requests = listed.json().get("requests", []) if listed.status_code == 200 else []
                if requests:
                    rid = rng.choice(requests)["request_id"]
                    reply = client.post(
                        f"/{project_id}/requests/{rid}/messages",
                        json={"text": "how can I help?"},
                        headers=headers,
                    )
                    counters.add(reply.status_code in (200, 409))
                counters.add(
                    client.get(f"/{project_id}/leads?limit=20", headers=headers).status_code == 200
                )
            counters.add(client.post("/auth/logout", headers=headers).status_code == 200)


def ws_url(url: str, token: str) -> str:
    return url.replace("http://", "ws://") + "/ws?token=" + quote(token)


def next_frame(ws: ClientConnection, action: str, timeout: float = 10) -> dict[str, Any]:
    """The next frame with ``action``, skipping heartbeats and others; TimeoutError if none."""
    deadline = time.monotonic() + timeout
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["action"] == action:
            return frame


def receives(ws: ClientConnection, message_id: str) -> bool:
    """True once ``message_id`` is published (agents' replies may come first); else raises."""
    while True:
        if message_id in {m["_id"] for m in next_frame(ws, "publish")["payload"]["message"]}:
            return True


def subscribe(ws: ClientConnection, topic: str) -> bool:
    ws.send(json.dumps({"action": "subscribe", "payload": {"topic": topic}}))
    return bool(next_frame(ws, "subscribed")["payload"]["topic"] == topic)


def drop(ws: ClientConnection, rng: random.Random) -> None:
    """Leave cleanly or vanish: the server must clean up after both."""
    if rng.random() < 0.5:
        ws.close()
    else:
        ws.close_socket()


def widget_loop(url: str, project_id: str, stop: threading.Event, counters: Counters) -> None:
    """A visitor follows its conversation over /ws and must receive every message it sends."""
    rng = random.Random()
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            visitor = new_visitor(client, project_id, counters)
            if visitor is None:
                continue
            token, rid = visitor
            path = f"/{project_id}/requests/{rid}/messages"
            opened = client.post(path, json={"text": "hello"}, headers={"Authorization": token})
            counters.add(opened.status_code == 200)
            try:
                with connect(ws_url(url, token), open_timeout=10) as ws:
                    counters.opened()
                    counters.add(subscribe(ws, path))
                    for n in range(rng.randint(1, 5)):
                        sent = client.post(
                            path, json={"text": f"live {n}"}, headers={"Authorization": token}
                        )
                        counters.add(sent.status_code == 200)
                        if sent.status_code == 200:
                            counters.add(receives(ws, sent.json()["_id"]))
                    drop(ws, rng)
            except (OSError, WebSocketException, TimeoutError) as exc:
                counters.add(False, f"widget socket: {exc!r}")


def dashboard_loop(url: str, email: str, project_id: str, stop: threading.Event,
                   counters: Counters) -> None:
    """An agent follows the project's requests for a few seconds, then drops the socket."""
    rng = random.Random()
    with httpx.Client(base_url=url, timeout=10) as client:
        signin = client.post("/auth/signin", json={"email": email, "password": PASSWORD})
        counters.add(signin.status_code == 200)
        token = signin.json()["token"]
        while not stop.is_set():
            try:
                with connect(ws_url(url, token), open_timeout=10) as ws:
                    counters.opened()
                    counters.add(subscribe(ws, f"/{project_id}/requests"))
                    until = time.monotonic() + rng.uniform(0.5, 5)
                    while time.monotonic() < until and not stop.is_set():
                        next_frame(ws, "publish", timeout=10)
                        counters.add(True)
                    drop(ws, rng)
            except (OSError, WebSocketException, TimeoutError) as exc:
                if not stop.is_set():  # traffic ends with the run: no frame is then no error
                    counters.add(False, f"dashboard socket: {exc!r}")


def levels_off(values: list[int], tolerance: float, slack: int) -> bool:
    """True when the last third's peak is within ``tolerance`` (plus ``slack``) of the middle
    third's peak: warm-up growth is allowed, steady growth is not."""
    third = max(1, len(values) // 3)
    middle = max(values[third : 2 * third] or values)
    last = max(values[2 * third :] or values)
    return last <= middle * (1 + tolerance) + slack


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=180, help="seconds of traffic")
    parser.add_argument("--interval", type=float, default=5, help="seconds between samples")
    parser.add_argument("--visitors", type=int, default=4, help="visitor threads")
    parser.add_argument("--agents", type=int, default=2, help="agent threads")
    parser.add_argument("--widgets", type=int, default=4, help="visitor WebSocket threads")
    parser.add_argument("--dashboards", type=int, default=2, help="agent WebSocket threads")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    # Vanishing without a close frame makes the client library log the EOF it then reads.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)

    with tempfile.TemporaryDirectory(prefix="frontdesk-soak-") as tmp:
        data_dir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{data_dir / 'soak.db'}"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(database_url, data_dir, port)
        try:
            return run(args, server, url)
        finally:
            server.terminate()
            server.wait(timeout=15)


def run(args: argparse.Namespace, server: subprocess.Popen[bytes], url: str) -> int:
    project_id, emails = set_up(url, args.agents)
    stop = threading.Event()
    counters = Counters()
    threads = [
        threading.Thread(target=visitor_loop, args=(url, project_id, stop, counters))
        for _ in range(args.visitors)
    ] + [
        threading.Thread(target=agent_loop, args=(url, project_id, email, stop, counters))
        for email in emails
    ] + [
        threading.Thread(target=widget_loop, args=(url, project_id, stop, counters))
        for _ in range(args.widgets)
    ] + [
        threading.Thread(
            target=dashboard_loop, args=(url, emails[0], project_id, stop, counters)
        )
        for _ in range(args.dashboards)
    ]
    for thread in threads:
        thread.start()
    samples: list[Sample] = []
    started = time.monotonic()
    print(f"{'elapsed s':>9} {'RSS KiB':>9} {'fds':>5} {'requests':>9}")
    try:
        while time.monotonic() - started < args.duration:
            time.sleep(args.interval)
            sample = Sample(
                time.monotonic() - started, rss_kib(server.pid), open_fds(server.pid), counters.ok
            )
            samples.append(sample)
            print(f"{sample.elapsed:9.0f} {sample.rss_kib:9d} {sample.fds:5d} {sample.requests:9d}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    rss_ok = levels_off([s.rss_kib for s in samples], tolerance=0.10, slack=4096)
    fds_ok = levels_off([s.fds for s in samples], tolerance=0.0, slack=8)
    rate = counters.ok / max(1.0, samples[-1].elapsed if samples else 1.0)
    print(
        f"{counters.ok} requests answered or frames received ({rate:.0f}/s) over"
        f" {counters.sockets} WebSockets, {counters.errors} unexpected answers;"
        f" RSS {'levels off' if rss_ok else 'GROWS'}, open fds {'level off' if fds_ok else 'GROW'}"
    )
    return 0 if rss_ok and fds_ok and counters.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
