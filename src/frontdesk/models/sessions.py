"""Sessions of a visitor, as admins see them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import AlwaysTrue, closed
from frontdesk.storage.sessions import SessionRecord


@closed
class SessionPublic(TypedDict):
    jti: Annotated[str, Field(description="Session id")]
    kind: Annotated[str, Field(description="guest (anonymous) or userexternal (token)")]
    isAuthenticated: Annotated[bool, Field(description="Signed in with a customer token")]
    signInProvider: Annotated[str | None, Field(description="From the customer token")]
    kid: Annotated[str | None, Field(description="Key that verified the customer token")]
    issuedAt: Annotated[str, Field(description="ISO 8601 UTC")]
    expiresAt: Annotated[str, Field(description="ISO 8601 UTC")]


@closed
class SessionsRevokedPublic(TypedDict):
    success: AlwaysTrue
    revoked: Annotated[list[str], Field(description="The session ids ended")]


def present_session(row: SessionRecord) -> SessionPublic:
    auth_info = row["auth_info"] or {}
    return {
        "jti": row["jti"],
        "kind": row["kind"],
        "isAuthenticated": row["kind"] == "userexternal",
        "signInProvider": auth_info.get("authVar", {}).get("sign_in_provider"),
        "kid": auth_info.get("kid"),
        "issuedAt": iso(row["issued_at"]),
        "expiresAt": iso(row["expires_at"]),
    }
