"""A client that floods /ws with frames is refused, then closed with 4429."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from limits.aio.storage import MemoryStorage
from limits.errors import StorageError
from starlette.testclient import TestClient

from frontdesk.actions.limits import Counters, RateLimits
from frontdesk.realtime.rate_limit import FrameBudgets, session_key
from frontdesk.settings import Settings
from tests.conftest import REDIS_URL, Factory, LimitsTime, require_service
from tests.realtime.wsclient import signed_in

PING = json.dumps({"action": "heartbeat", "payload": {"message": {"text": "ping"}}})


def test_the_budget_allows_a_burst_then_the_rate(limits_time: LimitsTime) -> None:
    budgets = FrameBudgets(rate=2, burst=4)  # four in any two seconds

    async def taken(count: int, key: str = "s") -> list[bool]:
        return [await budgets.take(key) for _ in range(count)]

    async def scenario() -> list[list[bool]]:
        seen = [await taken(5), await taken(1, "another")]
        limits_time.advance(2)
        seen.append(await taken(5))  # never more than the burst saved up
        return seen

    assert asyncio.run(scenario()) == [[True] * 4 + [False], [True], [True] * 4 + [False]]


def test_refusals_count_until_the_client_calms_down(limits_time: LimitsTime) -> None:
    budgets = FrameBudgets(rate=1, burst=3)

    async def scenario() -> list[bool]:
        first = [await budgets.tolerate_refusal("s") for _ in range(2)]
        limits_time.advance(3)  # a whole window without refusals: forgiven
        again = [await budgets.tolerate_refusal("s") for _ in range(3)]
        return first + again

    assert asyncio.run(scenario()) == [True, True, True, True, False]


def test_frames_past_the_burst_are_refused_then_the_socket_is_closed(app_factory: Any) -> None:
    # A rate so low that no token comes back during the test.
    client: TestClient = app_factory(ws_frame_rate=0.01, ws_frame_burst=3)
    agent = Factory(client).agent()
    with signed_in(client, agent.token) as socket:
        for _ in range(3):
            socket.session.send_text(PING)
            assert json.loads(socket._receive(5)["text"])["payload"]["message"]["text"] == "pong"
        for _ in range(2):
            socket.session.send_text(PING)
            error = socket.expect("error")
            assert error["code"] == "rate_limited"
        socket.session.send_text(PING)
        assert socket.closed() == (4429, "rate_limited")


def test_a_refused_typing_frame_reaches_nobody(app_factory: Any) -> None:
    client: TestClient = app_factory(ws_frame_rate=0.01, ws_frame_burst=2)
    make = Factory(client)
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    topic = f"/{project.id}/requests/{rid}"
    with (
        signed_in(client, visitor.token) as widget,
        signed_in(client, project.owner.token) as dashboard,
    ):
        widget.subscribe(topic)  # the first frame of its budget
        dashboard.subscribe(topic)
        widget.send("typing", topic=topic, typing=True)  # the second
        assert dashboard.expect("typing")["typing"] is True
        widget.send("typing", topic=topic, typing=False)
        assert widget.expect("error")["code"] == "rate_limited"
        dashboard.nothing_more()


@pytest.mark.redis
def test_a_sessions_budget_holds_across_processes_sharing_redis() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    settings = Settings(redis_url=REDIS_URL, redis_channel=f"t:{uuid.uuid4().hex}")

    async def frames_let_through() -> tuple[int, int]:
        limits = RateLimits(settings)
        # Two processes' budgets of 8 frames in any 8 s, counted in Redis 2 at a time.
        processes = [
            FrameBudgets(1, 8, limits.counters, namespace=settings.redis_channel)
            for _ in range(2)
        ]
        session = session_key("jti-1")
        taken = [await processes[n % 2].take(session) for n in range(16)]
        alone = [await processes[0].take(session_key("jti-2")) for _ in range(8)]
        await limits.close()
        return sum(taken), sum(alone)

    together, alone = asyncio.run(frames_let_through())
    # Each process alone would let 8 through (16 in all); shared, the budget of 8 holds, give
    # or take the batch each process has not counted in Redis yet.
    assert 8 <= together <= 8 + 2 * 2
    assert alone == 8  # another session of the same process has its own budget


class _FailingStorage(MemoryStorage):
    """A shared storage that is away: every count fails, as an unreachable Redis does."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
        self.attempts += 1
        raise StorageError(ConnectionError("Redis is away"))


def test_a_failing_shared_storage_is_not_asked_for_every_batch() -> None:
    storage = _FailingStorage()
    budgets = FrameBudgets(1, 8, Counters(storage), namespace="t")  # batches of 2

    async def taken() -> list[bool]:
        return [await budgets.take(session_key("jti")) for _ in range(9)]

    # This process's budget still holds; the storage was tried once, then left alone for a
    # few seconds instead of holding up every other frame with a round trip that fails.
    assert asyncio.run(taken()) == [True] * 8 + [False]
    assert storage.attempts == 1
