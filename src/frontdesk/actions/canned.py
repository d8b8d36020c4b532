"""Canned responses: each agent's own, and the project's shared ones that admins manage.

Who may do what:

- everyone sees the shared responses and its own; another agent's own is refused
  (Forbidden ``not_your_canned_response``), even to admins;
- an agent creates and changes its own; only admins and owners create shared ones, turn
  ``shared`` on or off, or change and delete a shared one (Forbidden ``insufficient_role``).

Placeholders (``fill``): ``{{visitor.firstname}}``, ``{{visitor.lastname}}``,
``{{visitor.fullname}}``, ``{{visitor.email}}``, ``{{agent.firstname}}``, ``{{project.name}}``.
``{{visitor.<field>|verified}}`` is filled only from the visitor's verified identity — the
claims of the host site's signed token (the contact's senderAuthInfo) — and otherwise left as
written, so the agent sees what is missing before sending.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from frontdesk.actions.access import ProjectAccess, access_request
from frontdesk.auth.permissions import role_at_least
from frontdesk.errors import Forbidden, NotFound, ValidationFailed
from frontdesk.ids import is_object_id
from frontdesk.models.canned import CannedFilledPublic, CannedPublic, present_canned
from frontdesk.services import Services
from frontdesk.storage import canned
from frontdesk.storage.canned import CannedRecord
from frontdesk.storage.database import Queries
from frontdesk.storage.leads import LeadRecord
from frontdesk.storage.requests import RequestRecord

MAX_OWN = 500  # responses an agent may author in one project

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z]+)\.([a-z]+)\s*(\|\s*verified\s*)?\}\}", re.IGNORECASE)


def _is_admin(access: ProjectAccess) -> bool:
    return role_at_least(access.role, "admin")


def _check_may_share(access: ProjectAccess) -> None:
    if not _is_admin(access):
        raise Forbidden("only admins manage shared canned responses", code="insufficient_role")


async def access_canned(
    services: Services, access: ProjectAccess, canned_id: str, *, tx: Queries | None = None,
    lock: bool = False,
) -> CannedRecord:
    """A canned response the caller may see: shared, or its own.

    Raises NotFound(canned_response_not_found), Forbidden(not_your_canned_response).
    """
    row = await canned.get_canned(
        tx or services.db, access.project["id"], canned_id, lock=lock
    ) if is_object_id(canned_id) else None
    if row is None:
        raise NotFound(f"no canned response {canned_id!r}", code="canned_response_not_found")
    if not row["shared"] and row["created_by"] != access.agent.user_id:
        raise Forbidden("this canned response is another agent's own",
                        code="not_your_canned_response")
    return row


async def list_canned(services: Services, access: ProjectAccess) -> list[CannedPublic]:
    rows = await canned.list_visible(services.db, access.project["id"], access.agent.user_id)
    return [present_canned(r) for r in rows]


async def check_create_canned(
    services: Services, access: ProjectAccess, *, title: str, text: str, shared: bool
) -> CannedPublic:
    """Raises Forbidden(insufficient_role) for a shared one by an agent,
    ValidationFailed(too_many_canned_responses)."""
    if shared:
        _check_may_share(access)
    project_id = access.project["id"]
    now = services.now_ms()
    row: CannedRecord = {
        "id": services.ids.object_id(), "project_id": project_id, "title": title,
        "text": text, "shared": int(shared), "created_by": access.agent.user_id,
        "created_at": now, "updated_at": now,
    }
    async with services.db.transaction() as tx:
        if await canned.count_own(tx, project_id, access.agent.user_id) >= MAX_OWN:
            raise ValidationFailed(f"an agent keeps at most {MAX_OWN} canned responses",
                                   code="too_many_canned_responses")
        await canned.insert_canned(tx, row)
    return present_canned(row)


def _check_may_change(access: ProjectAccess, row: CannedRecord) -> None:
    if row["shared"]:
        _check_may_share(access)  # a shared one is the project's: its admins manage it


async def check_update_canned(
    services: Services, access: ProjectAccess, canned_id: str, *, title: str | None,
    text: str | None, shared: bool | None,
) -> CannedPublic:
    async with services.db.transaction() as tx:
        row = await access_canned(services, access, canned_id, tx=tx, lock=True)
        _check_may_change(access, row)
        if shared is not None and bool(shared) != bool(row["shared"]):
            _check_may_share(access)
            row["shared"] = int(shared)
        if title is not None:
            row["title"] = title
        if text is not None:
            row["text"] = text
        row["updated_at"] = services.now_ms()
        await canned.update_canned(tx, row)
    return present_canned(row)


async def check_delete_canned(
    services: Services, access: ProjectAccess, canned_id: str
) -> CannedPublic:
    async with services.db.transaction() as tx:
        row = await access_canned(services, access, canned_id, tx=tx, lock=True)
        _check_may_change(access, row)
        await canned.delete_canned(tx, row["id"])
    return present_canned(row)


async def fill_canned(
    services: Services, access: ProjectAccess, canned_id: str, request_id: str
) -> CannedFilledPublic:
    """The response's text with its placeholders filled for the conversation ``request_id``."""
    row = await access_canned(services, access, canned_id)
    request = await access_request(services, access, request_id)
    agent = access.agent
    values = {
        "agent.firstname": agent.firstname or None,
        "project.name": access.project["name"],
    }
    return fill(row["text"], values, *_visitor_values(request))


def _split_name(fullname: str | None) -> tuple[str | None, str | None]:
    first, _, last = (fullname or "").strip().partition(" ")
    return first or None, last.strip() or None


def _visitor_values(request: RequestRecord) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(what is known of the visitor, what its verified token says) as placeholder values."""
    lead = request["lead"]
    profile = request["requester_profile"]
    fullname = _given(lead, "fullname")
    first, last = _split_name(fullname)
    profile_first = _text(profile.get("firstname"))
    if profile_first and profile_first.startswith(_DEFAULT_NAME):
        profile_first = None
    first = first or profile_first
    last = last or _text(profile.get("lastname"))
    known: dict[str, str | None] = {
        "visitor.firstname": first,
        "visitor.lastname": last,
        "visitor.fullname": fullname or _join(first, last),
        "visitor.email": _given(lead, "email") or _text(profile.get("email")),
    }
    auth: dict[str, Any] = (lead["attributes"] if lead else {}).get("senderAuthInfo") or {}
    claims: dict[str, Any] = {}
    if auth.get("verified") is True and isinstance(auth.get("authVar"), dict):
        token = auth["authVar"].get("token")
        claims = token if isinstance(token, dict) else {}
    v_first, v_last = _text(claims.get("firstname")), _text(claims.get("lastname"))
    verified: dict[str, str | None] = {
        "visitor.firstname": v_first,
        "visitor.lastname": v_last,
        "visitor.fullname": _join(v_first, v_last),
        "visitor.email": _text(claims.get("email")),
    }
    return known, verified


# The name an anonymous visitor gets when it gives none (``guest#`` and 4 characters of its id)
# says nothing about the person: it never fills a placeholder.
_DEFAULT_NAME = "guest#"


def _given(lead: LeadRecord | None, field: Literal["fullname", "email"]) -> str | None:
    """The contact's ``field`` unless the server made it up (provenance ``system``)."""
    if lead is None or lead["provenance"].get(field, {}).get("source") == "system":
        return None
    return _text(lead[field])


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _join(first: str | None, last: str | None) -> str | None:
    return " ".join(p for p in (first, last) if p) or None


def fill(
    text: str, values: dict[str, str | None], known: dict[str, str | None],
    verified: dict[str, str | None],
) -> CannedFilledPublic:
    """``text`` with each placeholder replaced by its value (``|verified``: from ``verified``
    only); a placeholder without a value stays as written and is listed in ``unfilled``."""
    unfilled: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = f"{match.group(1)}.{match.group(2)}".lower()
        wants_verified = match.group(3) is not None
        if wants_verified:
            value = verified.get(name) if name.startswith("visitor.") else values.get(name)
        else:
            value = values.get(name) or known.get(name)
        if value:
            return value
        label = name + ("|verified" if wants_verified else "")
        if label not in unfilled:
            unfilled.append(label)
        return match.group(0)

    return {"text": _PLACEHOLDER.sub(replace, text), "unfilled": unfilled}
