"""Invitations of agents into a project, each accepted once with its token.

Only the SHA-256 of a token is stored. ``status`` is ``pending`` until the invitation is
``accepted``, ``withdrawn`` by an admin or ``replaced`` by a newer one for the same address; a
project has at most one pending invitation per address.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from frontdesk.storage.database import Queries
from frontdesk.storage.rows import fetch_record, fetch_records


class InvitationRecord(TypedDict):
    """A row of ``invitations``."""

    id: str
    project_id: str
    email: str
    role: str
    invited_by: str
    token_hash: str | None
    status: Literal["pending", "accepted", "withdrawn", "replaced"]
    created_at: int
    expires_at: int
    closed_at: int | None
    closed_by: str | None


async def insert_invitation(q: Queries, invitation: InvitationRecord) -> bool:
    """False when another pending invitation for the address was written meanwhile."""
    count = await q.execute(
        "INSERT INTO invitations (id, project_id, email, role, invited_by, token_hash, status,"
        " created_at, expires_at, closed_at, closed_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (project_id, email) WHERE status = 'pending' DO NOTHING",
        invitation["id"],
        invitation["project_id"],
        invitation["email"],
        invitation["role"],
        invitation["invited_by"],
        invitation["token_hash"],
        invitation["status"],
        invitation["created_at"],
        invitation["expires_at"],
        invitation["closed_at"],
        invitation["closed_by"],
    )
    return count == 1


async def get_invitation(
    q: Queries, project_id: str, invitation_id: str
) -> InvitationRecord | None:
    return await fetch_record(
        q, InvitationRecord,
        "SELECT * FROM invitations WHERE project_id = $1 AND id = $2",
        project_id,
        invitation_id,
    )


async def get_by_token_hash(q: Queries, token_hash: str) -> InvitationRecord | None:
    return await fetch_record(
        q, InvitationRecord, "SELECT * FROM invitations WHERE token_hash = $1", token_hash
    )


async def pending_of_project(q: Queries, project_id: str) -> list[InvitationRecord]:
    return await fetch_records(
        q, InvitationRecord,
        "SELECT * FROM invitations WHERE project_id = $1 AND status = 'pending'"
        " ORDER BY created_at, id",
        project_id,
    )


async def pending_for_email(q: Queries, project_id: str, email: str) -> list[InvitationRecord]:
    return await fetch_records(
        q, InvitationRecord,
        "SELECT * FROM invitations WHERE project_id = $1 AND email = $2 AND status = 'pending'",
        project_id,
        email,
    )


async def close_invitation(
    q: Queries, invitation_id: str, *, status: str, now: int, by: str
) -> bool:
    """Move a pending invitation to ``status``; False when it was no longer pending.

    The condition on ``status`` makes this the one step that consumes a token: of two
    transactions closing the same invitation, only the first changes a row.
    """
    count = await q.execute(
        "UPDATE invitations SET status = $2, closed_at = $3, closed_by = $4"
        " WHERE id = $1 AND status = 'pending'",
        invitation_id,
        status,
        now,
        by,
    )
    return count == 1
