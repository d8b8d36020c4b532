"""The route table refuses a declaration it could not enforce."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.api.routing import Call, Endpoint, Router


async def _handler(call: Call) -> dict[str, Any]:
    return {}


@pytest.mark.parametrize(
    ("path", "auth", "allowed", "min_role"),
    [
        ("/{pid}/things", "none", ("agent",), None),  # agents only, yet no credentials read
        ("/{pid}/things", "required", ("public",), None),  # public, yet credentials needed
        ("/{pid}/things", "none", ("public", "visitor"), None),  # public and someone else
        ("/things", "required", ("agent",), "admin"),  # a role, but in no project
        ("/{pid}/things", "required", ("visitor",), "admin"),  # a role for no agent
        ("/{pid}/things", "required", (), None),  # nobody
    ],
)
def test_a_declaration_the_table_cannot_enforce_is_refused(
    path: str, auth: Any, allowed: Any, min_role: Any
) -> None:
    with pytest.raises(ValueError):
        Endpoint("GET", path, _handler, summary="Things", tag="things", auth=auth,
                 allowed=allowed, min_role=min_role)


def test_the_router_derives_credentials_and_scope_from_who_may_call() -> None:
    router = Router("things")
    router.route("GET", "/{pid}/things", summary="Things", allowed=("public",))(_handler)
    router.route("GET", "/things", summary="Mine")(_handler)
    router.route("PUT", "/{pid}/things", summary="Change", min_role="admin")(_handler)
    public, mine, change = router.endpoints
    assert (public.auth, public.min_role) == ("none", None)
    assert (mine.auth, mine.min_role) == ("required", None)  # agents, in no project
    assert (change.auth, change.min_role) == ("required", "admin")
