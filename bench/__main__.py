"""``python -m bench [--quick] [--backends sqlite,postgresql] [--json FILE]``: the benchmark table.

For SQLite and PostgreSQL: start frontdesk and the baseline, create an agent, a project and its
secret through the API, seed conversations with bulk SQL, then measure

1. anonymous sign-in            2. custom-token sign-in          3. message into a conversation
4. first message (request+lead) 5. agent's list page (40 rows)   7. figures 3 and 5 at two sizes
9. a page of closed conversations deep in history, by cursor and by offset (frontdesk alone)
10. a returning visitor's own conversations (``/requests/me``, what the widget asks for when it
   opens) at both sizes of figure 7 (frontdesk alone)

with one worker (and figures 1-5 again with two), each against the baseline in the same run.
Figure 7's two sizes are two databases side by side, measured in turns (small, large, small…),
so that its growth figures compare runs made at the same time. Figure 6 (WebSocket delivery)
comes from ``bench/ws_delivery.py``, figure 8 (10,000 idle visitor sockets on one process,
delivery to 100 of them) from ``bench/ws_scale.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import jwt

from bench.harness import (
    Comparison,
    Request,
    Run,
    baseline_server,
    compare,
    frontdesk_server,
    http,
    load,
)
from bench.seed import Seeder, Visitor, new_request_id
from frontdesk.auth.list_cursors import ListCursors
from frontdesk.storage.requests import ListPosition

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Plan:
    seconds: float
    warmup: float
    repeats: int
    repeats_two_workers: int
    # The small data set is the open queue alone; the large one adds closed history to it.
    open_queue: int  # open conversations, the same at both sizes
    history: int  # closed conversations of the large data set
    two_workers: bool
    # Figure 7's turns (small, large): its growth figures are medians of their ratios.
    growth_turns: int
    messages_each: int = 10
    connections: int = 32
    list_connections: int = 8
    deep_page_connections: int = 1


FULL = Plan(
    seconds=1.5,
    warmup=0.4,
    repeats=3,
    repeats_two_workers=1,
    open_queue=1_000,
    history=99_000,
    two_workers=True,
    growth_turns=5,
)
QUICK = Plan(
    seconds=0.6,
    warmup=0.2,
    repeats=1,
    repeats_two_workers=1,
    open_queue=200,
    history=1_800,
    two_workers=False,
    growth_turns=1,
)


@dataclass
class Project:
    id: str
    agent_token: str
    secret: str


@dataclass
class Site:
    """A fresh database with an agent, a project and its open queue, set up as a deployment's
    would be: what the figures run against."""

    url: str
    env: dict[str, str]
    seeder: Seeder
    project: Project

    @property
    def server_secret(self) -> str:
        return self.env["FRONTDESK_SECRET"]


def set_up_project(port: int) -> Project:
    email = f"bench-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(16)
    http(
        port,
        "POST",
        "/auth/signup",
        {"email": email, "password": password, "firstname": "Bench", "lastname": "Agent"},
    )
    token = http(port, "POST", "/auth/signin", {"email": email, "password": password})["token"]
    project = http(port, "POST", "/projects", {"name": "bench"}, auth=token)
    key = http(port, "POST", f"/{project['_id']}/keys/generate", auth=token)
    return Project(project["_id"], token, key["jwtSecret"])


@contextmanager
def database(backend: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh database: (URL, frontdesk environment). Removed afterwards."""
    data_dir = tempfile.mkdtemp(prefix="frontdesk-bench-")
    env = {"FRONTDESK_DATA_DIR": data_dir, "FRONTDESK_SECRET": secrets.token_urlsafe(48)}
    schema = None
    try:
        if backend == "sqlite":
            url = f"sqlite:///{data_dir}/frontdesk.db"
        else:
            schema = "bench_" + secrets.token_hex(6)
            asyncio.run(_pg(f"CREATE SCHEMA {schema}"))
            url = f"{PG_URL}?search_path={schema}"
            env["FRONTDESK_DATABASE_URL"] = url
        yield url, env
    finally:
        if schema:
            asyncio.run(_pg(f"DROP SCHEMA {schema} CASCADE"))
        shutil.rmtree(data_dir, ignore_errors=True)


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def customer_tokens(project: Project, count: int) -> list[Request]:
    now = int(time.time())
    requests: list[Request] = []
    for i in range(count):
        claims = {
            "_id": f"customer-{i}",
            "sub": "userexternal",
            "email": f"c{i}@example.com",
            "firstname": "Customer",
            "lastname": str(i),
            "aud": f"https://tiledesk.com/projects/{project.id}",
            "iat": now,
            "exp": now + 3600,
        }
        token = jwt.encode(claims, project.secret, algorithm="HS256")
        requests.append(("POST", "/auth/signinWithCustomToken", f"JWT {token}", None))
    return requests


def message_body(text: str) -> str:
    return json.dumps({"text": text, "type": "text"})


class Bench:
    def __init__(self, plan: Plan, backend: str) -> None:
        self.plan = plan
        self.backend = backend
        self.results: list[Comparison] = []
        self.deep_page: dict[str, Any] = {}
        self.own_lists: list[dict[str, Any]] = []

    def run(self) -> list[Comparison]:
        plan = self.plan
        with database(self.backend) as large_db, database(self.backend) as small_db:
            # Figure 7's two data sets live side by side, each with its own project, so that
            # their runs alternate (ratios of runs made at the same time, on a machine whose
            # speed drifts): the small one is the open queue alone, the large one gets the
            # history once figure 10 measured it without.
            large, small = self._site(*large_db), self._site(*small_db)
            returning = asyncio.run(large.seeder.add_visitors(
                large.project.id, large.server_secret, 200, with_conversation=True))
            # The same open queue at both sizes: as many returning visitors on the small one.
            asyncio.run(small.seeder.add_visitors(
                small.project.id, small.server_secret, 200, with_conversation=True))
            self.own_lists.append(self._own_lists(large, returning))
            asyncio.run(large.seeder.add_conversations(
                large.project.id, plan.history, plan.messages_each, closed=True))
            self._growth(small, large)
            self._workers(large, 1, ("1", "2", "3", "4", "5"), plan.repeats)
            self.deep_page = self._deep_page(large)
            self.own_lists.append(self._own_lists(large, returning))
            if plan.two_workers:
                self._workers(large, 2, ("1", "2", "3", "4", "5"), plan.repeats_two_workers)
        return self.results

    def _site(self, url: str, env: dict[str, str]) -> Site:
        """The database at ``url``, its project set up through the API and its open queue
        seeded."""
        with frontdesk_server(env, 1) as fd:
            project = set_up_project(fd.port)
        site = Site(url, env, Seeder(url), project)
        asyncio.run(site.seeder.add_conversations(
            project.id, self.plan.open_queue, self.plan.messages_each, closed=False))
        return site

    def _growth(self, small: Site, large: Site) -> None:
        """Figure 7: figures 3 and 5 on the small data set and on the large one, each against
        the baseline on its own database, in turns (small, its baseline, large, its
        baseline, and again)."""
        plan = self.plan
        with ExitStack() as servers:
            sides = [
                (site, servers.enter_context(frontdesk_server(site.env, 1)),
                 servers.enter_context(baseline_server(site.url, 1)))
                for site in (small, large)
            ]
            for figure in ("3", "5"):
                print(f"  {self.backend} · 1 worker(s) · figure 7{_NAMES[figure]} …",
                      flush=True, file=sys.stderr)
                turns = [
                    (Comparison("7" + _NAMES[figure], self.backend, 1, self._data(site.seeder)),
                     fd, base, self._requests(site, figure))
                    for site, fd, base in sides
                ]
                for _ in range(plan.growth_turns):
                    for comparison, fd, base, requests_for in turns:
                        compare(comparison, fd, base, requests_for, repeats=1,
                                seconds=plan.seconds, warmup=plan.warmup,
                                connections=self._connections(figure))
                self.results.extend(comparison for comparison, *_ in turns)
                if figure == "3":
                    for site in (small, large):
                        asyncio.run(site.seeder.close_live(site.project.id))

    def _connections(self, figure: str) -> int:
        return self.plan.list_connections if figure == "5" else self.plan.connections

    def _workers(
        self, site: Site, workers: int, figures: tuple[str, ...], repeats: int
    ) -> None:
        plan = self.plan
        data = self._data(site.seeder)
        with frontdesk_server(site.env, workers) as fd, baseline_server(site.url, workers) as base:
            for figure in figures:
                label = figure + _NAMES[figure]
                comparison = Comparison(label, self.backend, workers, data)
                print(
                    f"  {self.backend} · {workers} worker(s) · figure {label} …",
                    flush=True,
                    file=sys.stderr,
                )
                compare(
                    comparison,
                    fd,
                    base,
                    self._requests(site, figure),
                    repeats=repeats,
                    seconds=plan.seconds,
                    warmup=plan.warmup,
                    connections=self._connections(figure),
                    cycle=figure != "4",
                )
                self.results.append(comparison)
                if figure in ("3", "4"):
                    asyncio.run(site.seeder.close_live(site.project.id))

    def _deep_page(self, site: Site) -> dict[str, Any]:
        """Figure 9: the closed conversations' page in the middle of the history, by cursor
        (``after``) and by page number (``page``, an OFFSET), frontdesk alone."""
        plan, project, seeder = self.plan, site.project, site.seeder
        closed = asyncio.run(seeder.count_closed(project.id))
        page = max(1, closed // 2 // 40)
        updated_at, row_id = asyncio.run(seeder.closed_position(project.id, page * 40 - 1))
        cursor = ListCursors(site.server_secret).encode(
            project.id, ListPosition(updated_at, row_id)
        )
        base = f"/{project.id}/requests?status=closed&limit=40"
        paths = {"cursor": f"{base}&after={cursor}", "offset": f"{base}&page={page}"}
        figure: dict[str, Any] = {
            "backend": self.backend,
            "data": self._data(seeder),
            "closed": closed,
            "page": page,
            "connections": plan.deep_page_connections,
        }
        print(f"  {self.backend} · 1 worker(s) · figure 9 …", flush=True, file=sys.stderr)
        with frontdesk_server(site.env, 1) as fd:
            # Both pages must show the same rows, or the comparison would be meaningless.
            by_cursor, by_offset = (
                http(fd.port, "GET", path, auth=project.agent_token) for path in paths.values()
            )
            if [r["request_id"] for r in by_cursor["requests"]] != [
                r["request_id"] for r in by_offset["requests"]
            ]:
                raise RuntimeError("the deep page by cursor and by offset differ")
            figure["count"], figure["count_capped"] = by_cursor["count"], by_cursor["countCapped"]
            for name, path in paths.items():
                runs = [
                    load(
                        fd,
                        [("GET", path, project.agent_token, None)],
                        seconds=plan.seconds,
                        warmup=plan.warmup,
                        connections=plan.deep_page_connections,
                    )
                    for _ in range(plan.repeats)
                ]
                for attr in ("rps", "p50_ms", "p99_ms", "cpu_us"):
                    figure[f"{name}_{attr}"] = statistics.median(getattr(r, attr) for r in runs)
        return figure

    def _own_lists(self, site: Site, visitors: list[Visitor]) -> dict[str, Any]:
        """Figure 10: returning visitors each asking for their own conversations, frontdesk
        alone (the same visitors at both sizes: what history adds is the project's)."""
        plan, project = self.plan, site.project
        requests: list[Request] = [
            ("GET", f"/{project.id}/requests/me", v.token, None) for v in visitors
        ]
        print(f"  {self.backend} · 1 worker(s) · figure 10 …", flush=True, file=sys.stderr)
        figure: dict[str, Any] = {"backend": self.backend, "data": self._data(site.seeder)}
        with frontdesk_server(site.env, 1) as fd:
            mine = http(fd.port, "GET", requests[0][1], auth=visitors[0].token)
            if [r["request_id"] for r in mine["requests"]] != [visitors[0].request_id]:
                raise RuntimeError("a returning visitor's list does not show its conversation")
            runs = [
                load(fd, requests, seconds=plan.seconds, warmup=plan.warmup,
                     connections=plan.list_connections)
                for _ in range(plan.repeats)
            ]
        for attr in ("rps", "p50_ms", "p99_ms", "cpu_us"):
            figure[attr] = statistics.median(getattr(r, attr) for r in runs)
        return figure

    @staticmethod
    def _data(seeder: Seeder) -> str:
        return (
            f"{seeder.conversations:,} conv ({seeder.open_conversations:,} open) / "
            f"{seeder.messages:,} msg"
        )

    def _requests(self, site: Site, figure: str) -> Any:
        project, seeder = site.project, site.seeder
        if figure == "1":
            body = json.dumps({"id_project": project.id})
            return lambda: [("POST", "/auth/signinAnonymously", None, body)]
        if figure == "2":
            tokens = customer_tokens(project, 2_000)
            return lambda: tokens
        if figure == "3":
            visitors = asyncio.run(
                seeder.add_visitors(project.id, site.server_secret, 200, with_conversation=True)
            )
            return lambda: [
                (
                    "POST",
                    f"/{project.id}/requests/{v.request_id}/messages",
                    v.token,
                    message_body(f"message {i}"),
                )
                for i, v in enumerate(visitors)
            ]
        if figure == "4":
            # Every request opens a new conversation for a visitor without a lead yet.
            needed = int(2_500 * (self.plan.seconds + self.plan.warmup))

            def fresh() -> list[Request]:
                visitors = asyncio.run(
                    seeder.add_visitors(
                        project.id, site.server_secret, needed, with_conversation=False
                    )
                )
                return [
                    (
                        "POST",
                        f"/{project.id}/requests/{new_request_id(project.id)}/messages",
                        v.token,
                        message_body("hello, I need help"),
                    )
                    for v in visitors
                ]

            return fresh
        # The dashboard's own request: rows as its list draws them (the baseline's are as small).
        path = f"/{project.id}/requests?status=open&limit=40&view=inbox"
        return lambda: [("GET", path, project.agent_token, None)]


_NAMES = {
    "1": " anonymous sign-in",
    "2": " custom-token sign-in",
    "3": " message, existing conversation",
    "4": " first message (request + lead)",
    "5": " agent list page (40 rows)",
}


def websocket_figures(quick: bool) -> dict[str, float] | None:
    if importlib.util.find_spec("bench.ws_delivery") is None:
        return None
    from bench import ws_delivery  # type: ignore[attr-defined]

    result: dict[str, float] = ws_delivery.run(quick=quick)
    return result


def scale_figures(quick: bool, sockets: int | None) -> dict[str, Any] | None:
    if sockets == 0:
        return None
    from bench import ws_scale

    return ws_scale.run(quick=quick, sockets=sockets)


def render_scale(scale: dict[str, Any]) -> list[str]:
    lines = [
        f"Figure 8 ({scale['frontdesk_sockets_open']:,.0f} visitor sockets on one process, "
        f"SQLite, one worker; agent replies to {scale['subscribed']:,.0f} subscribed ones for "
        f"{scale['measured_s']:g} s while the rest idle with {scale['heartbeat_interval_s']:g} s "
        "heartbeats):",
        "",
        "| figure | sockets | replies | p50 ms | p99 ms | p50 / p99 ms, subscribed ones alone "
        "| KiB/idle socket | bare KiB/socket | memory ÷ bare | dropped | load avg |",
        "|" + "---|" * 11,
        f"| 8 idle visitor sockets | {scale['frontdesk_sockets_open']:,.0f} "
        f"| {scale['frontdesk_replies']:,.0f} | {scale['frontdesk_p50_ms']:.1f} "
        f"| {scale['frontdesk_p99_ms']:.1f} | {scale['frontdesk_alone_p50_ms']:.1f} / "
        f"{scale['frontdesk_alone_p99_ms']:.1f} | {scale['frontdesk_kib_per_socket']:.1f} "
        f"| {scale['bare_kib_per_socket']:.1f} | {scale['memory_ratio']:.2f} "
        f"| {scale['frontdesk_sockets_dropped']:,.0f} | {scale['load_avg_1m_before']:.1f} |",
    ]
    if scale["note"]:
        lines.append(f"Note: {scale['note']}.")
    return lines


def _table(title: str, columns: list[str]) -> list[str]:
    """A figure's title and the head of its Markdown table."""
    return [title, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def render_deep_pages(deep_pages: list[dict[str, Any]]) -> list[str]:
    lines = _table(
        "Figure 9 (a page of closed conversations deep in history: "
        "`?status=closed&limit=40` in the middle of the closed ones, frontdesk alone, one "
        "worker; no baseline):",
        ["figure", "db", "data", "page", "count", "by cursor (after): p50 ms", "p99 ms",
         "CPU µs/req", "by offset (page=N): p50 ms", "p99 ms", "CPU µs/req"],
    )
    for d in deep_pages:
        count = f"{d['count']:,}" + ("+" if d["count_capped"] else "")
        lines.append(
            f"| 9 closed page deep in history | {d['backend']} | {d['data']} | {d['page']:,} "
            f"| {count} | {d['cursor_p50_ms']:.1f} | {d['cursor_p99_ms']:.1f} "
            f"| {d['cursor_cpu_us']:,.0f} | {d['offset_p50_ms']:.1f} | {d['offset_p99_ms']:.1f} "
            f"| {d['offset_cpu_us']:,.0f} |"
        )
    return lines


def render_own_lists(own_lists: list[dict[str, Any]]) -> list[str]:
    lines = _table(
        "Figure 10 (a returning visitor's own conversations, `/requests/me`, as the widget asks "
        "when it opens; the same 200 visitors before and after the history; frontdesk alone, "
        "one worker; no baseline):",
        ["figure", "db", "data", "req/s", "p50 ms", "p99 ms", "CPU µs/req"],
    )
    for d in own_lists:
        lines.append(
            f"| 10 visitor's own list | {d['backend']} | {d['data']} | {d['rps']:,.0f} "
            f"| {d['p50_ms']:.1f} | {d['p99_ms']:.1f} | {d['cpu_us']:,.0f} |"
        )
    for backend in dict.fromkeys(d["backend"] for d in own_lists):
        small, large = [d for d in own_lists if d["backend"] == backend][:2]
        lines.append(
            f"- {backend}: large ÷ small, CPU per request {large['cpu_us'] / small['cpu_us']:.2f},"
            f" p50 {large['p50_ms'] / small['p50_ms']:.2f}"
        )
    return lines


def _median_over_turns(
    small: Comparison, large: Comparison, ratio: Callable[[Run, Run], float]
) -> float:
    """The median of ``ratio(small run, large run)`` over figure 7's turns."""
    return statistics.median(
        ratio(s, b) for s, b in zip(small.frontdesk, large.frontdesk, strict=True))


def render(
    results: list[Comparison],
    ws: dict[str, float] | None,
    plan: Plan,
    scale: dict[str, Any] | None = None,
    deep_pages: list[dict[str, Any]] | None = None,
    own_lists: list[dict[str, Any]] | None = None,
) -> str:
    head = (
        "| figure | db | workers | data | frontdesk req/s | p50 ms | p99 ms | CPU µs/req "
        "| baseline req/s | p50 ms | p99 ms | CPU µs/req | req/s ÷ baseline "
        "| CPU: baseline ÷ frontdesk |"
    )
    lines = [head, "|" + "---|" * 14]
    for c in results:
        lines.append(
            f"| {c.figure} | {c.backend} | {c.workers} | {c.data} | {c.fd('rps'):,.0f} "
            f"| {c.fd('p50_ms'):.1f} | {c.fd('p99_ms'):.1f} | {c.fd('cpu_us'):,.0f} "
            f"| {c.base('rps'):,.0f} | {c.base('p50_ms'):.1f} | {c.base('p99_ms'):.1f} "
            f"| {c.base('cpu_us'):,.0f} | {c.ratio:.0%} | {c.cpu_ratio:.0%} |"
        )
    lines.append("")
    lines.append(
        "Growth (figure 7): cost per operation with the large data set ÷ with the small "
        "one, both measured in turns (1.00 = flat; medians of the turns' ratios of p50 "
        "latency, 1/throughput and CPU per request):"
    )
    for backend in dict.fromkeys(c.backend for c in results):
        for figure in ("3", "5"):
            sizes = [c for c in results
                     if c.backend == backend and c.figure == "7" + _NAMES[figure]]
            if len(sizes) != 2:
                continue
            small, large = sizes
            p50 = _median_over_turns(small, large, lambda s, b: b.p50_ms / s.p50_ms)
            inverse_rps = _median_over_turns(small, large, lambda s, b: s.rps / b.rps)
            cpu = _median_over_turns(small, large, lambda s, b: b.cpu_us / s.cpu_us)
            lines.append(
                f"- {backend}, figure {figure}{_NAMES[figure]}: p50 {p50:.2f}, 1/throughput "
                f"{inverse_rps:.2f}, CPU {cpu:.2f} ({small.data} → {large.data})"
            )
    lines.append("")
    if deep_pages:
        lines.extend(render_deep_pages(deep_pages))
        lines.append("")
    if own_lists:
        lines.extend(render_own_lists(own_lists))
        lines.append("")
    if ws is None:
        lines.append("Figure 6 (WebSocket delivery): bench/ws_delivery.py is not there yet.")
    else:
        lines.append("Figure 6 (WebSocket delivery):")
        lines.extend(f"- {name}: {value:,.2f}" for name, value in ws.items())
    lines.append("")
    if scale is not None:
        lines.extend(render_scale(scale))
        lines.append("")
    lines.append(
        f"Medians of {plan.repeats} alternating runs of {plan.seconds:g} s (after "
        f"{plan.warmup:g} s warm-up; 2 workers: {plan.repeats_two_workers}; figure 7: "
        f"{plan.growth_turns} turns); "
        f"{plan.connections} keep-alive connections, {plan.list_connections} for the list page; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--ws-sockets",
        type=int,
        help="idle visitor sockets for figure 8 (default 10,000; --quick 1,000; 0 skips it)",
    )
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    # A plain SIGTERM would skip the clean-up (servers, temporary schema and files).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    results: list[Comparison] = []
    deep_pages: list[dict[str, Any]] = []
    own_lists: list[dict[str, Any]] = []
    for backend in args.backends.split(","):
        bench = Bench(plan, backend)
        results.extend(bench.run())
        deep_pages.append(bench.deep_page)
        own_lists.extend(bench.own_lists)
    ws = websocket_figures(args.quick)
    # Figure 8 runs last and longest: if it fails, the figures measured before it still count.
    scale_error = None
    try:
        scale = scale_figures(args.quick, args.ws_sockets)
    except Exception as exc:  # reported below, and the exit status says so
        scale, scale_error = None, f"{type(exc).__name__}: {exc}"
    print(render(results, ws, plan, scale, deep_pages, own_lists))
    if scale_error is not None:
        print(f"\nFigure 8 failed: {scale_error}")
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "figures": [c.as_dict() for c in results],
                    "history_deep_page": deep_pages,
                    "visitor_own_list": own_lists,
                    "websocket": ws,
                    "websocket_scale": scale,
                    "websocket_scale_error": scale_error,
                },
                handle,
                indent=2,
            )
    return 0 if scale_error is None else 1


if __name__ == "__main__":
    sys.exit(main())
