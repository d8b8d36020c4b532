"""Invitations of agents by email, accepted when the email signs up."""

from __future__ import annotations

from frontdesk.storage.database import Queries, Row


async def upsert_invite(
    q: Queries, *, id: str, project_id: str, email: str, role: str, invited_by: str, now: int
) -> None:
    await q.execute(
        "INSERT INTO invites (id, project_id, email, role, invited_by, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (project_id, email) DO UPDATE SET role = excluded.role,"
        " invited_by = excluded.invited_by, created_at = excluded.created_at",
        id,
        project_id,
        email,
        role,
        invited_by,
        now,
    )


async def pending_invites_for(q: Queries, email: str) -> list[Row]:
    return await q.fetch_all(
        "SELECT * FROM invites WHERE email = $1 AND accepted_at IS NULL ORDER BY created_at",
        email,
    )


async def pending_invites_of_project(q: Queries, project_id: str) -> list[Row]:
    return await q.fetch_all(
        "SELECT * FROM invites WHERE project_id = $1 AND accepted_at IS NULL"
        " ORDER BY created_at",
        project_id,
    )


async def mark_accepted(q: Queries, invite_id: str, now: int) -> None:
    await q.execute("UPDATE invites SET accepted_at = $2 WHERE id = $1", invite_id, now)
