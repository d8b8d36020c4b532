"""Verification keys of customer tokens, as admins see them (never a secret)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.auth.customer_tokens import ALGORITHMS_BY_KIND
from frontdesk.clock import iso
from frontdesk.models import closed
from frontdesk.storage.keys import KeyRecord

KeyState = Literal["active", "grace", "retired"]


@closed
class KeyPublic(TypedDict):
    """A key without its secret (a public key's PEM is public)."""

    kid: Annotated[str, Field(description="Key id, the kid header of tokens it verifies")]
    kind: Annotated[str, Field(description="shared (HMAC), rsa, ec or jwks")]
    label: Annotated[str, Field(description="The admin's note on what it is for")]
    algorithms: Annotated[list[str], Field(description="Algorithms it verifies")]
    state: Annotated[
        KeyState, Field(description="active; grace: retired, verifies until verifyUntil")
    ]
    publicKey: Annotated[str | None, Field(description="PEM of a public key")]
    jwksUrl: Annotated[str | None, Field(description="Where a JWKS key set is fetched")]
    createdAt: Annotated[str, Field(description="ISO 8601 UTC")]
    retiredAt: Annotated[str | None, Field(description="ISO 8601 UTC")]
    verifyUntil: Annotated[str | None, Field(description="ISO 8601 UTC, end of its grace")]


def present_key(row: KeyRecord, now: int) -> KeyPublic:
    if row["retired_at"] is None:
        state: KeyState = "active"
    elif row["verify_until"] is not None and row["verify_until"] > now:
        state = "grace"
    else:
        state = "retired"
    return {
        "kid": row["kid"],
        "kind": row["kind"],
        "label": row["label"],
        "algorithms": list(ALGORITHMS_BY_KIND.get(row["kind"], ("RS256", "ES256"))),
        "state": state,
        "publicKey": row["public_key"],
        "jwksUrl": row["jwks_url"],
        "createdAt": iso(row["created_at"]),
        "retiredAt": iso(row["retired_at"]),
        "verifyUntil": iso(row["verify_until"]),
    }
