"""The hub: every WebSocket of this process, their subscriptions, and the events fanned out.

A socket authenticates (``?token=JWT …`` or an ``authenticate`` frame), subscribes to topics
that ``actions.subscriptions.access_topic`` allows, and receives a snapshot of each topic —
or, resuming, what it missed — before its live events. Live events come from the broker (this
process's commits, or every process's through Redis) and are serialised once per topic.

Limits, each ending in a named close code (``protocol.CloseCode``):

- a client frame may be at most ``ws_max_frame_bytes`` (default 64 KiB): close 1009;
- a session may send ``ws_frame_burst`` frames at once and ``ws_frame_rate`` a second (default
  40 and 20), over all its sockets together, across processes when Redis is configured
  (``realtime.rate_limit``); a
  frame beyond that is refused with an error frame ``rate_limited``, and a client refused
  ``ws_frame_burst`` times within one window of its budget is closed with 4429;
- a session may hold ``ws_sockets_per_session`` sockets and a client address
  ``ws_sockets_per_address`` (``realtime.socket_limits``): one more is closed with 4429
  ``too_many_sockets``;
- at most ``ws_send_queue`` frames and ``ws_send_queue_bytes`` bytes wait per socket: a client
  further behind is closed with 4409 ``slow_consumer``, so it never holds memory or delays
  anyone else;
- the server sends a heartbeat every ``ws_heartbeat_interval`` seconds; a socket silent for two
  of them is closed with 4408 ``heartbeat_timeout``; one that has not authenticated within one
  with 4401 ``authentication_required``; one whose token expires with 4401 ``token_expired``;
- a ``SessionRevoked`` event (logout, erasure) closes every socket of that session with 4401
  ``session_revoked``, in every process;
- a ``MembershipRevoked`` event (an agent removed from a team) drops that agent's topics of
  that project, each with an error frame ``membership_revoked``; the socket stays open for
  the agent's other projects;
- an ``AccessChanged`` event (a merge reverted, a project's visitor policy changed) re-checks
  the visitor sockets it names, in every process, with the access rules of REST reads: a
  socket whose visitor may no longer use the project is closed (4403 with the refusal's code,
  e.g. ``anonymous_not_allowed``), a topic it may no longer read is dropped with an error frame
  carrying the refusal's code (e.g. ``not_your_request``);
- when the broker's link to the other processes comes back after a drop, every socket is
  re-checked the same way, its session included (4401 ``session_revoked``): revocations
  published during the gap never arrived.

Agents' sockets are counted for presence (``realtime.presence``): the last one closing makes
the agent unavailable after ``presence_grace_seconds``, a new one makes it available again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import jwt
from starlette.types import Scope
from starlette.websockets import WebSocket

from frontdesk.actions.access import (
    ProjectAccess,
    access_project,
    authenticate_session_token,
    check_session_live,
)
from frontdesk.actions.presence import do_mark_away, do_mark_back
from frontdesk.actions.subscriptions import (
    Cursor,
    access_topic,
    check_mark_read,
    notify_typing,
    topic_snapshot,
)
from frontdesk.auth.principals import Agent, Principal
from frontdesk.clock import iso
from frontdesk.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    FrontdeskError,
    RateLimited,
    Unauthorized,
)
from frontdesk.models.requests import visitor_view_of_request
from frontdesk.realtime import protocol
from frontdesk.realtime.connection import Connection, frame_bytes
from frontdesk.realtime.events import (
    AccessChanged,
    Event,
    MembershipRevoked,
    MessageCreated,
    MessagesRead,
    NoteMentioned,
    ProjectChanged,
    ProjectUserChanged,
    ReadMarkerChanged,
    RequestChanged,
    SessionRevoked,
    TypingChanged,
    WireObject,
    check_wire_objects,
)
from frontdesk.realtime.presence import Presence, presence_for
from frontdesk.realtime.protocol import CloseCode
from frontdesk.realtime.rate_limit import FrameBudgets, socket_key
from frontdesk.realtime.socket_limits import SocketLimits
from frontdesk.realtime.topics import Topic, parse_topic
from frontdesk.realtime.versions import LatestVersions
from frontdesk.services import Services

log = logging.getLogger("frontdesk.realtime")

MAX_TOPICS = 200  # per socket
_MISSED_HEARTBEATS = 2
# A heartbeat round is spread over its interval in slices, ticks at least this far apart, so
# 10,000 sockets' pings (and their pongs) never arrive at once.
_MAX_SLICES = 50
_MIN_TICK_SECONDS = 0.05
# Access checks a subscribe repeats when access changes meanwhile, before it gives up.
_ACCESS_ATTEMPTS = 5


class Hub:
    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.services = services
        self._interval = settings.ws_heartbeat_interval
        self._queue_limit = settings.ws_send_queue
        self._max_frame = settings.ws_max_frame_bytes
        self._frame_rate = settings.ws_frame_rate
        self._frame_burst = settings.ws_frame_burst
        self._connections: set[Connection] = set()
        # Each socket sits in one slice; a tick sweeps one slice, a round all of them.
        self._slices: list[set[Connection]] = [
            set() for _ in range(max(1, min(_MAX_SLICES, int(self._interval / _MIN_TICK_SECONDS))))
        ]
        self._next_slice = 0
        self._by_topic: dict[str, set[Connection]] = {}
        self._by_jti: dict[str, set[Connection]] = {}
        self._frame_budgets = FrameBudgets(
            self._frame_rate, self._frame_burst, services.limits.counters,
            namespace=settings.redis_channel,
        )
        self._limits = SocketLimits(settings, self._frame_budgets)
        self._sweeper: asyncio.Task[None] | None = None
        # Counts access changes seen, so a subscribe whose check raced one checks again.
        self._access_epoch = 0
        self._request_versions = LatestVersions()
        self._visitor_marks: set[asyncio.Task[None]] = set()
        self._presence = self._make_presence()

    def _make_presence(self) -> Presence | None:
        async def away(user_id: str) -> None:
            await do_mark_away(self.services, user_id)

        async def back(user_id: str) -> None:
            await do_mark_back(self.services, user_id)

        return presence_for(self.services.settings, on_away=away, on_back=back)

    @property
    def connection_count(self) -> int:
        """Open sockets of this process (the metrics' gauge)."""
        return len(self._connections)

    async def start(self) -> None:
        self.services.broker.subscribe(self.on_event)
        self.services.broker.watch_link(self._on_broker_link)
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for conn in list(self._connections):
            conn.close(CloseCode.GOING_AWAY, "server_shutdown")
        if self._presence is not None:
            await self._presence.close()

    async def serve(self, websocket: WebSocket) -> None:
        """Run one socket from accept to disconnect."""
        await websocket.accept()
        now = time.monotonic()
        conn = Connection(
            websocket,
            queue_limit=self._queue_limit,
            queue_bytes=self.services.settings.ws_send_queue_bytes,
            budget_key=socket_key(),
            now=now,
            on_close=self._forget,
        )
        self._connections.add(conn)
        self._place(conn)
        try:
            await self._admit(conn)
            await self._read_until_disconnect(conn)
        finally:
            self._limits.release(conn)
            self._forget(conn)
            if conn.principal is not None:
                with contextlib.suppress(Exception):  # presence must not stop the cleanup
                    await self._mark_visitor_present(conn.principal)
            self._connections.discard(conn)
            self._slices[conn.slice].discard(conn)
            if self._presence is not None:
                await self._presence.disconnected(conn)
            await conn.finish()

    async def _admit(self, conn: Connection) -> None:
        """Count ``conn`` against its address; authenticate it with its URL's token, if any.
        Apart from ``serve``, whose frame waits as long as the socket is open: the token and
        what its check made are not kept for that long."""
        refused = self._limits.admit_address(conn)
        token = _query_token(conn.websocket.scope)
        if refused is not None:
            self._refuse(conn, refused)
        elif token:
            await self._authenticate(conn, token)

    async def _read_until_disconnect(self, conn: Connection) -> None:
        while True:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            conn.last_seen = time.monotonic()
            if conn.is_closed():
                continue  # closing: drain until the client answers the close
            text = message.get("text")
            if not await self._frame_budgets.take(conn.budget_key):
                await self._refuse_flood(conn)
            elif text is None:
                conn.close(CloseCode.UNSUPPORTED_DATA, "binary_frame")
            elif frame_bytes(text) > self._max_frame:
                conn.close(CloseCode.FRAME_TOO_LARGE, "frame_too_large")
            else:
                await self._handle(conn, text)

    async def _refuse_flood(self, conn: Connection) -> None:
        # Refused before parsing, so a flood costs the server as little as possible.
        self.services.metrics.refused("websocket", "rate_limited")
        if not await self._frame_budgets.tolerate_refusal(conn.budget_key):
            conn.close(CloseCode.RATE_LIMITED, "rate_limited")
            return
        conn.send(
            protocol.error_frame(
                RateLimited(
                    f"at most {self._frame_rate:g} frames a second (bursts of"
                    f" {self._frame_burst}); this frame was ignored",
                    code="rate_limited",
                )
            )
        )

    async def _handle(self, conn: Connection, text: str) -> None:
        topic_name: str | None = None
        try:
            frame = protocol.parse_client_frame(text)
            if isinstance(frame, protocol.Heartbeat):
                if frame.payload.message.text == "ping":
                    conn.send(protocol.heartbeat_frame("pong"))
                return
            if isinstance(frame, protocol.Authenticate):
                if conn.principal is not None:
                    raise BadRequest("this socket is authenticated", code="already_authenticated")
                await self._authenticate(conn, frame.payload.token)
                return
            principal = conn.principal
            if principal is None:
                self._refuse(
                    conn,
                    Unauthorized(
                        "authenticate first: ?token=JWT … or an authenticate frame",
                        code="authentication_required",
                    ),
                )
                return
            topic_name = frame.payload.topic
            topic = parse_topic(topic_name)
            if isinstance(frame, protocol.Subscribe):
                cursor = Cursor(frame.payload.after, protocol.since_ms(frame.payload.since))
                await self._subscribe(conn, principal, topic, cursor)
            elif isinstance(frame, protocol.Unsubscribe):
                self._unsubscribe(conn, topic.name)
                conn.send(protocol.unsubscribed_frame(topic.name))
            elif isinstance(frame, protocol.Typing):
                self._require_conversation(conn, topic)
                await notify_typing(self.services, principal, topic, frame.payload.typing)
            else:
                self._require_conversation(conn, topic)
                await check_mark_read(self.services, principal, topic, frame.payload.message_id)
        except FrontdeskError as exc:
            conn.send(protocol.error_frame(exc, topic_name))
        except Exception:
            log.exception("websocket frame failed")
            conn.send(protocol.error_frame(FrontdeskError("internal error; it has been logged")))

    async def _authenticate(self, conn: Connection, raw: str) -> None:
        token = _strip_scheme(raw)
        try:
            unverified = _unverified_claims(token)
            # Index by session before checking it, so a revocation that races the check
            # still finds this socket.
            conn.jti = str(unverified.get("jti", ""))
            self._by_jti.setdefault(conn.jti, set()).add(conn)
            # A visitor's socket carries its page's Origin, which every subscribe checks
            # against the project's allowed origins, as REST calls do.
            origin = _origin(conn.websocket.scope)
            principal = await authenticate_session_token(self.services, token, origin=origin)
        except Unauthorized as exc:
            self._refuse(conn, exc)
            return
        if conn.is_closed():
            return
        refused = self._limits.admit_session(conn, conn.jti)
        if refused is not None:
            self._refuse(conn, refused)
            return
        conn.principal = principal
        await self._mark_visitor_present(principal)
        exp = unverified.get("exp")
        conn.expires_at = float(exp) if isinstance(exp, int) else None
        conn.send(protocol.authenticated_frame(_profile(principal)))
        if isinstance(principal, Agent) and self._presence is not None:
            await self._presence.connected(principal.user_id, conn)

    def _refuse(self, conn: Connection, error: FrontdeskError) -> None:
        if isinstance(error, RateLimited):
            self.services.metrics.refused("websocket", error.code)
        conn.send(protocol.error_frame(error))
        conn.close(error.ws_close_code, error.code)

    async def _subscribe(
        self, conn: Connection, principal: Principal, topic: Topic, cursor: Cursor
    ) -> None:
        if topic.name not in conn.topics and len(conn.topics) >= MAX_TOPICS:
            raise BadRequest(f"at most {MAX_TOPICS} topics per socket", code="too_many_topics")
        revocations = conn.revocations(topic.project_id)
        access = await self._access_topic(principal, topic)
        if conn.is_closed():
            return
        if conn.revocations(topic.project_id) != revocations:
            raise _membership_revoked()
        # Listen first and hold live frames, then read the snapshot: an event committed in
        # between is in the snapshot, held, or both (then sent once) — never lost. A message
        # in the snapshot whose event comes after it is sent once too (``remember_replayed``).
        newly = conn.add_topic(topic.name)
        self._by_topic.setdefault(topic.name, set()).add(conn)
        conn.hold(topic.name)
        try:
            snapshot = await topic_snapshot(self.services, access, topic, cursor)
        except BaseException:
            conn.release_held(topic.name)
            if newly:
                self._unsubscribe(conn, topic.name)
            raise
        held = conn.release_held(topic.name)
        if conn.is_closed() or topic.name not in conn.topics:
            return  # closed, or revoked meanwhile (the revocation sent the error)
        if self.services.settings.check_responses:
            check_wire_objects(snapshot.objects)
        if snapshot.objects:
            conn.send(protocol.publish_frame(topic.name, "CREATE", snapshot.objects))
        conn.send(
            protocol.subscribed_frame(
                topic.name, replayed=len(snapshot.objects), complete=snapshot.complete
            )
        )
        # A replayed message's live event, held or still on its way (the broker delivers after
        # the commit, Redis later still), is not sent again.
        sent = {str(o["_id"]) for o in snapshot.objects} if topic.kind == "messages" else set()
        conn.remember_replayed(topic.name, sent)
        for frame, object_id in held:
            conn.hold_or_send(topic.name, frame, object_id)

    async def _access_topic(self, principal: Principal, topic: Topic) -> ProjectAccess:
        # An access change handled while this check awaited the database did not see this
        # topic (not subscribed yet): check again, now that the change is committed.
        for _ in range(_ACCESS_ATTEMPTS):
            epoch = self._access_epoch
            access = await access_topic(self.services, principal, topic)
            if epoch == self._access_epoch:
                return access
        raise Conflict("access to this project keeps changing; subscribe again",
                       code="access_changing")

    def _unsubscribe(self, conn: Connection, topic_name: str) -> None:
        conn.discard_topic(topic_name)
        subscribers = self._by_topic.get(topic_name)
        if subscribers is not None:
            subscribers.discard(conn)
            if not subscribers:
                del self._by_topic[topic_name]

    def _require_conversation(self, conn: Connection, topic: Topic) -> None:
        """Typing and read receipts come only from subscribers of that conversation."""
        conversation = topic.conversation
        if conversation is None:
            raise BadRequest("send this on a conversation's topic", code="not_a_conversation")
        pid, rid = conversation
        if not conn.topics & {f"/{pid}/requests/{rid}", f"/{pid}/requests/{rid}/messages"}:
            raise Forbidden("subscribe to this conversation first", code="not_subscribed")

    def _forget(self, conn: Connection) -> None:
        for topic_name in list(conn.topics):
            self._unsubscribe(conn, topic_name)
        if conn.jti is not None:
            sessions = self._by_jti.get(conn.jti)
            if sessions is not None:
                sessions.discard(conn)
                if not sessions:
                    del self._by_jti[conn.jti]

    async def on_event(self, event: Event) -> None:
        """Fan ``event`` out to this process's subscribers; never raises into the broker."""
        try:
            if isinstance(event, SessionRevoked):
                for conn in list(self._by_jti.get(event.jti, ())):
                    conn.close(CloseCode.UNAUTHORIZED, "session_revoked")
            elif isinstance(event, MembershipRevoked):
                self._revoke_membership(event)
            elif isinstance(event, AccessChanged):
                await self._access_changed(event)
            elif isinstance(event, TypingChanged | MessagesRead):
                self._fan_out_signal(event)
            elif isinstance(event, NoteMentioned):
                self._deliver_mention(event)
            elif isinstance(event, ReadMarkerChanged):
                self._fan_out_to_reader(event)
            elif isinstance(event, RequestChanged):
                if not self._request_versions.is_stale(event.request_id, event.version):
                    self._fan_out(event)
            elif isinstance(event, ProjectChanged):
                return  # for the project cache (services), not for sockets
            else:
                self._fan_out(event)
        except Exception:
            log.exception("could not deliver %s", type(event).__name__)

    def _revoke_membership(self, event: MembershipRevoked) -> None:
        prefix = f"/{event.project_id}/"
        error = _membership_revoked()
        for conn in list(self._connections):
            principal = conn.principal
            if not isinstance(principal, Agent) or principal.user_id != event.user_id:
                continue
            conn.count_revocation(event.project_id)
            for topic_name in sorted(t for t in conn.topics if t.startswith(prefix)):
                self._drop_topic(conn, topic_name, error)

    def _drop_topic(self, conn: Connection, topic_name: str, error: FrontdeskError) -> None:
        """Stop ``topic_name`` for ``conn``, telling it why with an error frame."""
        self._unsubscribe(conn, topic_name)
        conn.release_held(topic_name)
        conn.send(protocol.error_frame(error, topic_name))

    async def _access_changed(self, event: AccessChanged) -> None:
        def scope(conn: Connection, principal: Principal) -> set[str] | None:
            if isinstance(principal, Agent) or principal.project_id != event.project_id:
                return None  # agents' access changes with their membership (MembershipRevoked)
            if event.visitor_ids and principal.visitor_id not in event.visitor_ids:
                return None
            return {
                name for name in conn.topics
                if not event.request_ids or parse_topic(name).request_id in event.request_ids
            }

        await self._recheck_sockets(scope)

    async def _on_broker_link(self, linked: bool) -> None:
        if linked:
            await self.recheck_all()

    async def recheck_all(self) -> None:
        """Check every socket again against the database: its session, its visitor's access
        to its project and each of its topics. For when events may have been missed."""
        await self._recheck_sockets(lambda conn, _principal: set(conn.topics))

    async def _recheck_sockets(
        self, scope: Callable[[Connection, Principal], set[str] | None]
    ) -> None:
        """``_recheck`` each open, authenticated socket with the topics ``scope`` names for it
        (None: leave it alone). A socket whose check fails unexpectedly is closed, and the
        others are still checked."""
        self._access_epoch += 1
        for conn in list(self._connections):
            principal = conn.principal
            if principal is None or conn.is_closed():
                continue
            names = scope(conn, principal)
            if names is None:
                continue
            try:
                await self._recheck(conn, principal, names)
            except Exception:
                log.exception("could not re-check a socket; closing it")
                conn.close(CloseCode.INTERNAL_ERROR, "internal_error")

    async def _recheck(self, conn: Connection, principal: Principal, names: set[str]) -> None:
        """Close ``conn`` if its session or project access is gone, else drop those of
        ``names`` it may no longer read — with the same checks as a REST call."""
        try:
            await check_session_live(self.services, principal)
            if not isinstance(principal, Agent):
                await access_project(
                    self.services, principal, principal.project_id, visitors=True
                )
        except FrontdeskError as exc:
            self._refuse(conn, exc)
            return
        for name in sorted(names):
            try:
                await access_topic(self.services, principal, parse_topic(name))
            except FrontdeskError as exc:
                if conn.is_closed():
                    return
                if name in conn.topics:  # not unsubscribed meanwhile
                    self._drop_topic(conn, name, _as_revocation(exc))

    def _fan_out(self, event: RequestChanged | MessageCreated | ProjectUserChanged) -> None:
        object_id: str | None = None
        body: WireObject
        if isinstance(event, RequestChanged):
            body = event.request
        elif isinstance(event, MessageCreated):
            body = event.message
            object_id = event.message["_id"]
        else:
            body = event.project_user
        for topic_name in event.topics():
            subscribers = self._by_topic.get(topic_name)
            if not subscribers:
                continue
            frame = protocol.publish_frame(topic_name, event.method, [body])
            visitor_frame: str | None = None
            for conn in list(subscribers):
                if isinstance(event, RequestChanged) and event.held and isinstance(
                    conn.principal, Agent
                ):
                    continue  # held back from agents until its visitor verifies
                if isinstance(event, RequestChanged) and not isinstance(conn.principal, Agent):
                    if event.agents_only:
                        continue
                    if visitor_frame is None:  # only agents hear agents' notes
                        visitor_frame = protocol.publish_frame(
                            topic_name, event.method, [visitor_view_of_request(event.request)]
                        )
                    conn.hold_or_send(topic_name, visitor_frame, object_id)
                else:
                    conn.hold_or_send(topic_name, frame, object_id)

    def _fan_out_to_reader(self, event: ReadMarkerChanged) -> None:
        # Markers are the agent's own: other members listening on its topic hear nothing.
        for topic_name in event.topics():
            frame = protocol.publish_frame(topic_name, event.method, [event.marker])
            for conn in list(self._by_topic.get(topic_name, ())):
                if conn.user_id == event.user_id:
                    conn.hold_or_send(topic_name, frame, None)

    def _fan_out_signal(self, event: TypingChanged | MessagesRead) -> None:
        # Once per socket even if it listens on both topics of the conversation; never back
        # to the person who sent it.
        body: dict[str, Any] = {"request_id": event.request_id, "user_id": event.user_id}
        if isinstance(event, TypingChanged):
            action = "typing"
            body.update(fullname=event.fullname, typing=event.typing)
        else:
            action = "read"
            body.update(message_id=event.message_id, read_at=iso(event.read_at))
        reached: set[Connection] = set()
        for topic_name in event.topics():
            subscribers = self._by_topic.get(topic_name, set()) - reached
            if not subscribers:
                continue
            frame = protocol.ephemeral_frame(action, topic_name, body)
            for conn in subscribers:
                reached.add(conn)
                if conn.user_id != event.user_id:
                    conn.send(frame)

    def _deliver_mention(self, event: NoteMentioned) -> None:
        # Only the mentioned agent's own sockets: other agents may watch its member topic.
        body = {"request_id": event.request_id, "note": event.note,
                "by": {"_id": event.by_user_id, "fullName": event.by_fullname}}
        for topic_name in event.topics():
            frame = protocol.ephemeral_frame("mention", topic_name, body)
            for conn in list(self._by_topic.get(topic_name, ())):
                principal = conn.principal
                if isinstance(principal, Agent) and principal.user_id == event.user_id:
                    conn.send(frame)

    def _place(self, conn: Connection) -> None:
        index = self._next_slice
        self._next_slice = (index + 1) % len(self._slices)
        self._slices[index].add(conn)
        conn.slice = index

    async def _sweep_forever(self) -> None:
        # Ticks keep to a schedule (no drift), so each socket is swept once per interval.
        loop = asyncio.get_running_loop()
        tick = self._interval / len(self._slices)
        due = loop.time()
        index = 0
        while True:
            due += tick
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.sweep_slice(index)
            index = (index + 1) % len(self._slices)
            if index == 0 and self._presence is not None:
                await self._presence.refresh()

    def sweep(self) -> None:
        """One whole heartbeat round at once (the sweeper spreads it: ``sweep_slice``)."""
        for index in range(len(self._slices)):
            self.sweep_slice(index)

    def sweep_slice(self, index: int) -> None:
        """Ping one slice's live sockets; close its silent, unauthenticated, expired ones.

        Every socket is in one slice and each slice is swept once per interval, so each
        socket is pinged, checked, and its visitor marked present once per interval."""
        now = time.monotonic()
        wall = self.services.clock.now()
        ping = protocol.heartbeat_frame("ping")
        present: set[tuple[str, str]] = set()
        for conn in list(self._slices[index]):
            if conn.is_closed():
                continue
            if conn.principal is None and now - conn.opened_at >= self._interval:
                conn.close(CloseCode.UNAUTHORIZED, "authentication_required")
            elif now - conn.last_seen >= self._interval * _MISSED_HEARTBEATS:
                conn.close(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat_timeout")
            elif conn.expires_at is not None and conn.expires_at <= wall:
                conn.close(CloseCode.UNAUTHORIZED, "token_expired")
            else:
                conn.send(ping)
                if conn.principal is not None and not isinstance(conn.principal, Agent):
                    present.add((conn.principal.project_id, conn.principal.visitor_id))
        if present:
            # Visitors with a live socket: their e-mail continuity waits until they leave.
            task = asyncio.create_task(self._mark_visitors_present(present))
            self._visitor_marks.add(task)
            task.add_done_callback(self._visitor_marks.discard)

    async def _mark_visitors_present(self, present: set[tuple[str, str]]) -> None:
        await self.services.visitor_presence.touch_many(present)

    async def _mark_visitor_present(self, principal: Principal) -> None:
        if not isinstance(principal, Agent):
            await self.services.visitor_presence.touch(principal.project_id, principal.visitor_id)


def _membership_revoked() -> Forbidden:
    return Forbidden("you are no longer a member of this project", code="membership_revoked")


def _as_revocation(error: FrontdeskError) -> FrontdeskError:
    # An agent found outside the project on a re-check was removed: say so as the removal does.
    return _membership_revoked() if error.code == "not_a_member" else error


# Read from the scope, not Starlette's ``query_params`` and ``headers``, which a socket would
# keep parsed (a copy of its token among them) for as long as it is open.
def _query_token(scope: Scope) -> str | None:
    """The last ``token`` query parameter, as Starlette's ``query_params`` reads it."""
    token = None
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if name == "token":
            token = value
    return token


def _origin(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            return str(value.decode("latin-1"))
    return None


def _strip_scheme(raw: str) -> str:
    scheme, _, rest = raw.strip().partition(" ")
    if rest and scheme.lower() in ("jwt", "bearer"):
        return rest.strip()
    return raw.strip()


def _unverified_claims(token: str) -> dict[str, Any]:
    """The claims as written, to index the socket by session before the real check."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized("the token is not a JWT", code="malformed_token") from None
    return claims


def _profile(principal: Principal) -> dict[str, Any]:
    if isinstance(principal, Agent):
        return {
            "_id": principal.user_id,
            "id": principal.user_id,
            "email": principal.email,
            "fullName": principal.fullname,
            "role": "agent",
        }
    return {
        "_id": principal.visitor_id,
        "id": principal.visitor_id,
        "fullName": principal.fullname,
        "id_project": principal.project_id,
        "isAuthenticated": principal.is_authenticated,
        "role": principal.role,
    }
