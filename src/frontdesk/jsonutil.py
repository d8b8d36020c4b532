"""JSON in and out: orjson, with the limits every stored document obeys."""

from __future__ import annotations

from typing import Any

import orjson

from frontdesk.errors import BadRequest, ValidationFailed

# Deeper documents are refused before validation: storing them would hit orjson's own
# recursion limit (a 500), and no client of this API nests anywhere near this.
MAX_BODY_DEPTH = 32


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def dumpb(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(raw: str | bytes | None, default: Any = None) -> Any:
    if raw is None:
        return default
    return orjson.loads(raw)


def parse_body(raw: bytes) -> Any:
    """The JSON document in a request body.

    Raises BadRequest(malformed_json) when it is not one, ValidationFailed(too_deep) past
    ``MAX_BODY_DEPTH`` levels and ValidationFailed(nul_character) for a NUL in any string:
    PostgreSQL text cannot hold one.
    """
    if not raw.strip():
        return {}
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="malformed_json") from None
    _check_document(document)
    return document


def json_depth(value: Any) -> int:
    """Nesting depth of a JSON value: 0 for a scalar, 1 for a flat object or array."""
    depth, level = 0, [value]
    while level:
        containers = [v for v in level if isinstance(v, dict | list)]
        if not containers:
            return depth
        depth += 1
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
    return depth


def _check_document(document: Any) -> None:
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ValidationFailed(
                    "strings may not contain the NUL character", code="nul_character"
                )
        elif isinstance(value, dict | list):
            if depth >= MAX_BODY_DEPTH:
                raise ValidationFailed(
                    f"JSON bodies may nest at most {MAX_BODY_DEPTH} levels", code="too_deep"
                )
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
