"""The WebSocket protocol: typed client frames, server frames, named close codes.

Frames are JSON text, ``{"action": …, "payload": {…}}``, in Tiledesk's dashboard dialect
(docs/realtime.md describes them for client authors). Client frames are parsed into the models
below; unknown keys are ignored so Tiledesk clients that send extra fields keep working.
Server frames are built here and serialised once per topic, however many sockets receive them.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from frontdesk import jsonutil
from frontdesk.errors import BadRequest, FrontdeskError

# Printable characters only: a topic with a control character (a trailing newline, …) would
# otherwise reach the topic parser and could name the same topic twice.
TopicName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
# Epoch milliseconds up to the year 9999, which every database integer holds.
MAX_SINCE_MS = 253_402_300_799_999
SinceMs = Annotated[int, Field(ge=0, le=MAX_SINCE_MS, strict=True)]


class CloseCode(IntEnum):
    """Why the server closed a socket; the close reason carries the stable error code."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down
    UNSUPPORTED_DATA = 1003  # a binary frame
    FRAME_TOO_LARGE = 1009
    INTERNAL_ERROR = 1011
    UNAUTHORIZED = 4401  # bad, expired or revoked token; no authentication in time
    HEARTBEAT_TIMEOUT = 4408  # nothing heard from the client for two heartbeats
    SLOW_CONSUMER = 4409  # the client fell too far behind the frames sent to it
    RATE_LIMITED = 4429  # the client kept sending frames faster than it is allowed


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AuthenticatePayload(_Frame):
    token: Annotated[str, Field(min_length=1, max_length=8192)]


class Authenticate(_Frame):
    action: Literal["authenticate"]
    payload: AuthenticatePayload


class SubscribePayload(_Frame):
    topic: TopicName
    after: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")] | None = Field(
        default=None, validation_alias=AliasChoices("after", "lastMessageId")
    )
    since: SinceMs | Annotated[datetime, Field(strict=True)] | None = None


class Subscribe(_Frame):
    action: Literal["subscribe"]
    payload: SubscribePayload


class TopicPayload(_Frame):
    topic: TopicName


class Unsubscribe(_Frame):
    action: Literal["unsubscribe"]
    payload: TopicPayload


class HeartbeatText(_Frame):
    text: Literal["ping", "pong"] = "ping"


class HeartbeatPayload(_Frame):
    message: HeartbeatText = HeartbeatText()


class Heartbeat(_Frame):
    action: Literal["heartbeat"]
    payload: HeartbeatPayload = HeartbeatPayload()


class TypingPayload(_Frame):
    topic: TopicName
    typing: bool = True


class Typing(_Frame):
    action: Literal["typing"]
    payload: TypingPayload


class ReadPayload(_Frame):
    topic: TopicName
    message_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]


class Read(_Frame):
    action: Literal["read"]
    payload: ReadPayload


ClientFrame = Annotated[
    Authenticate | Subscribe | Unsubscribe | Heartbeat | Typing | Read,
    Field(discriminator="action"),
]
_CLIENT_FRAME: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


def parse_client_frame(text: str) -> ClientFrame:
    """The frame ``text`` holds; BadRequest(bad_frame) with the details when it is not one."""
    try:
        return _CLIENT_FRAME.validate_json(text)
    except ValidationError as exc:
        details = [
            {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise BadRequest(
            "frames are JSON objects {action, payload}; actions: authenticate, subscribe,"
            " unsubscribe, heartbeat, typing, read",
            code="bad_frame",
            details=details,
        ) from None


def since_ms(since: int | datetime | None) -> int | None:
    if since is None or isinstance(since, int):
        return since
    return int(since.timestamp() * 1000)


def _frame(action: str, payload: dict[str, Any]) -> str:
    return jsonutil.dumps({"action": action, "payload": payload})


def publish_frame(topic: str, method: str, objects: list[dict[str, Any]]) -> str:
    return _frame("publish", {"topic": topic, "method": method, "message": objects})


def error_frame(error: FrontdeskError, topic: str | None = None) -> str:
    payload = error.to_json()
    del payload["success"]
    if topic is not None:
        payload["topic"] = topic
    return _frame("error", payload)


def authenticated_frame(user: dict[str, Any]) -> str:
    return _frame("authenticated", {"user": user})


def subscribed_frame(topic: str, *, replayed: int, complete: bool) -> str:
    return _frame("subscribed", {"topic": topic, "replayed": replayed, "complete": complete})


def unsubscribed_frame(topic: str) -> str:
    return _frame("unsubscribed", {"topic": topic})


def heartbeat_frame(text: Literal["ping", "pong"]) -> str:
    return _frame("heartbeat", {"message": {"text": text}})


def ephemeral_frame(action: str, topic: str, body: dict[str, Any]) -> str:
    return _frame(action, {"topic": topic, **body})
