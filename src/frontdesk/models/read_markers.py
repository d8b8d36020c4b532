"""An agent's read marker in a conversation, as its own browsers hear of it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.models import Time, closed


@closed
class ReadMarkerPublic(TypedDict):
    """How far the calling agent has read a conversation, and what is left unread."""

    request_id: Annotated[str, Field(description="The conversation")]
    message_id: Annotated[str | None, Field(description="The last message read; null: none")]
    readAt: Annotated[Time | None, Field(description="When the marker last moved")]
    unread: Annotated[int, Field(description="The visitor's messages after the marker")]
