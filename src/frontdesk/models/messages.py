"""Messages of a conversation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, Time, closed
from frontdesk.models.requests import RequestSeenPublic
from frontdesk.storage.messages import MessageRecord


@closed
class MessagePublic(TypedDict):
    _id: Annotated[str, Field(description="Message id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    recipient: Annotated[str, Field(description="The request_id of its conversation")]
    sender: Annotated[str, Field(description="Account id of an agent, or a visitor id")]
    senderKind: Annotated[
        Literal["visitor", "agent", "system"],
        Field(description="The side it is drawn on; system: a line from frontdesk itself"),
    ]
    senderFullname: Annotated[str, Field(description="The sender's name, as shown")]
    text: Annotated[str, Field(description="What was written")]
    type: Annotated[str, Field(description="text, image, file, frame or html")]
    attributes: Annotated[dict[str, Any], Field(description="The sender's JSON object")]
    metadata: Annotated[Any, Field(description="The sender's JSON object, or null")]
    status: Annotated[int, Field(description="150: sent")]
    channel_type: Annotated[Literal["group"], Field(description="Always group")]
    createdAt: Time
    updatedAt: Annotated[str, Field(description="Same as createdAt: messages do not change")]


@closed
class MessageSentPublic(MessagePublic):
    """A message just sent, with its conversation as the sender may see it."""

    request: Annotated[
        RequestSeenPublic, Field(description="Its conversation after it, as the sender may see it")
    ]


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
