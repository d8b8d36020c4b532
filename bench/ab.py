"""``python -m bench.ab SRC_A SRC_B``: server CPU per request of two checkouts, run in turns.

Each ``SRC`` is the ``src`` directory of a checkout (e.g. one made with ``git worktree add``).
Both servers run at once (``frontdesk serve --workers 1``, limits off), each on its own fresh
database (SQLite, or a PostgreSQL schema with ``--backend postgresql``), set up through the API
only, so checkouts of different ages compare fairly: an agent and a project, then visitors who
each signed in anonymously and opened a conversation. Then, per figure, runs alternate A, B,
A, B… with the same load; the server's CPU time per request is read from ``/proc`` around each
run. Reported: each run, each pair's ratio B ÷ A, and the medians. Other programs on the machine
move requests/s far more than CPU per request, and pairs of neighbouring runs share whatever
else was going on.

Figures: ``message`` (a visitor's message into its conversation), ``anonymous`` (anonymous
sign-in), ``custom`` (custom-token sign-in), ``contact`` (custom-token sign-in of customers who
have a contact: each wrote a first message before), ``list`` (an agent's open list page, 40 rows),
``first`` (a visitor's first message, opening its conversation and contact: every run gets
visitors of its own, signed in before it starts).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from bench.__main__ import Project, customer_tokens, database, message_body, set_up_project
from bench.harness import Request, Server, frontdesk_server, http, load


@contextmanager
def server_for(src: str, backend: str = "sqlite", workers: int = 1) -> Iterator[Server]:
    with database(backend) as (_, env), frontdesk_server(
        {**env, "PYTHONPATH": os.path.abspath(src)}, workers, name=src
    ) as server:
        yield server


def visitors_with_conversations(port: int, project: Project, count: int) -> list[Request]:
    """Messages of ``count`` anonymous visitors, each into the conversation it opened."""
    requests: list[Request] = []
    for i in range(count):
        signed = http(port, "POST", "/auth/signinAnonymously", {"id_project": project.id})
        rid = f"support-group-{project.id}-{secrets.token_hex(16)}"
        path = f"/{project.id}/requests/{rid}/messages"
        http(port, "POST", path, {"text": "hello", "type": "text"}, auth=signed["token"])
        requests.append(("POST", path, signed["token"], message_body(f"message {i}")))
    return requests


def first_messages(port: int, project: Project, count: int) -> list[Request]:
    """First messages of ``count`` visitors signed in anonymously, each opening a new
    conversation."""
    requests: list[Request] = []
    for _ in range(count):
        signed = http(port, "POST", "/auth/signinAnonymously", {"id_project": project.id})
        path = f"/{project.id}/requests/support-group-{project.id}-{secrets.token_hex(16)}/messages"
        requests.append(("POST", path, signed["token"], message_body("hello, I need help")))
    return requests


def customers_with_contacts(port: int, project: Project, count: int) -> list[Request]:
    """Custom-token sign-ins of ``count`` customers, each of whom signed in and wrote a first
    message before (which made its contact)."""
    tokens = customer_tokens(project, count)
    for _, path, auth, _ in tokens:
        signed = http(port, "POST", path, auth=auth)
        rid = f"support-group-{project.id}-{secrets.token_hex(16)}"
        http(port, "POST", f"/{project.id}/requests/{rid}/messages",
             {"text": "hello", "type": "text"}, auth=signed["token"])
    return tokens


def workload(figure: str, port: int, project: Project) -> list[Request]:
    if figure == "message":
        return visitors_with_conversations(port, project, 200)
    if figure == "anonymous":
        return [("POST", "/auth/signinAnonymously", None, json.dumps({"id_project": project.id}))]
    if figure == "custom":
        return customer_tokens(project, 2_000)
    if figure == "contact":
        return customers_with_contacts(port, project, 300)
    if figure == "first":
        return []  # drawn for each run (main)
    if figure == "list":
        visitors_with_conversations(port, project, 60)
        path = f"/{project.id}/requests?status=open&limit=40&view=inbox"
        return [("GET", path, project.agent_token, None)]
    raise SystemExit(f"unknown figure {figure!r}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("a", help="src directory of the first checkout (the 'before')")
    parser.add_argument("b", help="src directory of the second checkout (the 'after')")
    parser.add_argument("--figures", default="message")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite",
                        help="each server on its own fresh database of this kind")
    parser.add_argument("--workers", type=int, default=1, help="worker processes per server")
    args = parser.parse_args()
    with ExitStack() as stack:
        servers = [stack.enter_context(server_for(src, args.backend, args.workers))
                   for src in (args.a, args.b)]
        projects = [set_up_project(s.port) for s in servers]
        print(f"pids: A {servers[0].process.pid}, B {servers[1].process.pid}", flush=True)
        for figure in args.figures.split(","):
            loads = [workload(figure, s.port, p) for s, p in zip(servers, projects, strict=True)]
            cpu: list[list[float]] = [[], []]
            for pair in range(args.pairs):
                for side in (0, 1):
                    if figure == "first":  # sent once each, so as many as a run could take
                        needed = int(1_500 * (args.seconds + 1.0))
                        loads[side] = first_messages(servers[side].port, projects[side], needed)
                    run = load(servers[side], loads[side], seconds=args.seconds, warmup=1.0,
                               connections=args.clients, cycle=figure != "first")
                    cpu[side].append(run.cpu_us)
                    print(f"{figure} pair {pair + 1} {'AB'[side]}: {run.cpu_us:,.0f} µs/req, "
                          f"{run.rps:,.0f} req/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms",
                          flush=True)
            ratios = [b / a for a, b in zip(*cpu, strict=True)]
            print(f"{figure}: A median {statistics.median(cpu[0]):,.0f} µs, B median "
                  f"{statistics.median(cpu[1]):,.0f} µs; B ÷ A per pair "
                  f"{', '.join(f'{r:.3f}' for r in ratios)}, median "
                  f"{statistics.median(ratios):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
