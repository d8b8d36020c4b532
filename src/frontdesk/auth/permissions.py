"""Pure permission predicates: no I/O, so every rule is testable on its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontdesk.auth.principals import ROLE_RANK, Agent, Principal


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]


def can_see_request(principal: Principal, request: Mapping[str, Any]) -> bool:
    """Agents (already checked as members) see every request but those held back until their
    visitor reaches their department's tier (``held_tier``); a visitor only its own.

    A visitor's own requests are those it started and those attached to its own contact
    (``request["lead"]``, when the row carries it) — conversations merged into it on proof.
    """
    if isinstance(principal, Agent):
        return not request.get("held_tier")
    if request["project_id"] != principal.project_id:
        return False
    lead = request.get("lead")
    return bool(
        request["requester_user_id"] == principal.visitor_id
        or (lead is not None and lead["lead_id"] == principal.visitor_id)
    )


def can_manage_member(actor_role: str, target_role: str, new_role: str | None) -> bool:
    """Admins manage agents and admins; only owners touch owners or make new owners."""
    if not role_at_least(actor_role, "admin"):
        return False
    if "owner" in (target_role, new_role):
        return actor_role == "owner"
    return True
