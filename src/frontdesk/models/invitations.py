"""Invitations to a project's team, as admins see them (never their token)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import AlwaysTrue, ProjectRef, SameAsId, Time, closed
from frontdesk.models.project_users import ProjectUserPublic
from frontdesk.storage.invitations import InvitationRecord

InvitationStatus = Literal["pending", "expired", "unsent", "accepted", "withdrawn", "replaced"]


@closed
class InvitationPublic(TypedDict):
    _id: Annotated[str, Field(description="Invitation id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    email: Annotated[str, Field(description="The address invited")]
    role: Annotated[str, Field(description="The role it grants: owner, admin or agent")]
    status: Annotated[
        InvitationStatus, Field(description="unsent: from before tokens, invite again")
    ]
    invitedBy: Annotated[str, Field(description="Account id of the admin")]
    createdAt: Time
    expiresAt: Annotated[str, Field(description="ISO 8601 UTC: its link stops working then")]


@closed
class InvitePublic(TypedDict):
    """Tiledesk's invite answer, plus the invitation and, this once, its accept link."""

    success: AlwaysTrue
    pending: Annotated[bool, Field(description="Always true: it waits for its acceptance")]
    email: Annotated[str, Field(description="The address invited")]
    role: Annotated[str, Field(description="The role it grants")]
    invitation: Annotated[InvitationPublic, Field(description="The invitation as admins list it")]
    token: Annotated[str, Field(description="Its single-use token, shown this once")]
    acceptUrl: Annotated[str, Field(description="The link that accepts it, shown this once")]


@closed
class InvitationAcceptedPublic(TypedDict):
    success: AlwaysTrue
    id_project: Annotated[str, Field(description="The project joined")]
    role: Annotated[str, Field(description="The role granted")]
    project_user: Annotated[ProjectUserPublic, Field(description="The new membership")]


@closed
class InvitationWithdrawnPublic(TypedDict):
    success: AlwaysTrue
    invitation: Annotated[InvitationPublic, Field(description="The invitation, now withdrawn")]


def present_invitation(row: InvitationRecord, now: int) -> InvitationPublic:
    status: InvitationStatus = row["status"]
    if status == "pending" and row["token_hash"] is None:
        status = "unsent"  # carried over from before tokens: invite again to issue one
    elif status == "pending" and row["expires_at"] <= now:
        status = "expired"
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "email": row["email"],
        "role": row["role"],
        "status": status,
        "invitedBy": row["invited_by"],
        "createdAt": iso(row["created_at"]),
        "expiresAt": iso(row["expires_at"]),
    }
