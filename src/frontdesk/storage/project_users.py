"""Memberships of agents and visitors in a project (Tiledesk's project_user)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict, cast

from frontdesk.storage.database import Queries, Row, by_key, indexed, row_lock
from frontdesk.storage.rows import (
    NewRow,
    RowChange,
    decode,
    encode,
    fetch_record,
    fetch_records,
    update_then_insert,
)


class ProjectUserRecord(TypedDict):
    """A row of ``project_users``: an agent's or a visitor's membership."""

    id: str
    project_id: str
    user_id: str
    role: str
    user_available: int
    max_assigned_chat: int | None
    # 1 while the server holds the agent unavailable because its dashboard went away.
    presence_away: int
    # The agent's notification choices: desktop, sound, title (booleans; absent: on).
    notifications: dict[str, Any]
    profile: dict[str, Any]
    attributes: dict[str, Any]
    invited_by: str | None
    created_at: int
    updated_at: int


class AgentMemberRecord(ProjectUserRecord):
    """An agent's membership joined with its account."""

    user_email: str
    user_firstname: str
    user_lastname: str

class VisitorMemberRecord(ProjectUserRecord):
    """A visitor's membership with what one of its sessions proves now, and whether the
    visitor has a contact (lead)."""

    session_auth_info: dict[str, Any] | None  # None: no such session
    has_lead: bool


_JSON = ("profile", "attributes", "notifications")


_INSERT = (
    "INSERT INTO project_users (id, project_id, user_id, role, user_available, profile,"
    " attributes, invited_by, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
)
_PROJECT_USER = "SELECT * FROM project_users pu WHERE project_id = $1 AND id = $2"
_OWNERS = "SELECT COUNT(*) FROM project_users WHERE project_id = $1 AND role = 'owner'"
_MEMBERSHIP = "SELECT * FROM project_users pu WHERE project_id = $1 AND user_id = $2"


async def insert_project_user(
    q: Queries,
    *,
    id: str,
    project_id: str,
    user_id: str,
    role: str,
    now: int,
    profile: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    user_available: bool = True,
    invited_by: str | None = None,
    if_absent: bool = False,
) -> bool:
    """Insert the membership; True if inserted. With ``if_absent`` an existing membership of
    the user (one a concurrent transaction just committed) is left alone and False returned."""
    inserted = await q.execute(
        _INSERT + " ON CONFLICT (project_id, user_id) DO NOTHING" if if_absent else _INSERT,
        id,
        project_id,
        user_id,
        role,
        int(user_available),
        encode(profile or {}),
        encode(attributes or {}),
        invited_by,
        now,
    )
    return inserted == 1


async def queue_new_visitor(
    q: Queries,
    *,
    id: str,
    project_id: str,
    user_id: str,
    profile: dict[str, Any],
    attributes: dict[str, Any],
    now: int,
) -> None:
    """A guest membership for a visitor id this server just drew (so no other row can hold
    it), written with ``q.execute_later``: nothing reads its outcome."""
    await q.execute_later(
        _INSERT, id, project_id, user_id, "guest", 1, encode(profile), encode(attributes), None,
        now,
    )


async def get_membership(
    q: Queries, project_id: str, user_id: str, *, lock: bool = False
) -> ProjectUserRecord | None:
    return await fetch_record(
        q, ProjectUserRecord,
        _MEMBERSHIP + row_lock(q, "pu", lock),
        project_id,
        user_id,
        json=_JSON,
    )


def _visitor_member_sql(prefix: str, user: int, jti: int) -> str:
    """The visitor's membership, the ``auth_info`` its session holds now and whether it has a
    contact, each column named ``prefix`` + its name: the project is ``$1``, the visitor
    ``$user``, the session ``$jti``.

    The session is a subquery, not a ``LEFT JOIN sessions s ON s.jti = $jti``: SQLite costs
    such a join by its statistics, and with statistics taken while the sessions table was
    nearly empty (an ``ANALYZE`` run early in a deployment's life) it scanned every session
    for each first message instead of looking the key up. A subquery's lookup by its key is
    one row whatever the statistics say (docs/performance.md)."""
    columns = ", ".join(f"pu.{column} AS {prefix}{column}" for column in _VISITOR_COLUMNS)
    return (
        f"SELECT {columns},"  # noqa: S608
        f" (SELECT s.auth_info FROM sessions s WHERE s.jti = ${jti})"
        f" AS {prefix}session_auth_info,"
        f" EXISTS (SELECT 1 FROM leads l WHERE l.project_id = $1 AND l.lead_id = ${user})"
        f" AS {prefix}has_lead FROM project_users pu"
        f" WHERE pu.project_id = $1 AND pu.user_id = ${user}"
    )


_VISITOR_COLUMNS = tuple(ProjectUserRecord.__annotations__)
_VISITOR_MEMBER = _visitor_member_sql("", 2, 3)
# The same, its columns prefixed (``member__``) so that a read of something else can carry it
# in the same row (the visitor $3, its session $4): requests.read_conversation_or_member.
_AHEAD = "member__"
VISITOR_MEMBER_AHEAD = _visitor_member_sql(_AHEAD, 3, 4)
_AHEAD_NAMES = tuple(
    f"{_AHEAD}{column}" for column in (*_VISITOR_COLUMNS, "session_auth_info", "has_lead"))


def _visitor_member(row: Row) -> VisitorMemberRecord:
    row["has_lead"] = bool(row["has_lead"])  # SQLite answers 0 or 1
    return cast(VisitorMemberRecord, decode(row, (*_JSON, "session_auth_info")))


async def get_visitor_membership(
    q: Queries, project_id: str, user_id: str, jti: str
) -> VisitorMemberRecord | None:
    """The visitor's membership and, in the same read, the ``auth_info`` its session ``jti``
    holds now (what the session proves may have grown, an e-mail code, since it was signed)
    and whether the visitor has a contact."""
    row = await q.fetch_one(_VISITOR_MEMBER, project_id, user_id, jti)
    return None if row is None else _visitor_member(row)


def visitor_member_ahead(row: Row) -> VisitorMemberRecord | None:
    """The membership ``VISITOR_MEMBER_AHEAD`` read into ``row`` (its columns taken out of
    it), as ``get_visitor_membership`` answers it; None when there was none."""
    member = {name[len(_AHEAD):]: row.pop(name) for name in _AHEAD_NAMES}
    return None if member["id"] is None else _visitor_member(member)


async def refresh_customer(
    q: Queries,
    *,
    project_id: str,
    user_id: str,
    profile: dict[str, Any],
    attributes: dict[str, Any],
    now: int,
    then: Sequence[NewRow],
) -> bool:
    """Set a returning customer's verified ``profile`` and ``attributes`` on its membership
    and insert the rows ``then``, if ``user_id`` is a customer (role ``user``) of the project
    whose visitor has no contact (lead): False, with nothing written, for anyone else (not
    a member yet, another kind of user, a customer with a contact to bring up to date).

    The statement decides on the rows as it finds them, with nothing read before it; the
    transaction's last statement (``rows.update_then_insert``).
    """
    args = (project_id, user_id, encode(profile), encode(attributes), now)
    return await update_then_insert(q, _REFRESH_CUSTOMER, args, then) is not None


def customer_change(
    member_id: str, *, profile: dict[str, Any], attributes: dict[str, Any], now: int
) -> RowChange:
    """What a customer's sign-in sets on its membership (as ``refresh_customer`` does)."""
    return RowChange("project_users", _CUSTOMER_COLUMNS, "id",
                     (encode(profile), encode(attributes), now, member_id))


_CUSTOMER_COLUMNS = ("profile", "attributes", "updated_at")
_REFRESH_CUSTOMER = (
    "UPDATE project_users SET profile = $3, attributes = $4, updated_at = $5"
    " WHERE project_id = $1 AND user_id = $2 AND role = 'user' AND NOT EXISTS"
    " (SELECT 1 FROM leads l WHERE l.project_id = $1 AND l.lead_id = $2) RETURNING id"
)


async def get_member_by_email(q: Queries, project_id: str, email: str) -> ProjectUserRecord | None:
    """The membership of the agent account with ``email``, if it is in the project."""
    return await fetch_record(
        q, ProjectUserRecord,
        # The account by its e-mail, then its membership by (project, user): both by key.
        f"SELECT pu.* FROM {by_key(q.dialect, 'users', 'u', 2)}"  # noqa: S608
        f" JOIN {by_key(q.dialect, 'project_users', 'pu', 2)} ON pu.user_id = u.id"
        " WHERE pu.project_id = $1 AND u.email = $2",
        project_id,
        email,
        json=_JSON,
    )


async def get_project_user(
    q: Queries, project_id: str, project_user_id: str, *, lock: bool = False
) -> ProjectUserRecord | None:
    return await fetch_record(
        q, ProjectUserRecord,
        _PROJECT_USER + row_lock(q, "pu", lock),
        project_id,
        project_user_id,
        json=_JSON,
    )


async def list_agents(
    q: Queries, project_id: str, *, available_only: bool = False
) -> list[AgentMemberRecord]:
    sql = (
        "SELECT pu.*, u.email AS user_email, u.firstname AS user_firstname,"  # noqa: S608
        " u.lastname AS user_lastname"
        # The agents by their role, not every visitor's membership; their accounts by key.
        f" FROM {indexed(q.dialect, 'project_users pu', 'project_users_by_role')}"
        f" JOIN {by_key(q.dialect, 'users', 'u')} ON u.id = pu.user_id"
        " WHERE pu.project_id = $1 AND pu.role IN ('owner', 'admin', 'agent')"
    )
    if available_only:
        sql += " AND pu.user_available = 1"
    return await fetch_records(
        q, AgentMemberRecord, sql + " ORDER BY pu.created_at", project_id, json=_JSON
    )


class RoutingCandidate(TypedDict):
    """What routing weighs of an available agent (``available_agents``)."""

    user_id: str
    max_assigned_chat: int | None
    created_at: int


async def available_agents(q: Queries, project_id: str) -> list[RoutingCandidate]:
    """The project's available agents (owners, admins and agents), oldest membership first."""
    return await fetch_records(
        q, RoutingCandidate,
        "SELECT user_id, max_assigned_chat, created_at FROM project_users"
        " WHERE project_id = $1 AND role IN ('owner', 'admin', 'agent') AND user_available = 1"
        " ORDER BY created_at",
        project_id,
    )


async def update_project_user(
    q: Queries,
    project_user_id: str,
    *,
    now: int,
    role: str | None = None,
    user_available: bool | None = None,
    max_assigned_chat: int | None = None,
    profile: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    presence_away: bool | None = None,
    notifications: dict[str, Any] | None = None,
    later: bool = False,
) -> None:
    """Set the given fields (None: unchanged). ``max_assigned_chat`` -1 removes the maximum.
    With ``later`` the update is queued (``Queries.execute_later``): for a row the caller
    holds locked and writes nothing else to before its commit."""
    await (q.execute_later if later else q.execute)(
        "UPDATE project_users SET"
        " role = COALESCE($2, role),"
        " user_available = COALESCE($3, user_available),"
        " max_assigned_chat = CASE WHEN $4 = -1 THEN NULL"
        " ELSE COALESCE($4, max_assigned_chat) END,"
        " profile = COALESCE($5, profile),"
        " attributes = COALESCE($6, attributes),"
        " updated_at = $7,"
        " presence_away = COALESCE($8, presence_away),"
        " notifications = COALESCE($9, notifications)"
        " WHERE id = $1",
        project_user_id,
        role,
        None if user_available is None else int(user_available),
        max_assigned_chat,
        None if profile is None else encode(profile),
        None if attributes is None else encode(attributes),
        now,
        None if presence_away is None else int(presence_away),
        None if notifications is None else encode(notifications),
    )


async def delete_project_user(q: Queries, project_user_id: str) -> None:
    await q.execute("DELETE FROM project_users WHERE id = $1", project_user_id)


async def count_owners(q: Queries, project_id: str) -> int:
    return int(await q.fetch_value(_OWNERS, project_id))


async def list_agent_memberships(
    q: Queries, user_id: str, *, available: bool | None = None, away: bool | None = None,
    lock: bool = False,
) -> list[ProjectUserRecord]:
    """The agent's memberships in every project, optionally only the (un)available ones or
    those the server holds away; locked with ``lock``, in a stable order."""
    sql = (
        "SELECT * FROM project_users pu WHERE user_id = $1"
        " AND role IN ('owner', 'admin', 'agent')"
    )
    args: list[Any] = [user_id]
    if available is not None:
        args.append(int(available))
        sql += f" AND user_available = ${len(args)}"
    if away is not None:
        args.append(int(away))
        sql += f" AND presence_away = ${len(args)}"
    return await fetch_records(
        q, ProjectUserRecord, sql + " ORDER BY project_id" + row_lock(q, "pu", lock), *args,
        json=_JSON,
    )
