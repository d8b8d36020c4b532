"""Memberships (Tiledesk's project_user): agents carry ``id_user``, visitors ``uuid_user``."""

from __future__ import annotations

from typing import Annotated, NotRequired, cast

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.auth.principals import AGENT_ROLES
from frontdesk.clock import iso
from frontdesk.models import Attributes, ProjectRef, SameAsId, Time, closed
from frontdesk.models.projects import WidgetAgentPublic
from frontdesk.models.users import UserPublic, present_user
from frontdesk.storage.project_users import AgentMemberRecord, ProjectUserRecord
from frontdesk.storage.users import UserProfileRecord


@closed
class ProjectUserPublic(TypedDict):
    """A member of a project: an agent (owner, admin, agent) or a visitor (guest, user)."""

    _id: Annotated[str, Field(description="Membership id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    role: Annotated[str, Field(description="owner, admin, agent; guest or user for visitors")]
    isAuthenticated: Annotated[bool, Field(description="False only for anonymous visitors")]
    user_available: Annotated[bool, Field(description="An agent taking conversations")]
    attributes: Attributes
    createdAt: Time
    updatedAt: Time
    id_user: NotRequired[
        Annotated[UserPublic | str, Field(description="Agents: the account (or its id)")]
    ]
    max_assigned_chat: NotRequired[
        Annotated[int | None, Field(description="Agents: most open conversations at once")]
    ]
    uuid_user: NotRequired[Annotated[str, Field(description="Visitors: the visitor id")]]
    firstname: NotRequired[Annotated[str, Field(description="Visitors: as they gave it")]]
    lastname: NotRequired[Annotated[str, Field(description="Visitors: as they gave it")]]
    email: NotRequired[Annotated[str | None, Field(description="Visitors: as they gave it")]]


@closed
class AvailableAgentPublic(WidgetAgentPublic):  # an agent the widget lists, with its full name
    fullName: Annotated[str, Field(description="First and last name, trimmed")]


def present_project_user(
    row: ProjectUserRecord, user: UserProfileRecord | None = None
) -> ProjectUserPublic:
    """``user``: the agent's account; without it, the account joined in ``row`` if any."""
    body: ProjectUserPublic = {
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
    if row["role"] in AGENT_ROLES:
        if user is None and "user_email" in row:
            joined = cast(AgentMemberRecord, row)
            user = {
                "id": joined["user_id"],
                "email": joined["user_email"],
                "firstname": joined["user_firstname"],
                "lastname": joined["user_lastname"],
                "created_at": joined["created_at"],
            }
        body["id_user"] = present_user(user) if user is not None else row["user_id"]
        body["max_assigned_chat"] = row["max_assigned_chat"]
    else:
        profile = row["profile"]
        body["uuid_user"] = row["user_id"]
        body["firstname"] = profile.get("firstname", "")
        body["lastname"] = profile.get("lastname", "")
        body["email"] = profile.get("email")
    return body
