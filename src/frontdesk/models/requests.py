"""Requests (conversations) as agents see them, and as their visitor sees them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.auth.principals import Agent, Principal
from frontdesk.auth.tiers import tier_of_auth_info
from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, Time, closed
from frontdesk.models.leads import (
    OWN_ATTRIBUTES,
    LeadPublic,
    LeadVisitorPublic,
    present_lead,
    visitor_view_of_lead,
)
from frontdesk.models.project_users import ProjectUserPublic, present_project_user
from frontdesk.storage.requests import RequestRecord


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


@closed
class RequestPublic(_RequestShown):
    """A conversation, its requester (the visitor's membership) and its lead (contact)."""

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
    requester = present_project_user(
        {
            "id": row["requester_id"],
            "project_id": row["project_id"],
            "user_id": row["requester_user_id"],
            "role": row["requester_role"],
            "user_available": 1,
            "max_assigned_chat": None,
            "attributes": row["requester_attributes"],
            "profile": row["requester_profile"],
            "invited_by": None,
            "created_at": row["requester_created_at"],
            "updated_at": row["requester_created_at"],
        }
    )
    lead = present_lead(row["lead"]) if row["lead"] is not None else None
    participants = row["participants"]
    return {
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
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "tier": tier_of_auth_info(row["attributes"].get("senderAuthInfo")),
        "heldForTier": row["held_tier"],
        "verificationRequest": row["attributes"].get("verificationRequest"),
    }


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
