"""Agent accounts."""

from __future__ import annotations

from typing import TypedDict

from frontdesk.storage.database import Queries
from frontdesk.storage.rows import fetch_record


class UserProfileRecord(TypedDict):
    """What every view of an agent account shows."""

    id: str
    email: str
    firstname: str
    lastname: str
    created_at: int


class UserRecord(UserProfileRecord):
    """A row of ``users``."""

    password_hash: str
    updated_at: int


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


async def get_user_by_email(q: Queries, email: str) -> UserRecord | None:
    return await fetch_record(q, UserRecord, "SELECT * FROM users WHERE email = $1", email)


async def get_user(q: Queries, user_id: str) -> UserRecord | None:
    return await fetch_record(q, UserRecord, "SELECT * FROM users WHERE id = $1", user_id)
