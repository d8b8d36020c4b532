"""Rows as the JSON Tiledesk clients expect. Used by the API and by realtime events alike."""

from __future__ import annotations

from typing import Any

from frontdesk.auth.principals import AGENT_ROLES, Agent, Principal
from frontdesk.clock import iso
from frontdesk.storage.database import Row


def present_user(row: Row) -> dict[str, Any]:
    return {
        "_id": row["id"],
        "id": row["id"],
        "email": row["email"],
        "firstname": row["firstname"],
        "lastname": row["lastname"],
        "fullName": f"{row['firstname']} {row['lastname']}".strip(),
        "createdAt": iso(row["created_at"]),
    }


def present_project(row: Row, *, role: str | None = None) -> dict[str, Any]:
    settings = row["settings"]
    body: dict[str, Any] = {
        "_id": row["id"],
        "id": row["id"],
        "name": row["name"],
        "createdBy": row["created_by"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "activeOperatingHours": bool(settings.get("active_operating_hours", False)),
        "operatingHours": settings.get("operating_hours", {}),
        "settings": settings,
        "widget": settings.get("widget", {}),
    }
    if role is not None:
        body["role"] = role
    return body


def present_project_user(row: Row, user: Row | None = None) -> dict[str, Any]:
    """A membership. Agents carry ``id_user`` (their account), visitors ``uuid_user``."""
    is_agent = row["role"] in AGENT_ROLES
    body: dict[str, Any] = {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "role": row["role"],
        "isAuthenticated": row["role"] != "guest",
        "user_available": bool(row["user_available"]),
        "attributes": row["attributes"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }
    if is_agent:
        if user is None and "user_email" in row:
            user = {
                "id": row["user_id"],
                "email": row["user_email"],
                "firstname": row["user_firstname"],
                "lastname": row["user_lastname"],
                "created_at": row["created_at"],
            }
        body["id_user"] = present_user(user) if user is not None else row["user_id"]
        body["max_assigned_chat"] = row.get("max_assigned_chat")
    else:
        profile = row["profile"]
        body["uuid_user"] = row["user_id"]
        body["firstname"] = profile.get("firstname", "")
        body["lastname"] = profile.get("lastname", "")
        body["email"] = profile.get("email")
    return body


def present_department(row: Row) -> dict[str, Any]:
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "name": row["name"],
        "default": bool(row["is_default"]),
        "routing": row["routing"],
        "agents": row["agents"],
        "status": 1,
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


def present_lead(row: Row) -> dict[str, Any]:
    return {
        "_id": row["id"],
        "id": row["id"],
        "lead_id": row["lead_id"],
        "id_project": row["project_id"],
        "fullname": row["fullname"],
        "email": row["email"],
        "phone": row["phone"],
        "attributes": row["attributes"],
        "tags": row["tags"],
        "isAuthenticated": bool(row["is_authenticated"]),
        "provenance": row["provenance"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


def present_request(row: Row) -> dict[str, Any]:
    """A request joined with its requester and lead (see storage.requests)."""
    requester = present_project_user(
        {
            "id": row["requester_id"],
            "project_id": row["project_id"],
            "user_id": row["requester_user_id"],
            "role": row["requester_role"],
            "user_available": 1,
            "attributes": row["requester_attributes"],
            "profile": row["requester_profile"],
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
    }


def present_message(row: Row) -> dict[str, Any]:
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


# ---- what a visitor sees ------------------------------------------------------------------
# Allow-lists, field by field (docs/security.md): a visitor reads its own conversation and
# itself, never what agents noted about it (tags, attributes, edited contact fields).

VISITOR_REQUEST_FIELDS = frozenset({
    "_id", "id", "request_id", "id_project", "requester", "requester_id", "first_text",
    "last_text", "status", "participants", "participantsAgents", "participantsBots", "hasBot",
    "department", "departmentid", "isAuthenticated", "channel", "sourcePage", "language",
    "userAgent", "rating", "rating_message", "closed_at", "closed_by", "createdAt", "updatedAt",
})
VISITOR_LEAD_FIELDS = frozenset({
    "_id", "id", "lead_id", "id_project", "isAuthenticated", "createdAt", "updatedAt",
})
_CONTACT_FIELDS = ("fullname", "email", "phone")
_OWN_ATTRIBUTES = ("senderAuthInfo",)  # how the visitor itself signed in


def visitor_view_of_request(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (from ``present_request``) as its visitor may see it.

    Attributes: only those the visitor wrote (``visitorAttributeKeys``) and its own
    senderAuthInfo. No tags. The lead as ``visitor_view_of_lead`` shows it.
    """
    view = {k: v for k, v in body.items() if k in VISITOR_REQUEST_FIELDS}
    # An event from a process that predates the list shows no attribute but senderAuthInfo.
    own = {*body.get("visitorAttributeKeys", ()), *_OWN_ATTRIBUTES}
    view["attributes"] = {k: v for k, v in body["attributes"].items() if k in own}
    lead = visitor_view_of_lead(body["lead"]) if body["lead"] is not None else None
    view["lead"] = lead
    view["snapshot"] = {"requester": body["requester"], "lead": lead}
    return view


def visitor_view_of_lead(body: dict[str, Any]) -> dict[str, Any]:
    """A contact (from ``present_lead``) as its own visitor may see it.

    Name, email and phone as the visitor or its token gave them; a value an agent typed is
    the agent's note and left out (None). Attributes: its own senderAuthInfo only. No tags.
    """
    view = {k: v for k, v in body.items() if k in VISITOR_LEAD_FIELDS}
    provenance = body["provenance"]
    shown = [f for f in _CONTACT_FIELDS if provenance.get(f, {}).get("source") != "agent"]
    for field in _CONTACT_FIELDS:
        view[field] = body[field] if field in shown else None
    view["provenance"] = {f: provenance[f] for f in shown if f in provenance}
    view["attributes"] = {k: v for k, v in body["attributes"].items() if k in _OWN_ATTRIBUTES}
    return view


def request_view_for(principal: Principal | None, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as ``principal`` may see it: all of it for agents, else the visitor's view."""
    return body if isinstance(principal, Agent) else visitor_view_of_request(body)
