"""Rows as the JSON Tiledesk clients expect. Used by the API and by realtime events alike."""

from __future__ import annotations

from typing import Any

from frontdesk.auth.principals import AGENT_ROLES
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
