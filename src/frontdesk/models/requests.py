"""Requests (conversations) as agents see them, and as their visitor sees them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.auth.principals import Agent, Principal
from frontdesk.auth.tiers import EMAIL_CODE_SOURCE, tier_of_auth_info
from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, Time, closed
from frontdesk.models.leads import (
    OWN_ATTRIBUTES,
    LeadPublic,
    LeadVisitorPublic,
    present_lead,
    visitor_view_of_lead,
)
from frontdesk.models.notes import NotePublic, present_note
from frontdesk.models.project_users import ProjectUserPublic, present_project_user
from frontdesk.storage.requests import InboxRecord, RequestRecord


@closed
class ChannelPublic(TypedDict):
    name: Annotated[str, Field(description="chat21 unless the first message named another")]


_REQUESTER = Field(description="The visitor's membership in the project")


@closed
class VerificationRequestPublic(TypedDict):
    """An agent asked the visitor to prove its identity (``POST …/verification_requests``)."""

    _id: Annotated[str, Field(description="Its id (24 hex)")]
    tier: Annotated[str, Field(description="The tier asked for: email_verified or authenticated")]
    status: Annotated[str, Field(description="pending, or verified once the visitor reached it")]
    requestedBy: Annotated[str, Field(description="Account id of the agent who asked")]
    requestedAt: Annotated[str, Field(description="ISO 8601 UTC")]
    verifiedAt: Annotated[str | None, Field(description="ISO 8601 UTC, or null while pending")]


@closed
class RequestSnapshotPublic(TypedDict):
    """Tiledesk's copy of who the conversation is with."""

    requester: Annotated[ProjectUserPublic, _REQUESTER]
    lead: Annotated[LeadPublic | None, Field(description="The visitor's contact")]


@closed
class RequestVisitorSnapshotPublic(TypedDict):
    """Who the conversation is with, as its visitor sees it."""

    requester: Annotated[ProjectUserPublic, _REQUESTER]
    lead: Annotated[LeadVisitorPublic | None, Field(description="The visitor's own contact")]


@closed
class LastMessagePublic(TypedDict):
    """Who wrote a conversation's newest message, so a request event tells a visitor's
    message from an agent's."""

    _id: Annotated[str, Field(description="The message's id")]
    senderKind: Annotated[Literal["visitor", "agent"], Field(description="Who wrote it")]
    createdAt: Time


class _RequestShown(TypedDict):
    """The fields both views of a conversation show, with the same meaning."""

    _id: Annotated[str, Field(description="Stored id (24 hex)")]
    id: SameAsId
    request_id: Annotated[str, Field(description="support-group-<project id>-<32 hex>")]
    id_project: ProjectRef
    requester: Annotated[ProjectUserPublic, _REQUESTER]
    requester_id: Annotated[str, Field(description="The requester's visitor id")]
    first_text: Annotated[str, Field(description="The text of its first message")]
    last_text: Annotated[str, Field(description="The text of its latest message")]
    status: Annotated[int, Field(
        description="100 unassigned, 150 abandoned, 200 assigned, 300 parked, 1000 closed"
    )]
    participants: Annotated[list[str], Field(description="Account ids of its agents")]
    participantsAgents: Annotated[list[str], Field(description="Same as participants")]
    participantsBots: Annotated[list[str], Field(description="Always empty: no bots")]
    hasBot: Annotated[bool, Field(description="Always false: no bots")]
    department: Annotated[str | None, Field(description="Its department's id")]
    departmentid: Annotated[str | None, Field(description="Same as department")]
    isAuthenticated: Annotated[bool, Field(description="Its visitor signed in with a token")]
    channel: Annotated[ChannelPublic, Field(description="Where the conversation came from")]
    sourcePage: Annotated[str | None, Field(description="Page the first message was sent from")]
    language: Annotated[str | None, Field(description="The visitor's language, as sent")]
    userAgent: Annotated[str | None, Field(description="The visitor's browser, as sent")]
    rating: Annotated[int | None, Field(description="0 to 5, given by the visitor")]
    rating_message: Annotated[
        str | None, Field(description="The visitor's words with its rating")
    ]
    closed_at: Annotated[str | None, Field(description="ISO 8601 UTC; null while open")]
    closed_by: Annotated[str | None, Field(description="Who closed it")]
    createdAt: Time
    updatedAt: Time
    tier: Annotated[str, Field(
        description="How far its visitor's identity is proven: anonymous, email_verified"
        " (an e-mail code) or authenticated (a host-signed token)"
    )]
    heldForTier: Annotated[str | None, Field(
        description="The tier its department requires while the visitor is below it (the"
        " conversation is kept from agents until then), else null"
    )]
    verificationRequest: Annotated[VerificationRequestPublic | None, Field(
        description="An agent's latest request that the visitor verify, or null"
    )]


class RequestCorePublic(_RequestShown):
    """A conversation as agents see it, but for their private notes: what a contact's export
    (made for the visitor) carries."""

    lead: Annotated[LeadPublic | None, Field(description="The visitor's contact")]
    attributes: Annotated[dict[str, Any], Field(
        description="Free-form JSON written by the visitor and agents; senderAuthInfo: how "
        "the visitor signed in"
    )]
    visitorAttributeKeys: Annotated[
        list[str], Field(description="Attribute keys whose value the visitor wrote")
    ]
    tags: Annotated[list[Any], Field(description="Agents' tags: names or {tag, color}")]
    snapshot: Annotated[RequestSnapshotPublic, Field(description="Requester and lead again")]
    lastMessage: Annotated[
        LastMessagePublic | None, Field(description="Its newest message; null before any")
    ]
    unread: NotRequired[Annotated[int, Field(
        description="Lists: the visitor's messages the calling agent has not read"
    )]]


@closed
class RequestPublic(RequestCorePublic):
    """A conversation, its requester (the visitor's membership) and its lead (contact)."""

    notes: Annotated[list[NotePublic], Field(
        description="Agents' private notes, oldest first (never shown to the visitor)"
    )]


@closed
class RequestVisitorPublic(_RequestShown):
    """A conversation as its visitor sees it: no tags, and of the attributes only those the
    visitor wrote and its own senderAuthInfo."""

    lead: Annotated[LeadVisitorPublic | None, Field(description="The visitor's own contact")]
    attributes: Annotated[dict[str, Any], Field(
        description="The attributes the visitor wrote, and its own senderAuthInfo"
    )]
    snapshot: Annotated[
        RequestVisitorSnapshotPublic, Field(description="Requester and lead again")
    ]


RequestSeenPublic = RequestPublic | RequestVisitorPublic


def present_request(row: RequestRecord) -> RequestPublic:
    """A request joined with its requester and lead (see storage.requests)."""
    return {**present_request_core(row), "notes": [present_note(n) for n in row["notes"]]}


def present_request_core(row: RequestRecord) -> RequestCorePublic:
    """``present_request`` without the agents' private notes."""
    requester = present_project_user(
        {
            "id": row["requester_id"],
            "project_id": row["project_id"],
            "user_id": row["requester_user_id"],
            "role": row["requester_role"],
            "user_available": 1,
            "max_assigned_chat": None,
            "presence_away": 0,
            "notifications": {},
            "attributes": row["requester_attributes"],
            "profile": row["requester_profile"],
            "invited_by": None,
            "created_at": row["requester_created_at"],
            "updated_at": row["requester_created_at"],
        }
    )
    lead = present_lead(row["lead"]) if row["lead"] is not None else None
    participants = row["participants"]
    body: RequestCorePublic = {
        "_id": row["id"],
        "id": row["id"],
        "request_id": row["request_id"],
        "id_project": row["project_id"],
        "requester": requester,
        "requester_id": row["requester_user_id"],
        "lead": lead,
        "first_text": row["first_text"],
        "last_text": row["last_text"],
        "status": row["status"],
        "participants": participants,
        "participantsAgents": participants,
        "participantsBots": [],
        "hasBot": False,
        "department": row["department_id"],
        "departmentid": row["department_id"],
        "attributes": row["attributes"],
        "visitorAttributeKeys": row["visitor_attribute_keys"],
        "tags": row["tags"],
        "isAuthenticated": bool(row["is_authenticated"]),
        "channel": {"name": row["channel"]},
        "sourcePage": row["source_page"],
        "language": row["language"],
        "userAgent": row["user_agent"],
        "rating": row["rating"],
        "rating_message": row["rating_message"],
        "closed_at": iso(row["closed_at"]),
        "closed_by": row["closed_by"],
        "snapshot": {"requester": requester, "lead": lead},
        "lastMessage": _last_message(row),
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "tier": tier_of_auth_info(row["attributes"].get("senderAuthInfo")),
        "heldForTier": row["held_tier"],
        "verificationRequest": row["attributes"].get("verificationRequest"),
    }
    if "unread" in row:
        body["unread"] = int(row["unread"])
    return body


def present_request_after_message(
    body: RequestPublic, changes: Mapping[str, Any], updated_at: int
) -> RequestPublic:
    """What ``present_request`` gives for a request presented as ``body`` once a message
    changed its columns ``changes`` (``last_text``, ``last_message_*``, ``last_sender_kind``,
    maybe ``visitor_messages``) at ``updated_at``, without presenting the rest again: the
    other fields of ``body`` are shared with the new one, which nobody changes."""
    return {
        **body,
        "last_text": changes["last_text"],
        "lastMessage": _last_message(changes),
        "updatedAt": iso(updated_at),
    }


def _last_message(row: Mapping[str, Any]) -> LastMessagePublic | None:
    if row["last_message_id"] is None or row["last_message_at"] is None:
        return None
    return {
        "_id": row["last_message_id"],
        "senderKind": "agent" if row["last_sender_kind"] == "agent" else "visitor",
        "createdAt": iso(row["last_message_at"]),
    }


@closed
class InboxRequesterPublic(TypedDict):
    """The requester as the agents' list shows it."""

    uuid_user: Annotated[str, Field(description="The visitor's id")]
    firstname: Annotated[str, Field(description="From the visitor's profile")]
    lastname: Annotated[str, Field(description="From the visitor's profile")]
    isAuthenticated: Annotated[bool, Field(description="Signed in with a host token")]


@closed
class InboxLeadPublic(TypedDict):
    """The contact as the agents' list shows it."""

    _id: Annotated[str, Field(description="Stored id (24 hex)")]
    lead_id: Annotated[str, Field(description="The visitor id it belongs to")]
    fullname: Annotated[str | None, Field(description="Its name")]
    email: Annotated[str | None, Field(description="Its e-mail address")]


@closed
class EmailProofPublic(TypedDict):
    """An e-mail address the visitor proved with a one-time code."""

    email: Annotated[str | None, Field(description="The address proven")]
    at: Annotated[str | None, Field(description="ISO 8601 UTC, when")]


@closed
class RequestInboxPublic(TypedDict):
    """A conversation as the agents' list draws it (``view=inbox``): the fields of the full
    shape it shows, with the same names and meaning, and nothing else."""

    _id: Annotated[str, Field(description="Stored id (24 hex)")]
    request_id: Annotated[str, Field(description="support-group-<project id>-<32 hex>")]
    status: Annotated[int, Field(description="As in the full shape")]
    first_text: Annotated[str, Field(description="The text of its first message")]
    last_text: Annotated[str, Field(description="The text of its latest message")]
    tags: Annotated[list[Any], Field(description="Agents' tags: names or {tag, color}")]
    isAuthenticated: Annotated[bool, Field(description="Its visitor signed in with a token")]
    tier: Annotated[str, Field(description="anonymous, email_verified or authenticated")]
    emailProof: Annotated[EmailProofPublic | None, Field(
        description="With tier email_verified: the address proven and when (from the contact,"
        " else from senderAuthInfo.emailVerified); otherwise null"
    )]
    requester: Annotated[InboxRequesterPublic, _REQUESTER]
    lead: Annotated[InboxLeadPublic | None, Field(description="The visitor's contact")]
    createdAt: Time
    updatedAt: Time
    unread: NotRequired[Annotated[int, Field(
        description="The visitor's messages the calling agent has not read"
    )]]


def present_inbox_row(row: InboxRecord) -> RequestInboxPublic:
    """A row of ``storage.requests.list_requests(inbox=True)`` as the agents' list shows it."""
    tier = row["tier"]
    lead: InboxLeadPublic | None = None
    if row["lead_ref"] is not None and row["lead_id"] is not None:
        lead = {"_id": row["lead_ref"], "lead_id": row["lead_id"],
                "fullname": row["lead_fullname"], "email": row["lead_email"]}
    profile = row["requester_profile"]
    body: RequestInboxPublic = {
        "_id": row["id"],
        "request_id": row["request_id"],
        "status": row["status"],
        "first_text": row["first_text"],
        "last_text": row["last_text"],
        "tags": row["tags"],
        "isAuthenticated": bool(row["is_authenticated"]),
        "tier": tier,
        "emailProof": _email_proof(row) if tier == "email_verified" else None,
        "requester": {
            "uuid_user": row["requester_user_id"],
            "firstname": profile.get("firstname", ""),
            "lastname": profile.get("lastname", ""),
            "isAuthenticated": row["requester_role"] != "guest",
        },
        "lead": lead,
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }
    if "unread" in row:
        body["unread"] = int(row["unread"])
    return body


def _email_proof(row: InboxRecord) -> EmailProofPublic:
    """The contact's code-proven address, else the one senderAuthInfo records."""
    entry = (row["lead_provenance"] or {}).get("email") or {}
    if entry.get("source") == EMAIL_CODE_SOURCE and row["lead_email"]:
        return {"email": row["lead_email"], "at": entry.get("at")}
    verified = row["email_verified"] or {}
    return {"email": verified.get("email"), "at": verified.get("verifiedAt")}


def visitor_view_of_request(body: RequestPublic) -> RequestVisitorPublic:
    """``body`` (from ``present_request``) as its visitor may see it (docs/security.md).

    Attributes: only those the visitor wrote (``visitorAttributeKeys``) and its own
    senderAuthInfo. No tags. The lead as ``visitor_view_of_lead`` shows it.
    """
    own = {*body["visitorAttributeKeys"], *OWN_ATTRIBUTES}
    lead = visitor_view_of_lead(body["lead"]) if body["lead"] is not None else None
    return {
        "_id": body["_id"],
        "id": body["id"],
        "request_id": body["request_id"],
        "id_project": body["id_project"],
        "requester": body["requester"],
        "requester_id": body["requester_id"],
        "lead": lead,
        "first_text": body["first_text"],
        "last_text": body["last_text"],
        "status": body["status"],
        "participants": body["participants"],
        "participantsAgents": body["participantsAgents"],
        "participantsBots": body["participantsBots"],
        "hasBot": body["hasBot"],
        "department": body["department"],
        "departmentid": body["departmentid"],
        "attributes": {k: v for k, v in body["attributes"].items() if k in own},
        "isAuthenticated": body["isAuthenticated"],
        "channel": body["channel"],
        "sourcePage": body["sourcePage"],
        "language": body["language"],
        "userAgent": body["userAgent"],
        "rating": body["rating"],
        "rating_message": body["rating_message"],
        "closed_at": body["closed_at"],
        "closed_by": body["closed_by"],
        "snapshot": {"requester": body["requester"], "lead": lead},
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "tier": body["tier"],
        "heldForTier": body["heldForTier"],
        "verificationRequest": body["verificationRequest"],
    }


def request_view_for(principal: Principal | None, body: RequestPublic) -> RequestSeenPublic:
    """``body`` as ``principal`` may see it: all of it for agents, else the visitor's view."""
    return body if isinstance(principal, Agent) else visitor_view_of_request(body)
