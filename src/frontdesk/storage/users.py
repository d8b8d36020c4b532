"""Agent accounts."""

from __future__ import annotations

from frontdesk.storage.database import Queries, Row


async def insert_user_if_new(
    q: Queries, *, id: str, email: str, password_hash: str, firstname: str, lastname: str, now: int
) -> bool:
    """Insert the account unless ``email`` has one already; True when it was inserted."""
    count = await q.execute(
        "INSERT INTO users (id, email, password_hash, firstname, lastname, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email) DO NOTHING",
        id,
        email,
        password_hash,
        firstname,
        lastname,
        now,
    )
    return count == 1


async def get_user_by_email(q: Queries, email: str) -> Row | None:
    return await q.fetch_one("SELECT * FROM users WHERE email = $1", email)


async def get_user(q: Queries, user_id: str) -> Row | None:
    return await q.fetch_one("SELECT * FROM users WHERE id = $1", user_id)
