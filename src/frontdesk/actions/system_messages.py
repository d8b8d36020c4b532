"""Lines from frontdesk itself in a conversation: off hours, a verification asked or done.

Both sides see them (``senderKind: "system"``); ``attributes.subtype`` says which:

    off_hours               the conversation opened outside opening hours
    verification_required   its department needs a higher tier than the visitor's
    verification_requested  an agent asked the visitor to verify (``tier``)
    identity_verified       the visitor proved an e-mail or signed in (``tier``)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from frontdesk.models.messages import MessagePublic, present_message
from frontdesk.realtime.events import MessageCreated
from frontdesk.services import Services
from frontdesk.storage import messages
from frontdesk.storage.database import Transaction
from frontdesk.storage.messages import MessageRecord
from frontdesk.storage.requests import RequestRecord

SYSTEM_SENDER = "system"
SENT = 150
Subtype = Literal[
    "off_hours", "verification_required", "verification_requested", "identity_verified"
]


async def do_post_system_message(
    services: Services,
    tx: Transaction,
    row: RequestRecord,
    subtype: Subtype,
    text: str,
    **attributes: Any,
) -> MessagePublic:
    """Store the line within ``tx`` and announce it after the commit."""
    message: MessageRecord = {
        "id": services.ids.object_id(),
        "project_id": row["project_id"],
        "request_id": row["request_id"],
        "sender": SYSTEM_SENDER,
        "sender_kind": "system",
        "sender_fullname": "frontdesk",
        "text": text,
        "type": "text",
        "attributes": {"subtype": subtype, **attributes},
        "metadata": None,
        "status": SENT,
        "created_at": services.now_ms(),
    }
    await messages.insert_message(tx, message)
    return announce_message(services, tx, row, message)


def announce_message(
    services: Services, tx: Transaction, row: Mapping[str, object], message: MessageRecord
) -> MessagePublic:
    """``message`` of conversation ``row`` (a ``RequestRecord``, or its row as stored: its
    ids are read) as clients see it, told to the sockets once ``tx`` commits."""
    body = present_message(message)
    services.publish_on_commit(
        tx,
        MessageCreated.model_construct(
            project_id=row["project_id"],
            request_id=row["request_id"],
            requester_user_id=row["requester_user_id"],
            message=body,
        ),
    )
    return body
