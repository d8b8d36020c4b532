"""Private notes: what agents write on a conversation for each other, never for its visitor."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import Time, closed
from frontdesk.storage.requests import NoteRecord


@closed
class NotePublic(TypedDict):
    """A private note on a conversation (Tiledesk's shape: _id, text, createdBy, createdAt)."""

    _id: Annotated[str, Field(description="Note id (24 hex)")]
    text: Annotated[str, Field(description="What the agent wrote")]
    createdBy: Annotated[str, Field(description="Account id of its author")]
    createdAt: Time
    mentions: Annotated[list[str], Field(
        description="Account ids of the agents its @names notified"
    )]


def present_note(stored: NoteRecord) -> NotePublic:
    return {
        "_id": stored["id"],
        "text": stored["text"],
        "createdBy": stored["created_by"],
        "createdAt": iso(stored["created_at"]),
        "mentions": stored["mentions"],
    }
