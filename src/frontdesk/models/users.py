"""Agent accounts as the API shows them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import AlwaysTrue, SameAsId, Time, closed
from frontdesk.storage.users import UserProfileRecord


@closed
class UserPublic(TypedDict):
    """An agent account (never its password hash)."""

    _id: Annotated[str, Field(description="Account id (24 hex)")]
    id: SameAsId
    email: Annotated[str, Field(description="Sign-in address")]
    firstname: Annotated[str, Field(description="First name, may be empty")]
    lastname: Annotated[str, Field(description="Last name, may be empty")]
    fullName: Annotated[str, Field(description="First and last name, trimmed")]
    createdAt: Time


@closed
class SignupPublic(TypedDict):
    success: AlwaysTrue
    user: Annotated[
        UserPublic, Field(description="The account (a new id even when the email had one)")
    ]


@closed
class SigninPublic(TypedDict):
    success: AlwaysTrue
    token: Annotated[str, Field(description="Session token: send it as Authorization: JWT <token>")]
    user: Annotated[UserPublic, Field(description="The agent's account")]


def present_user(row: UserProfileRecord) -> UserPublic:
    return {
        "_id": row["id"],
        "id": row["id"],
        "email": row["email"],
        "firstname": row["firstname"],
        "lastname": row["lastname"],
        "fullName": f"{row['firstname']} {row['lastname']}".strip(),
        "createdAt": iso(row["created_at"]),
    }
