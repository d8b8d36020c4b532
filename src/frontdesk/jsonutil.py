"""JSON in and out: orjson, with the limits every stored document obeys."""

from __future__ import annotations

from typing import Any

import orjson

from frontdesk.errors import BadRequest


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def dumpb(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(raw: str | bytes | None, default: Any = None) -> Any:
    if raw is None:
        return default
    return orjson.loads(raw)


def parse_body(raw: bytes) -> Any:
    """The JSON document in a request body; BadRequest(malformed_json) when it is not one."""
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="malformed_json") from None
