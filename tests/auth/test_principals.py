"""Every kind of caller answers the same three questions: id, display name, authenticated."""

from __future__ import annotations

import pytest

from frontdesk.auth.principals import Agent, AnonymousVisitor, AuthenticatedVisitor, Principal


def _agent(firstname: str = "", lastname: str = "") -> Agent:
    return Agent(
        user_id="a1", email="ann@example.com", firstname=firstname, lastname=lastname, jti=None
    )


def _visitor(kind: type[AnonymousVisitor | AuthenticatedVisitor], firstname: str = "") -> Principal:
    return kind(visitor_id="v1", project_id="p1", jti="j1", firstname=firstname)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (_agent("Ann", "Lee"), ("a1", "Ann Lee", True)),
        (_agent(), ("a1", "ann@example.com", True)),
        (_visitor(AuthenticatedVisitor, "Bob"), ("v1", "Bob", True)),
        (_visitor(AuthenticatedVisitor), ("v1", "v1", True)),
        (_visitor(AnonymousVisitor, "Cat"), ("v1", "Cat", False)),
        (_visitor(AnonymousVisitor), ("v1", "v1", False)),
    ],
)
def test_callers_share_id_display_name_and_authentication(
    principal: Principal, expected: tuple[str, str, bool]
) -> None:
    assert (principal.id, principal.display_name, principal.is_authenticated) == expected
