"""Step-up: an agent asks the visitor of a conversation to verify; a visitor who reaches a
higher tier upgrades its conversations, and those held back from a department are routed.

The request is stored on the conversation (``verificationRequest``), announced by a
RequestChanged and a system line (``verification_requested``) that the visitor's widget hears,
which tells the host page (``onVerificationRequested``). The visitor then proves an e-mail
(``actions.email_codes``) or the host page signs it in with a token and the anonymous session
as the second proof (``actions.merges``): either way ``do_upgrade_conversations`` gives the
conversations their new senderAuthInfo, marks the request verified, routes what was held, and
posts an ``identity_verified`` line both sides see.
"""

from __future__ import annotations

from typing import Any

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess, access_request
from frontdesk.actions.requests import apply_changes, notify_request
from frontdesk.actions.routing import pick_agent, status_for
from frontdesk.actions.system_messages import do_post_system_message
from frontdesk.auth.tiers import Tier, tier_at_least, tier_of_auth_info
from frontdesk.clock import iso
from frontdesk.errors import Conflict
from frontdesk.models.trust import VerificationRequestCreatedPublic
from frontdesk.services import Services
from frontdesk.statuses import RequestStatus
from frontdesk.storage import departments, requests
from frontdesk.storage.database import Transaction
from frontdesk.storage.requests import RequestRecord

_ASK_TEXT = {
    "email_verified": "Our agent asks you to confirm your e-mail address before going on.",
    "authenticated": "Our agent asks you to sign in before going on.",
}


async def check_request_verification(
    services: Services, access: ProjectAccess, request_id: str, tier: Tier
) -> VerificationRequestCreatedPublic:
    """Ask the conversation's visitor to reach ``tier`` (email_verified or authenticated).

    Raises Conflict(request_closed), Conflict(already_verified) when the conversation is at
    that tier or higher already.
    """
    now = services.now_ms()
    agent_id = access.agent.user_id
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        if row["status"] == RequestStatus.CLOSED:
            raise Conflict("reopen the conversation first", code="request_closed")
        current = tier_of_auth_info(row["attributes"].get("senderAuthInfo"))
        if tier_at_least(current, tier):
            raise Conflict(f"this visitor is {current} already", code="already_verified")
        asked: dict[str, Any] = {
            "_id": services.ids.object_id(), "tier": tier, "status": "pending",
            "requestedBy": agent_id, "requestedAt": iso(now), "verifiedAt": None,
        }
        updated = await apply_changes(
            tx, row, now=now, attributes={**row["attributes"], "verificationRequest": asked}
        )
        notify_request(services, tx, updated, "UPDATE")
        message = await do_post_system_message(
            services, tx, updated, "verification_requested", _ASK_TEXT[tier], tier=tier,
            verificationRequest=asked["_id"],
        )
        await audit.record(services, tx, row["project_id"], audit.AuditEvent(
            "verification.requested", actor=agent_id, subject=row["requester_user_id"],
            details={"request": request_id, "tier": tier},
        ))
    return {**asked, "request_id": request_id, "message": message}  # type: ignore[typeddict-item]


async def do_upgrade_conversations(
    services: Services,
    tx: Transaction,
    project_id: str,
    visitor_id: str,
    auth_info: dict[str, Any],
    *,
    text: str,
    rows: list[RequestRecord] | None = None,
) -> list[str]:
    """Give ``rows`` (default: the visitor's open conversations, read locked here) the
    senderAuthInfo ``auth_info`` now proves; the request_ids upgraded.

    A pending verification request the new tier satisfies is marked verified; a conversation
    held for a tier it now reaches is routed to its department (and announced to agents as
    new). Precondition: ``auth_info`` was just verified within ``tx``.
    """
    if rows is None:
        rows = await requests.open_requests_of_visitor(tx, project_id, visitor_id, lock=True)
    tier = tier_of_auth_info(auth_info)
    now = services.now_ms()
    upgraded = []
    for row in rows:
        if not tier_at_least(tier, tier_of_auth_info(row["attributes"].get("senderAuthInfo"))):
            continue  # never downgrade what a stronger proof vouched for
        attributes = {**row["attributes"], "senderAuthInfo": auth_info}
        asked = attributes.get("verificationRequest")
        if isinstance(asked, dict) and asked.get("status") == "pending" and tier_at_least(
            tier, str(asked.get("tier"))
        ):
            attributes["verificationRequest"] = {**asked, "status": "verified",
                                                 "verifiedAt": iso(now)}
        fields: dict[str, Any] = {"attributes": attributes}
        if tier == "authenticated":
            fields["is_authenticated"] = 1
        released = bool(row["held_tier"]) and tier_at_least(tier, str(row["held_tier"]))
        if released:
            fields.update(await _routed(tx, row))
        updated = await apply_changes(tx, row, now=now, **fields)
        notify_request(services, tx, updated, "CREATE" if released else "UPDATE")
        await do_post_system_message(services, tx, updated, "identity_verified", text, tier=tier)
        upgraded.append(row["request_id"])
    return upgraded


async def _routed(tx: Transaction, row: RequestRecord) -> dict[str, Any]:
    """The columns that release a held conversation to its department's agents."""
    department = (
        await departments.get_department(tx, row["project_id"], row["department_id"])
        if row["department_id"] else None
    )
    agent = await pick_agent(tx, row["project_id"], department)
    participants = [agent] if agent else []
    status = row["status"] if row["status"] == RequestStatus.CLOSED else status_for(participants)
    return {"held_tier": None, "participants": participants, "status": status}


async def do_release_held(services: Services, tx: Transaction, department_id: str,
                          project_id: str, min_tier: str) -> list[str]:
    """After a department's minimum tier changed to ``min_tier`` (within ``tx``): route the
    conversations held there whose visitor reaches it now; the request_ids released."""
    released = []
    now = services.now_ms()
    for row in await requests.held_requests_of_department(
        tx, project_id, department_id, lock=True
    ):
        tier = tier_of_auth_info(row["attributes"].get("senderAuthInfo"))
        if not tier_at_least(tier, min_tier):
            if row["held_tier"] != min_tier:
                updated = await apply_changes(tx, row, now=now, held_tier=min_tier)
                notify_request(services, tx, updated, "UPDATE")
            continue
        updated = await apply_changes(tx, row, now=now, **await _routed(tx, row))
        notify_request(services, tx, updated, "CREATE")
        released.append(row["request_id"])
    return released
