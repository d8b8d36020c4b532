"""Leads (contacts) as agents see them, and as their own visitor sees them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import (
    AlwaysTrue,
    CappedCount,
    CountCapped,
    ProjectRef,
    SameAsId,
    Time,
    closed,
)
from frontdesk.storage.leads import LeadRecord

_CONTACT = "As the visitor, its token or an agent last gave it"
_SHOWN = "As the visitor or its token gave it; null when an agent typed it"


class _LeadShown(TypedDict):
    """The fields both views of a contact show, with the same meaning."""

    _id: Annotated[str, Field(description="Lead id (24 hex)")]
    id: SameAsId
    lead_id: Annotated[str, Field(description="The visitor id it belongs to")]
    id_project: ProjectRef
    isAuthenticated: Annotated[bool, Field(description="Signed in with a customer token")]
    createdAt: Time
    updatedAt: Time


@closed
class LeadPublic(_LeadShown):
    """A contact: one per visitor of a project."""

    fullname: Annotated[str | None, Field(description=_CONTACT)]
    email: Annotated[str | None, Field(description=_CONTACT)]
    phone: Annotated[str | None, Field(description=_CONTACT)]
    attributes: Annotated[
        dict[str, Any], Field(description="Free-form JSON; senderAuthInfo: how it signed in")
    ]
    tags: Annotated[list[str], Field(description="Agents' tags")]
    provenance: Annotated[
        dict[str, Any], Field(description="Per contact field: who gave its value (source)")
    ]


@closed
class LeadVisitorPublic(_LeadShown):
    """A contact as its own visitor sees it: what it or its token gave, no agent's note."""

    fullname: Annotated[str | None, Field(description=_SHOWN)]
    email: Annotated[str | None, Field(description=_SHOWN)]
    phone: Annotated[str | None, Field(description=_SHOWN)]
    provenance: Annotated[
        dict[str, Any], Field(description="Who gave each value shown (source)")
    ]
    attributes: Annotated[dict[str, Any], Field(description="Its own senderAuthInfo only")]


@closed
class LeadsPublic(TypedDict):
    """A page of contacts, most recently active first."""

    perPage: Annotated[int, Field(description="The page size served")]
    count: CappedCount
    countCapped: CountCapped
    leads: Annotated[list[LeadPublic], Field(description="The page")]


@closed
class ErasedPublic(TypedDict):
    lead: Annotated[str, Field(description="The lead erased")]
    requests: Annotated[int, Field(description="How many conversations were erased with it")]


@closed
class ErasurePublic(TypedDict):
    success: AlwaysTrue
    erased: Annotated[ErasedPublic, Field(description="What was erased")]


def present_lead(row: LeadRecord) -> LeadPublic:
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


# Allow-lists, field by field (docs/security.md): a visitor reads itself, never what agents
# noted about it (tags, attributes, edited contact fields).
OWN_ATTRIBUTES = ("senderAuthInfo",)  # how the visitor itself signed in


def _unless_agent_typed(provenance: dict[str, Any], field: str, value: str | None) -> str | None:
    return None if provenance.get(field, {}).get("source") == "agent" else value


def visitor_view_of_lead(body: LeadPublic) -> LeadVisitorPublic:
    """A contact (from ``present_lead``) as its own visitor may see it.

    Name, email and phone as the visitor or its token gave them; a value an agent typed is
    the agent's note and left out (None). Attributes: its own senderAuthInfo only. No tags.
    """
    provenance = body["provenance"]
    return {
        "_id": body["_id"],
        "id": body["id"],
        "lead_id": body["lead_id"],
        "id_project": body["id_project"],
        "isAuthenticated": body["isAuthenticated"],
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "fullname": _unless_agent_typed(provenance, "fullname", body["fullname"]),
        "email": _unless_agent_typed(provenance, "email", body["email"]),
        "phone": _unless_agent_typed(provenance, "phone", body["phone"]),
        "provenance": {
            f: provenance[f]
            for f in ("fullname", "email", "phone")
            if f in provenance and provenance[f].get("source") != "agent"
        },
        "attributes": {k: v for k, v in body["attributes"].items() if k in OWN_ATTRIBUTES},
    }
