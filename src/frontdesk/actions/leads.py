"""Leads (contacts): created with a visitor's first conversation, one per visitor.

Every field remembers where its value came from (``provenance``): ``token`` (verified by a
signature), ``visitor`` (typed by the visitor, unverified), ``agent`` (edited in the
dashboard) or ``system`` (a default). A verified field is never overwritten by anything but a
newer verified token.
"""

from __future__ import annotations

from typing import Any, Literal

from frontdesk.actions import audit, files
from frontdesk.actions.access import ProjectAccess
from frontdesk.auth.principals import Visitor
from frontdesk.auth.sender_auth_info import strip_reserved
from frontdesk.auth.tiers import EMAIL_CODE_SOURCE
from frontdesk.clock import iso
from frontdesk.errors import Conflict, NotFound, ValidationFailed
from frontdesk.ids import is_object_id
from frontdesk.models import capped_count
from frontdesk.models.exports import ExportedRequestPublic, LeadExportPublic
from frontdesk.models.files import present_file_info
from frontdesk.models.leads import ErasurePublic, LeadPublic, LeadsPublic, present_lead
from frontdesk.models.messages import present_message
from frontdesk.models.project_users import present_project_user
from frontdesk.models.requests import present_request_core
from frontdesk.realtime.events import SessionRevoked
from frontdesk.services import Services
from frontdesk.storage import (
    continuity_links,
    email_codes,
    leads,
    merges,
    messages,
    outbox,
    project_users,
    read_markers,
    requests,
    sessions,
)
from frontdesk.storage import files as file_rows
from frontdesk.storage.database import Transaction
from frontdesk.storage.leads import LeadRecord
from frontdesk.storage.merges import MergeRecord

Source = Literal["token", "visitor", "agent", "system", "email_code"]
LeadField = Literal["fullname", "email", "phone"]
LEAD_FIELDS: tuple[LeadField, ...] = ("fullname", "email", "phone")
_EXPORT_MAX_REQUESTS = 10_000
_EXPORT_MAX_MESSAGES = 100_000


def _fullname(profile: dict[str, Any]) -> str | None:
    name = f"{profile.get('firstname', '')} {profile.get('lastname', '')}".strip()
    return name or None


def _mark(provenance: dict[str, Any], field: str, source: Source, now: int) -> None:
    provenance[field] = {"source": source, "at": iso(now)}


def _is_verified(lead: LeadRecord, field: LeadField) -> bool:
    """Proven by a host token, or (an e-mail) by a one-time code: nothing typed replaces it."""
    return lead["provenance"].get(field, {}).get("source") in ("token", EMAIL_CODE_SOURCE)


async def do_refresh_verified_lead(
    services: Services,
    tx: Transaction,
    project_id: str,
    visitor_id: str,
    profile: dict[str, Any],
    auth_info: dict[str, Any],
) -> None:
    """Bring an existing lead up to date with a newly verified token (no lead: nothing to do)."""
    lead = await leads.get_lead_by_visitor(tx, project_id, visitor_id, lock=True)
    if lead is None:
        return
    now = services.now_ms()
    refresh_verified(lead, profile, auth_info, now=now)
    await save_lead(tx, lead, is_authenticated=True, now=now)


def refresh_verified(
    lead: LeadRecord, profile: dict[str, Any], auth_info: dict[str, Any], *, now: int
) -> None:
    """Bring ``lead`` up to date with a newly verified token, in place: the token's name,
    e-mail and phone (marked as the token's) and its senderAuthInfo. The caller writes it,
    as an authenticated contact."""
    verified: dict[LeadField, str | None] = {
        "fullname": _fullname(profile), "email": profile.get("email"),
        "phone": profile.get("phone"),
    }
    for field, value in verified.items():
        if value:
            lead[field] = value
            _mark(lead["provenance"], field, "token", now)
    lead["attributes"]["senderAuthInfo"] = auth_info


async def do_find_or_create_lead(
    services: Services,
    tx: Transaction,
    visitor: Visitor,
    *,
    self_reported: dict[str, str],
    auth_info: dict[str, Any],
    seen_absent: bool = False,
    queued: bool = False,
) -> LeadRecord:
    """The visitor's lead, created if none, with the latest senderAuthInfo.

    ``self_reported`` holds what the visitor typed (fullname, email); it fills only fields
    that are not verified. The lead is read locked: it is written from what was read. With
    ``seen_absent`` (the caller read that the visitor has none) it is not read but inserted
    at once; should one have been made meanwhile, it is then read and updated. With
    ``queued`` too, on PostgreSQL, the insert leaves with ``tx``'s next statement, which must
    be the conversation's insert: should one have been made meanwhile, that insert raises
    ``leads.ContactRaced`` and the transaction fails (``leads.insert_lead``).
    """
    now = services.now_ms()
    lead = None if seen_absent else await leads.get_lead_by_visitor(
        tx, visitor.project_id, visitor.visitor_id, lock=True)
    if lead is None:
        lead = {
            "id": services.ids.object_id(),
            "project_id": visitor.project_id,
            "lead_id": visitor.visitor_id,
            "fullname": None,
            "email": None,
            "phone": None,
            "attributes": {},
            "tags": [],
            "provenance": {},
            "is_authenticated": int(visitor.is_authenticated),
            "created_at": now,
            "updated_at": now,
        }
        is_new = True
    else:
        is_new = False
    token_source: Source = "token" if visitor.is_authenticated else "visitor"
    token_values: dict[LeadField, str | None] = {
        "fullname": visitor.fullname or None, "email": visitor.email,
    }
    if visitor.is_authenticated:
        phone = visitor.auth_info.get("authVar", {}).get("token", {}).get("phone")
        token_values["phone"] = phone if isinstance(phone, str) else None
    for field, value in token_values.items():
        writable = visitor.is_authenticated or not _is_verified(lead, field)
        changed = lead[field] != value or field not in lead["provenance"]
        if value and writable and changed:
            lead[field] = value
            source: Source = token_source
            if not visitor.is_authenticated and value.startswith("guest#"):
                source = "system"
            _mark(lead["provenance"], field, source, now)
    for field in LEAD_FIELDS:
        value = self_reported.get(field)
        if value and not _is_verified(lead, field) and lead[field] != value:
            lead[field] = value
            _mark(lead["provenance"], field, "visitor", now)
    lead["attributes"]["senderAuthInfo"] = auth_info
    if is_new:
        inserted = await leads.insert_lead(
            tx,
            id=lead["id"],
            project_id=lead["project_id"],
            lead_id=lead["lead_id"],
            fullname=lead["fullname"],
            email=lead["email"],
            phone=lead["phone"],
            attributes=lead["attributes"],
            provenance=lead["provenance"],
            is_authenticated=visitor.is_authenticated,
            now=now,
            queued=queued,
        )
        if not inserted:
            # A concurrent transaction created it first (the insert waited for its commit):
            # update that one instead.
            return await do_find_or_create_lead(
                services, tx, visitor, self_reported=self_reported, auth_info=auth_info
            )
    else:
        await save_lead(tx, lead, is_authenticated=visitor.is_authenticated, now=now)
    return lead


async def do_prove_email(
    services: Services, tx: Transaction, visitor: Visitor, email: str, auth_info: dict[str, Any]
) -> LeadRecord:
    """The visitor's contact (created if none) with ``email`` proven by a one-time code: its
    e-mail with provenance ``email_code`` and the time, and the new senderAuthInfo."""
    lead = await do_find_or_create_lead(
        services, tx, visitor, self_reported={}, auth_info=auth_info
    )
    now = services.now_ms()
    lead["email"] = email
    _mark(lead["provenance"], "email", "email_code", now)
    await save_lead(tx, lead, is_authenticated=False, now=now)
    return lead


async def save_lead(
    tx: Transaction, lead: LeadRecord, *, is_authenticated: bool, now: int
) -> None:
    """Write ``lead``; the dict then holds what its row holds (a request made next joins it
    as is)."""
    lead["is_authenticated"] = int(is_authenticated or bool(lead.get("is_authenticated")))
    await leads.update_lead(
        tx,
        lead["id"],
        fullname=lead["fullname"],
        email=lead["email"],
        phone=lead["phone"],
        attributes=lead["attributes"],
        tags=lead["tags"],
        provenance=lead["provenance"],
        is_authenticated=bool(lead["is_authenticated"]),
        now=now,
    )
    lead["updated_at"] = now


async def access_lead(
    services: Services,
    access: ProjectAccess,
    lead_id: str,
    *,
    tx: Transaction | None = None,
    lock: bool = False,
) -> LeadRecord:
    """The contact, by ``_id`` or by visitor id; a command passes its transaction and
    ``lock`` to read it locked until the commit. Raises NotFound(lead_not_found)."""
    q = tx or services.db
    project_id = access.project["id"]
    lead = await leads.get_lead(q, project_id, lead_id, lock=lock) if is_object_id(
        lead_id
    ) else None
    if lead is None:
        lead = await leads.get_lead_by_visitor(q, project_id, lead_id, lock=lock)
    if lead is None:
        raise NotFound(f"no contact {lead_id!r} in this project", code="lead_not_found")
    return lead


async def list_leads(
    services: Services,
    access: ProjectAccess,
    *,
    authenticated: bool | None,
    text: str | None,
    page: int,
    limit: int,
) -> LeadsPublic:
    cap = services.settings.list_count_cap
    rows, total = await leads.list_leads(
        services.db,
        access.project["id"],
        authenticated=authenticated,
        text=text,
        limit=limit,
        offset=page * limit,
        count_cap=cap,
    )
    count, capped = capped_count(total, cap)
    return {
        "perPage": limit,
        "count": count,
        "countCapped": capped,
        "leads": [present_lead(r) for r in rows],
    }


async def check_update_lead(
    services: Services, access: ProjectAccess, lead_id: str, changes: dict[str, Any]
) -> LeadPublic:
    """Apply an agent's edit. Verified fields are refused with ValidationFailed(verified_field)."""
    async with services.db.transaction() as tx:
        lead = await access_lead(services, access, lead_id, tx=tx, lock=True)
        now = services.now_ms()
        _apply_agent_edit(lead, changes, now=now)
        await save_lead(tx, lead, is_authenticated=False, now=now)
    return present_lead(lead)


MAX_LEAD_TAGS = 50


async def check_add_lead_tags(
    services: Services, access: ProjectAccess, lead_id: str, names: list[str]
) -> LeadPublic:
    """Add tag names to the contact's (Tiledesk's ``PUT /leads/:id/tag``); one already there is
    kept once. Raises ValidationFailed(too_many_tags) past MAX_LEAD_TAGS."""
    async with services.db.transaction() as tx:
        lead = await access_lead(services, access, lead_id, tx=tx, lock=True)
        tags = list(dict.fromkeys([*lead["tags"], *names]))
        if tags == lead["tags"]:
            return present_lead(lead)
        if len(tags) > MAX_LEAD_TAGS:
            raise ValidationFailed(
                f"a contact keeps at most {MAX_LEAD_TAGS} tags", code="too_many_tags"
            )
        lead["tags"] = tags
        await save_lead(tx, lead, is_authenticated=False, now=services.now_ms())
    return present_lead(lead)


async def check_remove_lead_tag(
    services: Services, access: ProjectAccess, lead_id: str, name: str
) -> LeadPublic:
    """Remove a tag name from the contact (audited); a name it does not carry changes nothing."""
    async with services.db.transaction() as tx:
        lead = await access_lead(services, access, lead_id, tx=tx, lock=True)
        if name not in lead["tags"]:
            return present_lead(lead)
        lead["tags"] = [t for t in lead["tags"] if t != name]
        await save_lead(tx, lead, is_authenticated=False, now=services.now_ms())
        await audit.record_agent_action(
            services, tx, access, "tag.removed", subject=lead["lead_id"],
            details={"tag": name, "lead": lead["id"]},
        )
    return present_lead(lead)


def _apply_agent_edit(lead: LeadRecord, changes: dict[str, Any], *, now: int) -> None:
    for field in LEAD_FIELDS:
        if field in changes and changes[field] != lead[field]:
            if _is_verified(lead, field):
                raise ValidationFailed(
                    f"{field} was verified by a signed token and cannot be edited",
                    code="verified_field",
                    details=[{"loc": [field], "msg": "verified field"}],
                )
            lead[field] = changes[field]
            _mark(lead["provenance"], field, "agent", now)
    if changes.get("attributes") is not None:
        kept = lead["attributes"].get("senderAuthInfo")
        lead["attributes"] = {**lead["attributes"], **strip_reserved(changes["attributes"])}
        if kept is not None:
            lead["attributes"]["senderAuthInfo"] = kept
    if changes.get("tags") is not None:
        lead["tags"] = changes["tags"]


async def do_erase_lead(services: Services, access: ProjectAccess, lead_id: str) -> ErasurePublic:
    """Erase a contact and everything of it: conversations, messages, files, sessions,
    membership, merge records, and the anonymous contacts that were merged into it. Audited.

    An anonymous contact emptied by a live merge keeps nothing of its own but its contact
    record: see ``do_erase`` for what stays with the surviving contact."""
    project_id = access.project["id"]
    async with services.db.transaction() as tx:
        lead = await access_lead(services, access, lead_id, tx=tx, lock=True)
        erased = await do_erase(services, tx, project_id, lead)
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "lead.erased", actor=access.agent.user_id, subject=lead["lead_id"],
            details={"lead": lead["id"], "requests": len(erased), "by": "request"},
        ))
    return {"success": True, "erased": {"lead": lead["id"], "requests": len(erased)}}


async def do_erase(
    services: Services, tx: Transaction, project_id: str, lead: LeadRecord
) -> list[str]:
    """Erase ``lead`` within ``tx``; the ids of the conversations erased with it.

    A live merge joins an anonymous contact to the surviving one. Erasing the surviving contact
    erases the anonymous one with it. Erasing the emptied anonymous contact erases what is
    still its own (the contact, its sessions, its membership) and hands the conversations it
    brought over to the surviving contact for good: they, their messages and the merge record
    stay, and the merge can no longer be reverted (``anonymous_contact_erased``).
    """
    request_ids = await requests.request_ids_of_lead(tx, lead["id"])

    async def forget() -> None:
        services.conversations.evict_lead(project_id, lead["id"])
        services.contact_hints.forget(project_id, lead["lead_id"])

    tx.on_commit(forget)
    for merge in await merges.merges_of_lead(tx, project_id, lead["id"]):
        if merge["reverted_at"] is not None:
            continue  # undone: each side is a contact of its own again
        if merge["lead_ref"] == lead["id"]:
            if merge["anonymous_lead_ref"] is not None:
                merged = await leads.get_lead(tx, project_id, merge["anonymous_lead_ref"])
                if merged is not None:
                    request_ids += await do_erase(services, tx, project_id, merged)
            await _erase_visitor(services, tx, project_id, merge["anonymous_visitor_id"])
        else:
            await _hand_over(tx, project_id, merge, now=services.now_ms())
    await merges.delete_merges_of_lead(tx, project_id, lead["id"])
    await files.do_erase_files_of_requests(services, tx, request_ids)
    await messages.delete_messages_of_requests(tx, request_ids)
    await read_markers.delete_markers_of_requests(tx, request_ids)
    await requests.delete_requests_of_lead(tx, lead["id"])
    await _erase_visitor(services, tx, project_id, lead["lead_id"])
    if lead["email"]:
        await outbox.delete_for_address(tx, project_id, lead["email"])
    await leads.delete_lead(tx, lead["id"])
    return request_ids


async def _hand_over(tx: Transaction, project_id: str, merge: MergeRecord, *, now: int) -> None:
    """Make the surviving contact's membership the requester of the conversations a live merge
    moved, so they outlive the anonymous visitor's membership; the merge says so."""
    member = await project_users.get_membership(tx, project_id, merge["visitor_id"])
    if member is None:  # erasing the surviving visitor erases its merges: never expected
        raise Conflict("the contact this one was merged into has no membership",
                       code="merged_contact_missing")
    await merges.hand_over_conversations(
        tx, project_id, merge["request_ids"], from_user_id=merge["anonymous_visitor_id"],
        to_requester_id=member["id"], to_user_id=merge["visitor_id"],
    )
    await merges.mark_anonymous_erased(tx, merge["id"], now=now)


async def _erase_visitor(
    services: Services, tx: Transaction, project_id: str, visitor_id: str
) -> None:
    """Close the visitor's open sockets and delete its sessions, membership, e-mail codes,
    reply links and the uploads no message took up."""
    await files.do_erase_uploads_of(services, tx, project_id, visitor_id)
    for session in await sessions.live_sessions_of(tx, project_id, visitor_id, services.now_ms()):
        services.publish_on_commit(tx, SessionRevoked(project_id=project_id, jti=session["jti"]))
    await sessions.delete_sessions_of(tx, project_id, visitor_id)
    await email_codes.delete_codes_of_visitor(tx, project_id, visitor_id)
    await continuity_links.delete_links_of_visitor(tx, project_id, visitor_id)
    member = await project_users.get_membership(tx, project_id, visitor_id)
    if member is not None and member["role"] in ("guest", "user"):
        await project_users.delete_project_user(tx, member["id"])


async def export_lead(services: Services, access: ProjectAccess, lead_id: str) -> LeadExportPublic:
    """Everything stored about one contact, as one JSON document (the right of access)."""
    lead = await access_lead(services, access, lead_id)
    project_id = access.project["id"]
    rows, _ = await requests.list_requests(
        services.db, project_id, requests.RequestFilter(lead_ref=lead["id"]),
        limit=_EXPORT_MAX_REQUESTS, offset=0,
    )
    conversations: list[ExportedRequestPublic] = []
    sent_files = await file_rows.files_of_requests(services.db, [r["request_id"] for r in rows])
    sent_files += await file_rows.unbound_files_of_uploader(
        services.db, project_id, lead["lead_id"]
    )
    for row in rows:
        history = await messages.list_messages(
            services.db, row["request_id"], limit=_EXPORT_MAX_MESSAGES
        )
        conversations.append(
            {**present_request_core(row), "messages": [present_message(m) for m in history]}
        )
    member = await project_users.get_membership(services.db, project_id, lead["lead_id"])
    sessions_of = await sessions.all_sessions_of(services.db, project_id, lead["lead_id"])
    merge_rows = await merges.merges_of_lead(services.db, project_id, lead["id"])
    async with services.db.transaction() as tx:
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "lead.exported", actor=access.agent.user_id, subject=lead["lead_id"],
        ))
    return {
        "exportedAt": iso(services.now_ms()),
        "lead": present_lead(lead),
        "membership": present_project_user(member) if member is not None else None,
        "requests": conversations,
        "sessions": [
            {"jti": s["jti"], "kind": s["kind"], "authInfo": s["auth_info"],
             "issuedAt": iso(s["issued_at"]), "expiresAt": iso(s["expires_at"]),
             "revokedAt": iso(s["revoked_at"])}
            for s in sessions_of
        ],
        "files": [present_file_info(services.settings.base_url, f) for f in sent_files],
        "merges": [
            {"_id": m["id"], "from": m["anonymous_visitor_id"], "into": m["visitor_id"],
             "requests": m["request_ids"], "mergedAt": iso(m["merged_at"]),
             "revertedAt": iso(m["reverted_at"]),
             "anonymousErasedAt": iso(m["anonymous_erased_at"])}
            for m in merge_rows
        ],
    }
