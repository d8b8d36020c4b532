"""Messages of a conversation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import closed
from frontdesk.models.requests import RequestPublic, RequestVisitorPublic
from frontdesk.storage.messages import MessageRecord


@closed
class MessagePublic(TypedDict):
    _id: Annotated[str, Field(description="Message id (24 hex)")]
    id: Annotated[str, Field(description="Same as _id")]
    id_project: str
    recipient: Annotated[str, Field(description="The request_id of its conversation")]
    sender: Annotated[str, Field(description="Account id of an agent, or a visitor id")]
    senderKind: Annotated[
        Literal["visitor", "agent"], Field(description="The side it is drawn on")
    ]
    senderFullname: str
    text: str
    type: Annotated[str, Field(description="text, image, file, frame or html")]
    attributes: dict[str, Any]
    metadata: Annotated[Any, Field(description="The sender's JSON object, or null")]
    status: Annotated[int, Field(description="150: sent")]
    channel_type: Annotated[Literal["group"], Field(description="Always group")]
    createdAt: Annotated[str, Field(description="ISO 8601 UTC")]
    updatedAt: Annotated[str, Field(description="Same as createdAt: messages do not change")]


@closed
class MessageSentPublic(MessagePublic):
    """A message just sent, with its conversation as the sender may see it."""

    request: RequestPublic | RequestVisitorPublic


def present_message(row: MessageRecord) -> MessagePublic:
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "recipient": row["request_id"],
        "sender": row["sender"],
        "senderKind": row["sender_kind"],
        "senderFullname": row["sender_fullname"],
        "text": row["text"],
        "type": row["type"],
        "attributes": row["attributes"],
        "metadata": row["metadata"],
        "status": row["status"],
        "channel_type": "group",
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["created_at"]),
    }
