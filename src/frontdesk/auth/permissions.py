"""Pure permission predicates: no I/O, so every rule is testable on its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontdesk.auth.principals import ROLE_RANK, Agent, Principal


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]


def can_see_request(principal: Principal, request: Mapping[str, Any]) -> bool:
    """Agents (already checked as members) see every request; a visitor only its own."""
    if isinstance(principal, Agent):
        return True
    return bool(
        request["project_id"] == principal.project_id
        and request["requester_user_id"] == principal.visitor_id
    )


def can_manage_member(actor_role: str, target_role: str, new_role: str | None) -> bool:
    """Admins manage agents and admins; only owners touch owners or make new owners."""
    if not role_at_least(actor_role, "admin"):
        return False
    if "owner" in (target_role, new_role):
        return actor_role == "owner"
    return True
