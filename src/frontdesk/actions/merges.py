"""Proof-based merges: an anonymous visitor's conversations join the authenticated contact.

A merge happens only when the same browser presents both proofs at sign-in: a live anonymous
session token this server issued, and a freshly verified customer token. Nothing a visitor
types (an email, a name) ever merges anything. The moved conversations keep their original
senderAuthInfo: merging does not retro-verify what the anonymous visitor wrote.

The merge is recorded (table ``merges``, the audit log, ``mergedFrom`` on the contact and on
each conversation, ``mergedInto`` on the anonymous contact); an admin can revert it. The
anonymous session is revoked: its proof is spent.
"""

from __future__ import annotations

from typing import Any

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess
from frontdesk.actions.leads import access_lead, do_find_or_create_lead, save_lead
from frontdesk.actions.verification import do_upgrade_conversations
from frontdesk.auth.principals import AuthenticatedVisitor
from frontdesk.clock import iso
from frontdesk.errors import Conflict, NotFound, Unauthorized
from frontdesk.models.merges import MergeOutcomePublic, MergePublic, present_merge
from frontdesk.realtime.events import AccessChanged, SessionRevoked
from frontdesk.services import Services
from frontdesk.storage import leads, merges, requests, sessions
from frontdesk.storage.database import Transaction
from frontdesk.storage.leads import LeadRecord


def _refused(code: str) -> MergeOutcomePublic:
    return {"merged": False, "code": code}


async def do_merge_anonymous(
    services: Services, tx: Transaction, visitor: AuthenticatedVisitor, anonymous_token: str
) -> MergeOutcomePublic:
    """Merge the anonymous visitor that ``anonymous_token`` proves into ``visitor``'s contact.

    Precondition: ``visitor`` was just verified from a customer token, within ``tx``. An
    unusable anonymous proof merges nothing and says why: ``{"merged": false, "code": …}``.
    """
    token = anonymous_token.strip()
    if token[:4].lower() == "jwt ":
        token = token[4:].strip()
    try:
        claims = services.tokens.verify(token)
    except Unauthorized as exc:
        return _refused(exc.code)
    if claims.sub != "guest":
        return _refused("not_anonymous")
    if claims.project_id != visitor.project_id:
        return _refused("wrong_project")
    now = services.now_ms()
    # Spending the proof is the first write: the update locks the session row, so of two
    # sign-ins presenting it at once the second waits, then finds it spent and merges nothing.
    if not await sessions.revoke_session(tx, claims.jti, now=now, reason="merged"):
        return _refused("session_revoked")
    project_id = visitor.project_id
    anonymous_id = claims.subject_id
    merge_id = services.ids.object_id()
    mark = {"merge": merge_id, "visitor": anonymous_id, "at": iso(now)}
    anonymous_lead = await leads.get_lead_by_visitor(tx, project_id, anonymous_id, lock=True)
    target = await do_find_or_create_lead(
        services, tx, visitor, self_reported={}, auth_info=visitor.auth_info
    )
    moved = []
    stepped_up = []
    for conversation in await merges.conversations_of(tx, project_id, anonymous_id, lock=True):
        attributes = {**conversation["attributes"], "mergedFrom": mark}
        await requests.update_request(tx, conversation["id"], now=now, lead_ref=target["id"],
                                      attributes=attributes)
        moved.append(conversation["request_id"])
        if conversation["held_tier"] or _awaits_verification(conversation["attributes"]):
            stepped_up.append(conversation["request_id"])
    target["attributes"]["mergedFrom"] = [*target["attributes"].get("mergedFrom", []), mark]
    await save_lead(tx, target, is_authenticated=True, now=now)
    if anonymous_lead is not None:
        anonymous_lead["attributes"]["mergedInto"] = {
            "merge": merge_id, "lead": target["id"], "visitor": visitor.visitor_id, "at": iso(now)
        }
        await save_lead(tx, anonymous_lead, is_authenticated=False, now=now)
    await merges.insert_merge(
        tx, id=merge_id, project_id=project_id, anonymous_visitor_id=anonymous_id,
        anonymous_lead_ref=anonymous_lead["id"] if anonymous_lead else None,
        visitor_id=visitor.visitor_id, lead_ref=target["id"], request_ids=moved, now=now,
    )
    services.publish_on_commit(tx, SessionRevoked(project_id=project_id, jti=claims.jti))
    await _step_up(services, tx, visitor, stepped_up)
    await audit.record(services, tx, project_id, audit.AuditEvent(
        "merge", actor=visitor.visitor_id, subject=merge_id,
        details={"from": anonymous_id, "into": visitor.visitor_id, "requests": moved},
    ))
    return {"merged": True, "_id": merge_id, "from": anonymous_id, "requests": moved}


def _awaits_verification(attributes: dict[str, Any]) -> bool:
    asked = attributes.get("verificationRequest")
    return isinstance(asked, dict) and asked.get("status") == "pending"


async def _step_up(
    services: Services, tx: Transaction, visitor: AuthenticatedVisitor, request_ids: list[str]
) -> None:
    """The moved conversations whose agent asked the visitor to verify, or whose department
    waits for a higher tier, take the signed-in identity: the merge proved the same browser
    answered. The others keep their anonymous senderAuthInfo."""
    rows = []
    for request_id in request_ids:
        row = await requests.get_request(tx, visitor.project_id, request_id, lock=True)
        if row is not None:
            rows.append(row)
    if rows:
        name = visitor.fullname or visitor.visitor_id
        await do_upgrade_conversations(
            services, tx, visitor.project_id, visitor.visitor_id, visitor.auth_info,
            text=f"The visitor signed in as {name}.", rows=rows,
        )


async def list_merges_of_lead(
    services: Services, access: ProjectAccess, lead_id: str
) -> list[MergePublic]:
    lead = await access_lead(services, access, lead_id)
    rows = await merges.merges_of_lead(services.db, access.project["id"], lead["id"])
    return [present_merge(r) for r in rows]


async def do_revert_merge(
    services: Services, access: ProjectAccess, merge_id: str
) -> MergePublic:
    """Move the merged conversations back to the anonymous contact (admins); the signed-in
    visitor's open sockets are re-checked and lose them too.

    Raises NotFound(merge_not_found), Conflict(merge_reverted) when already undone and
    Conflict(anonymous_contact_erased) when there is no anonymous contact to go back to.
    """
    project_id = access.project["id"]
    now = services.now_ms()
    async with services.db.transaction() as tx:
        merge = await merges.get_merge(tx, project_id, merge_id, lock=True)
        if merge is None:
            raise NotFound(f"no merge {merge_id!r} in this project", code="merge_not_found")
        if merge["reverted_at"] is not None:
            raise Conflict("this merge was already reverted", code="merge_reverted")
        anonymous_lead = None
        if merge["anonymous_lead_ref"] is not None:
            anonymous_lead = await leads.get_lead(
                tx, project_id, merge["anonymous_lead_ref"], lock=True
            )
            if anonymous_lead is None:
                raise Conflict("the anonymous contact was erased since",
                               code="anonymous_contact_erased")
            for conversation in await merges.conversations_by_ids(
                tx, project_id, merge["request_ids"], lock=True
            ):
                if conversation["lead_ref"] != merge["lead_ref"]:
                    continue  # moved on since the merge: left where it is now
                attributes = dict(conversation["attributes"])
                attributes.pop("mergedFrom", None)
                await requests.update_request(tx, conversation["id"], now=now,
                                              lead_ref=anonymous_lead["id"], attributes=attributes)
        target = await leads.get_lead(tx, project_id, merge["lead_ref"], lock=True)
        if target is not None:
            _drop_mark(target, merge_id)
            await save_lead(tx, target, is_authenticated=True, now=now)
        if anonymous_lead is not None:
            anonymous_lead["attributes"].pop("mergedInto", None)
            await save_lead(tx, anonymous_lead, is_authenticated=False, now=now)
        await merges.mark_reverted(tx, merge_id, now=now, by=access.agent.user_id)
        # The signed-in visitor's open sockets stop hearing the conversations it gave back.
        services.publish_on_commit(tx, AccessChanged(
            project_id=project_id, reason="merge_reverted", visitor_ids=[merge["visitor_id"]],
            request_ids=list(merge["request_ids"]),
        ))
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "merge.reverted", actor=access.agent.user_id, subject=merge_id,
            details={"from": merge["anonymous_visitor_id"], "into": merge["visitor_id"]},
        ))
    # The merge row stayed locked since it was read: it is now what it was, reverted.
    return present_merge({**merge, "reverted_at": now, "reverted_by": access.agent.user_id})


def _drop_mark(lead: LeadRecord, merge_id: str) -> None:
    kept = [m for m in lead["attributes"].get("mergedFrom", []) if m.get("merge") != merge_id]
    if kept:
        lead["attributes"]["mergedFrom"] = kept
    else:
        lead["attributes"].pop("mergedFrom", None)
