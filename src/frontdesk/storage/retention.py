"""Queries of the retention job: which projects keep anonymous contacts for how long, and
which anonymous contacts have been idle since a cutoff."""

from __future__ import annotations

from typing import Any, TypedDict

from frontdesk.storage.database import Queries
from frontdesk.storage.leads import LEAD_JSON, LeadRecord
from frontdesk.storage.rows import fetch_records


class RetentionPolicyRecord(TypedDict):
    """A project's id and settings, all the retention job reads of it."""

    id: str
    settings: dict[str, Any]


async def all_projects(q: Queries) -> list[RetentionPolicyRecord]:
    return await fetch_records(
        q, RetentionPolicyRecord, "SELECT id, settings FROM projects ORDER BY id",
        json=("settings",),
    )


async def idle_anonymous_leads(q: Queries, project_id: str, cutoff: int) -> list[LeadRecord]:
    """Anonymous leads untouched since ``cutoff``, with no conversation active since then.

    An anonymous lead a live merge joined to an authenticated contact is not one of them: it
    is part of that person now, and is erased with it.
    """
    return await fetch_records(
        q, LeadRecord,
        "SELECT * FROM leads l WHERE l.project_id = $1 AND l.is_authenticated = 0"
        " AND l.updated_at < $2 AND NOT EXISTS (SELECT 1 FROM requests r"
        " WHERE r.lead_ref = l.id AND r.updated_at >= $2) AND NOT EXISTS (SELECT 1 FROM"
        " merges m WHERE m.project_id = l.project_id AND m.anonymous_lead_ref = l.id"
        " AND m.reverted_at IS NULL) ORDER BY l.updated_at",
        project_id,
        cutoff,
        json=LEAD_JSON,
    )
