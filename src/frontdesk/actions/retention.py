"""Retention: anonymous contacts idle for a project's ``anonymous_retention_days`` are erased.

Run by ``frontdesk retention`` (e.g. daily from cron). Each erasure is audited with the actor
``system``. Authenticated contacts are never erased by retention: the customer's own systems
know them, and an admin erases them on request. Nor are anonymous contacts that a live merge
joined to an authenticated one: they are that person now, and go when it is erased. Expired
single-use token ids are forgotten, and so are uploads that no message took up within
``unclaimed_upload_hours`` and file bytes left without their row by a stopped process.
"""

from __future__ import annotations

from frontdesk.actions import audit
from frontdesk.actions.files import do_forget_unclaimed, do_sweep_orphans
from frontdesk.actions.leads import do_erase
from frontdesk.services import Services
from frontdesk.storage import retention, used_tokens

_DAY_MS = 24 * 3600 * 1000


async def do_apply_retention(services: Services) -> dict[str, int]:
    """Erase idle anonymous contacts in every project with a retention rule.

    Returns ``{"leads": erased contacts, "requests": erased conversations, "tokenIds": …,
    "files": unclaimed uploads and orphaned file bytes removed}``.
    """
    now = services.now_ms()
    counts = {"leads": 0, "requests": 0, "tokenIds": 0, "files": 0}
    for project in await retention.all_projects(services.db):
        days = int(project["settings"].get("anonymous_retention_days") or 0)
        if days <= 0:
            continue
        cutoff = now - days * _DAY_MS
        for lead in await retention.idle_anonymous_leads(services.db, project["id"], cutoff):
            async with services.db.transaction() as tx:
                erased = await do_erase(services, tx, project["id"], lead)
                await audit.record(services, tx, project["id"], audit.AuditEvent(
                    "retention.erased", actor="system", subject=lead["lead_id"],
                    details={"lead": lead["id"], "requests": len(erased), "days": days},
                ))
            counts["leads"] += 1
            counts["requests"] += len(erased)
    async with services.db.transaction() as tx:
        counts["tokenIds"] = await used_tokens.forget_expired(tx, now)
    counts["files"] = await do_forget_unclaimed(services) + await do_sweep_orphans(services)
    return counts
