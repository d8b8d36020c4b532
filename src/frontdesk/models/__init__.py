"""The public (wire) shape of every entity, next to the function that builds it.

Each shape is a ``TypedDict`` closed with ``extra="forbid"``: the presenters build plain dicts
(no validation, no objects on hot paths) and mypy proves they build exactly the declared keys.
The OpenAPI document and the test suite read the same shapes through ``TypeAdapter``: every
answer and every realtime event is validated against them when ``check_responses`` is on, so a
field the server sends and does not declare fails a test.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, with_config

closed = with_config(ConfigDict(extra="forbid"))

# Fields many shapes share, described once.
ProjectRef = Annotated[str, Field(description="Id of its project (24 hex)")]
SameAsId = Annotated[str, Field(description="Same as _id")]
Time = Annotated[str, Field(description="ISO 8601 UTC, to the millisecond")]
Attributes = Annotated[dict[str, Any], Field(description="Free-form JSON object")]
AlwaysTrue = Annotated[Literal[True], Field(description="Always true")]
# A list's count, bounded by the server's count cap (FRONTDESK_LIST_COUNT_CAP).
CappedCount = Annotated[
    int,
    Field(
        description="How many match, over every page; when countCapped, at least this many"
        " (the server's count cap)"
    ),
]
CountCapped = Annotated[
    bool,
    Field(description="More match than the server counts: count is its cap, not the total"),
]


def capped_count(total: int, cap: int) -> tuple[int, bool]:
    """``count`` and ``countCapped`` of a list whose storage counted ``total`` with ``cap``
    (0: no cap; a total of ``cap + 1`` means "more than ``cap``")."""
    if not cap:
        return total, False
    return min(total, cap), total > cap
