"""Requests (conversations). Reads join the requester and the lead, which every view shows."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, cast

from frontdesk.auth.tiers import tier_of_auth_info
from frontdesk.jsonutil import loads
from frontdesk.statuses import RequestStatus
from frontdesk.storage.database import (
    DIALECTS,
    Dialect,
    NothingWritten,
    Queries,
    Row,
    by_key,
    row_lock,
)
from frontdesk.storage.leads import (
    LEAD_CHANGES,
    LEAD_JSON,
    LEAD_NULLABLE,
    ContactRaced,
    LeadRecord,
)
from frontdesk.storage.messages import MessageRecord, new_message_row
from frontdesk.storage.project_users import (
    VISITOR_MEMBER_AHEAD,
    VisitorMemberRecord,
    visitor_member_ahead,
)
from frontdesk.storage.read_markers import UNREAD_COUNT, marker_join
from frontdesk.storage.rows import (
    count_matching,
    decode,
    encode,
    like_pattern,
    unchanged,
    update_then_insert,
)

_JSON = (
    "participants",
    "attributes",
    "tags",
    "visitor_attribute_keys",
    "requester_profile",
    "requester_attributes",
    "notes",
)


class NoteRecord(TypedDict):
    """One private note, as ``requests.notes`` keeps it (a JSON list, oldest first)."""

    id: str
    text: str
    created_by: str  # the author's account id
    created_at: int
    mentions: list[str]  # account ids its @names notified


class RequestRecord(TypedDict):
    """A row of ``requests`` joined with its requester's membership and its lead."""

    id: str
    project_id: str
    request_id: str
    requester_id: str
    requester_user_id: str
    lead_ref: str | None
    department_id: str | None
    status: int
    participants: list[str]
    assignee: str | None
    first_text: str
    last_text: str
    attributes: dict[str, Any]
    visitor_attribute_keys: list[str]
    tags: list[Any]
    is_authenticated: int
    channel: str
    source_page: str | None
    language: str | None
    user_agent: str | None
    rating: int | None
    rating_message: str | None
    closed_at: int | None
    closed_by: str | None
    created_at: int
    updated_at: int
    # Grows by one with every change, in commit order (realtime events carry it).
    version: int
    # Agents' private notes, oldest first; never in what a visitor reads.
    notes: list[NoteRecord]
    # The newest message: who wrote it ("visitor" or "agent"), its id and time (epoch ms).
    last_message_id: str | None
    last_message_at: int | None
    last_sender_kind: str | None
    # How many of its messages the visitor wrote (unread counts: storage.read_markers).
    visitor_messages: int
    # The tier its department requires while its visitor is below it: held from agents.
    held_tier: str | None
    requester_role: str
    requester_profile: dict[str, Any]
    requester_attributes: dict[str, Any]
    requester_created_at: int
    lead: LeadRecord | None
    # Lists read for an agent: the visitor's messages after that agent's read marker.
    unread: NotRequired[int]

# Every column of LeadRecord, prefixed so that _split can move them into row["lead"].
_LEAD_PREFIXED = tuple((f"lead__{column}", column) for column in LeadRecord.__annotations__)
_LEAD_COLUMNS = ", ".join(f"l.{column} AS {prefixed}" for prefixed, column in _LEAD_PREFIXED)


def _requester_and_lead(dialect: Dialect) -> str:
    """The joins of a conversation's requester and contact, each looked up by its key."""
    return (
        f" JOIN {by_key(dialect, 'project_users', 'pu')} ON pu.id = r.requester_id"
        f" LEFT JOIN {by_key(dialect, 'leads', 'l')} ON l.id = r.lead_ref"
    )


def _select(dialect: Dialect, requests: str = "requests r") -> str:
    return (
        "SELECT r.*, pu.role AS requester_role, pu.profile AS requester_profile,"  # noqa: S608
        " pu.attributes AS requester_attributes, pu.created_at AS requester_created_at, "
        f"{_LEAD_COLUMNS} FROM {requests}{_requester_and_lead(dialect)}"
    )


_SELECTS: dict[Dialect, str] = {dialect: _select(dialect) for dialect in DIALECTS}
# One conversation by its request id, the requests table's second key (UNIQUE request_id).
_BY_REQUEST_ID: dict[Dialect, str] = {
    dialect: _select(dialect, by_key(dialect, "requests", "r", 2))
    + " WHERE r.project_id = $1 AND r.request_id = $2"
    for dialect in DIALECTS
}


def _split(row: Row | None) -> Row | None:
    """Move the joined ``lead__*`` columns into ``row['lead']`` (None when there is no lead)."""
    if row is None:
        return None
    pop = row.pop
    pop("auth_tier")  # the list's copy of what attributes.senderAuthInfo says (m0022)
    lead = {column: pop(prefixed) for prefixed, column in _LEAD_PREFIXED}
    row["lead"] = decode(lead, LEAD_JSON) if lead["id"] else None
    return decode(row, _JSON)


@dataclass(frozen=True)
class ListPosition:
    """A place in the list's order: the last row a page showed."""

    updated_at: int
    id: str


@dataclass(frozen=True)
class RequestFilter:
    statuses: tuple[int, ...] | None = None
    max_status: int | None = None  # exclusive upper bound, e.g. CLOSED for "open"
    participant: str | None = None
    requester_user_id: str | None = None
    visible_to: str | None = None  # a visitor: requests it started or attached to its contact
    authenticated: bool | None = None
    text: str | None = None
    lead_ref: str | None = None
    updated_since: int | None = None  # epoch ms, inclusive
    tag: str | None = None  # carries a tag of this name (a bare name or {tag, …})
    held: bool | None = None  # False: only conversations agents may see (none held back)


async def insert_request(
    q: Queries,
    *,
    id: str,
    project_id: str,
    request_id: str,
    requester_id: str,
    requester_user_id: str,
    lead_ref: str | None,
    department_id: str | None,
    status: int,
    participants: list[str],
    first_text: str,
    attributes: dict[str, Any],
    visitor_attribute_keys: list[str],
    is_authenticated: bool,
    channel: str,
    source_page: str | None,
    language: str | None,
    user_agent: str | None,
    now: int,
    first_message: Mapping[str, Any],
    held_tier: str | None = None,
    message: MessageRecord | None = None,
    last: bool = False,
) -> bool:
    """Insert unless the request id exists already (a concurrent first message); True if new.
    With ``message``, the message is stored by the same statement either way (on PostgreSQL
    one round trip; a conversation is found by its id, which the message carries).

    With ``last`` the insert may be the transaction's last statement (``write_last_guard``):
    the caller writes nothing more if it is new. On PostgreSQL, with nothing sent before
    it, it is then one statement with the writes queued before it (the contact, the
    message), all of which land only if the conversation is new; if it is not, nothing was
    written and ``ConversationRaced`` is raised (the transaction is over).

    The row is stored as its first message's update would leave it, at version 1:
    ``first_message`` holds the columns that message, sent at ``now``, changes
    (``last_text``, ``last_message_id``, ``last_message_at``, ``last_sender_kind``,
    ``visitor_messages``). One statement where an insert and an update took two
    (``with_first_message``).
    """
    if message is not None:
        row = new_message_row(message)
        await q.execute_later(row.insert(), *row.values)  # leaves with the insert below
    args = (
        id,
        project_id,
        request_id,
        requester_id,
        requester_user_id,
        lead_ref,
        department_id,
        status,
        encode(participants),
        first_text,
        encode(attributes),
        int(is_authenticated),
        channel,
        source_page,
        language,
        user_agent,
        now,
        participants[0] if participants else None,
        encode(visitor_attribute_keys),
        held_tier,
        tier_of_auth_info(attributes.get("senderAuthInfo")),
        first_message["last_text"],
        first_message["last_message_id"],
        first_message["last_message_at"],
        first_message["last_sender_kind"],
        first_message["visitor_messages"],
        1,
    )
    if q.dialect == "postgresql":  # with what is queued: one statement, one round trip
        write = q.write_last_guard if last else q.write_returning
        try:
            return await write(f"{_INSERT_REQUEST} RETURNING 1", *args) is not None
        except NothingWritten:
            raise ConversationRaced(request_id) from None
        except Exception as exc:
            # The contact queued beside it (leads.insert_lead(queued=True)) was not inserted:
            # a concurrent transaction made the visitor's contact first.
            if (getattr(exc, "sqlstate", None) == _FOREIGN_KEY_VIOLATION
                    and getattr(exc, "constraint_name", None) == "requests_lead_ref_fkey"):
                raise ContactRaced(lead_ref) from exc
            raise
    return await q.execute(_INSERT_REQUEST, *args) == 1


_FOREIGN_KEY_VIOLATION = "23503"


class ConversationRaced(Exception):
    """A conversation inserted as its transaction's last statement (``insert_request(last=
    True)``) was made first by a concurrent transaction: nothing was written, and the
    transaction is over."""


_INSERT_REQUEST = (
    "INSERT INTO requests (id, project_id, request_id, requester_id, requester_user_id,"
    " lead_ref, department_id, status, participants, first_text, attributes,"
    " is_authenticated, channel, source_page, language, user_agent, created_at, updated_at,"
    " assignee, visitor_attribute_keys, held_tier, auth_tier, last_text, last_message_id,"
    " last_message_at, last_sender_kind, visitor_messages, version)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
    " $17, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    " ON CONFLICT (request_id) DO NOTHING"
)


def inserted_row(
    fields: Mapping[str, Any], requester: Mapping[str, Any], lead: LeadRecord | None
) -> RequestRecord:
    """The joined row of a request this transaction just inserted with ``insert_request(q,
    **fields)``, as ``get_request`` would read it: the new row's column defaults, the
    requester's membership row and the lead row (``lead_ref``'s) as the caller holds them."""
    participants = fields["participants"]
    return {
        "id": fields["id"],
        "project_id": fields["project_id"],
        "request_id": fields["request_id"],
        "requester_id": fields["requester_id"],
        "requester_user_id": fields["requester_user_id"],
        "lead_ref": fields["lead_ref"],
        "department_id": fields["department_id"],
        "status": fields["status"],
        "participants": participants,
        "assignee": participants[0] if participants else None,
        "first_text": fields["first_text"],
        "last_text": fields["first_text"],
        "attributes": fields["attributes"],
        "visitor_attribute_keys": fields["visitor_attribute_keys"],
        "tags": [],
        "is_authenticated": int(fields["is_authenticated"]),
        "channel": fields["channel"],
        "source_page": fields["source_page"],
        "language": fields["language"],
        "user_agent": fields["user_agent"],
        "rating": None,
        "rating_message": None,
        "closed_at": None,
        "closed_by": None,
        "created_at": fields["now"],
        "updated_at": fields["now"],
        "version": 0,
        "notes": [],
        "last_message_id": None,
        "last_message_at": None,
        "last_sender_kind": None,
        "visitor_messages": 0,
        "held_tier": fields.get("held_tier"),
        "requester_role": requester["role"],
        "requester_profile": requester["profile"],
        "requester_attributes": requester["attributes"],
        "requester_created_at": requester["created_at"],
        "lead": lead if fields["lead_ref"] is not None else None,
    }


def with_first_message(row: RequestRecord, first_message: Mapping[str, Any]) -> RequestRecord:
    """``inserted_row``'s row as ``insert_request`` stored it with ``first_message``."""
    return cast(RequestRecord, {**row, **first_message, "version": 1})


async def get_request(
    q: Queries, project_id: str, request_id: str, *, lock: bool = False
) -> RequestRecord | None:
    """The joined request; with ``lock`` (inside a transaction) its requests row stays locked
    against other writers until the transaction ends (the joined rows are not locked)."""
    sql = _BY_REQUEST_ID[q.dialect] + row_lock(q, "r", lock)
    return cast("RequestRecord | None", _split(await q.fetch_one(sql, project_id, request_id)))


@dataclass(frozen=True)
class StoredConversation:
    """A conversation's joined row as the database holds it (JSON columns as text): what a
    process keeps of the conversations its visitors write in (``conversation_cache``), and
    what ``append_message`` checks the stored rows against before it writes from a kept copy.
    """

    stored: Row
    # The conversation as presented to clients (``models.requests.present_request``), kept
    # with the copy once presented, so that a message presents only what it changes.
    # Nobody changes it: each message's answer is a new dict that shares the rest.
    presented: Mapping[str, object] | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.stored["project_id"], self.stored["request_id"])

    @property
    def version(self) -> int:
        return int(self.stored["version"])

    def record(self) -> RequestRecord:
        """The conversation decoded: objects of its own, which the caller may change."""
        return cast(RequestRecord, _split(dict(self.stored)))

    def after(
        self, fields: Mapping[str, Any], *, now: int, version: int,
        presented: Mapping[str, object] | None = None,
    ) -> StoredConversation:
        """As it is stored once ``append_message`` wrote ``fields`` (plain columns) with ``now``
        and got ``version``; ``presented``, as presented then."""
        return StoredConversation({**self.stored, **fields, "updated_at": now,
                                   "version": version}, presented)

    def visible_part(self) -> Row:
        """What ``auth.permissions.can_see_request`` reads of the conversation, without
        decoding the rest."""
        stored = self.stored
        lead = {"lead_id": stored["lead__lead_id"]} if stored["lead__id"] is not None else None
        return {"project_id": stored["project_id"], "requester_user_id":
                stored["requester_user_id"], "held_tier": stored["held_tier"], "lead": lead}


async def read_conversation_or_member(
    q: Queries, project_id: str, request_id: str, user_id: str, jti: str
) -> tuple[StoredConversation | None, VisitorMemberRecord | None]:
    """The joined request as stored, read as ``Queries.fetch_ahead`` reads (on PostgreSQL
    before ``BEGIN``, without a lock); on PostgreSQL, when there is none, in the same read,
    visitor ``user_id``'s membership with what its session ``jti`` proves, as
    ``project_users.get_visitor_membership`` answers (a first message needs it next: a round
    trip saved). SQLite has no round trip to save, and its wider row cost a first message
    more than the second read (docs/performance.md): the membership is None there."""
    if q.dialect != "postgresql":
        stored = await q.fetch_ahead(_BY_REQUEST_ID[q.dialect], project_id, request_id)
        return (None if stored is None else StoredConversation(stored)), None
    stored = await q.fetch_ahead(_CONVERSATION_OR_MEMBER, project_id, request_id, user_id, jti)
    assert stored is not None  # one row, whatever there is
    member = visitor_member_ahead(stored)
    return (None, member) if stored["id"] is None else (StoredConversation(stored), None)


# The conversation if there is one, else the membership: one row either way (PostgreSQL).
_CONVERSATION_OR_MEMBER = (
    f"SELECT c.*, m.* FROM (SELECT 1 AS one) o"  # noqa: S608
    f" LEFT JOIN ({_BY_REQUEST_ID['postgresql']}) c ON 1 = 1"
    f" LEFT JOIN ({VISITOR_MEMBER_AHEAD}) m ON c.id IS NULL"
)


async def list_requests(
    q: Queries,
    project_id: str,
    filt: RequestFilter,
    *,
    limit: int,
    offset: int = 0,
    after: ListPosition | None = None,
    count_cap: int = 0,
    reader: str | None = None,
    inbox: bool = False,
) -> tuple[list[Any], int]:
    """A page of requests, newest activity first (``updated_at``, then ``id``, descending), and
    how many match in all: joined ``RequestRecord`` rows, or with ``inbox`` the narrower
    ``InboxRecord`` rows (the columns the agents' list shows).

    ``after`` starts the page past that position (keyset pagination: an index range, however
    deep); ``offset`` skips rows instead. With ``count_cap`` above 0 counting stops past that
    many: a count of ``count_cap + 1`` means "more than ``count_cap``". The count ignores
    ``after`` and ``offset``. With ``reader`` (an agent's user id) each row carries ``unread``,
    counted in this one query.
    """
    where = ["r.project_id = $1"]
    args: list[Any] = [project_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filt.statuses:
        where.append(f"r.status IN ({', '.join(arg(s) for s in filt.statuses)})")
    if filt.max_status is not None:
        # A literal, not a parameter: only then may the planners read the open queue's
        # partial index (migration m0020), whose condition is ``status < 1000``.
        where.append(f"r.status < {int(filt.max_status):d}")
    if filt.participant is not None:
        where.append(f"r.participants LIKE {arg(like_pattern(chr(34) + filt.participant))}")
    if filt.requester_user_id is not None:
        where.append(f"r.requester_user_id = {arg(filt.requester_user_id)}")
    source = "requests r"
    if filt.visible_to is not None:
        # The ids of the visitor's own conversations and of those attached to its contact,
        # each from its index, then their rows: as one OR on the requests, both planners
        # walked the project's whole history (a CROSS JOIN keeps SQLite from reordering).
        visitor = arg(filt.visible_to)
        mine = (
            f"SELECT id FROM requests WHERE project_id = $1 AND requester_user_id = {visitor}"  # noqa: S608
            f" UNION SELECT q.id FROM {by_key(q.dialect, 'leads', 'l', 2)}"
            " JOIN requests q ON q.lead_ref = l.id"
            f" WHERE l.project_id = $1 AND l.lead_id = {visitor}"
        )
        source = f"({mine}) AS mine CROSS JOIN {by_key(q.dialect, 'requests', 'r')}"
        where.append("r.id = mine.id")
    if filt.authenticated is not None:
        where.append(f"r.is_authenticated = {arg(int(filt.authenticated))}")
    if filt.lead_ref is not None:
        where.append(f"r.lead_ref = {arg(filt.lead_ref)}")
    if filt.held is not None:
        where.append("r.held_tier IS NOT NULL" if filt.held else "r.held_tier IS NULL")
    if filt.updated_since is not None:
        where.append(f"r.updated_at >= {arg(filt.updated_since)}")
    if filt.tag is not None:
        where.append(_carries_tag(q, arg(filt.tag)))
    if filt.text:
        pattern = arg(like_pattern(filt.text))
        where.append(
            f"(lower(r.first_text) LIKE {pattern} ESCAPE '\\'"
            f" OR lower(r.last_text) LIKE {pattern} ESCAPE '\\'"
            f" OR lower(COALESCE(l.fullname, '')) LIKE {pattern} ESCAPE '\\'"
            f" OR lower(COALESCE(l.email, '')) LIKE {pattern} ESCAPE '\\')"
        )
    clause = " AND ".join(where)
    # Only the text filter reads lead columns; without it the count stays inside the
    # requests indexes (an index-only range scan) instead of joining every matching row.
    joined = ""
    if filt.text:
        joined = f" LEFT JOIN {by_key(q.dialect, 'leads', 'l')} ON l.id = r.lead_ref"
    # SQLite has no statistics (nothing runs ANALYZE), and without them it read the open
    # queue through requests_by_status and sorted every open conversation for each page
    # (joins included); it is told which index holds exactly these rows, in the page's order.
    pinned = q.dialect == "sqlite" and _is_open_queue(filt)
    table = "requests r INDEXED BY requests_open_queue" if pinned else source
    total = await count_matching(
        q, f"SELECT 1 FROM {table}{joined} WHERE {clause}", args, count_cap  # noqa: S608
    )
    if after is not None:
        # A row value: both planners take it as one range on the (…, updated_at, id) indexes,
        # which the ORDER BY below then reads backwards (an OR spelled out bounds updated_at only).
        clause += f" AND (r.updated_at, r.id) < ({arg(after.updated_at)}, {arg(after.id)})"
    order = "ORDER BY r.updated_at DESC, r.id DESC"
    # The page's ids first, from the requests indexes alone; the joins and the unread count
    # then run for those rows only, not for every row an OFFSET skips. LIMIT is a literal
    # (an integer), and so is a first page's or a cursor's missing OFFSET: as parameters,
    # PostgreSQL could not cost a generic plan for them and planned the dashboard's page anew
    # on every call (about half its time). A page number's OFFSET stays a parameter: one
    # statement for every page of a walk, planned for the offset it is given.
    # The open queue's first page (or one after a cursor) is walked in the page's order
    # instead: its index's rows are joined only as the page keeps them, where the ids first
    # cost SQLite a materialised subquery and a second sort, and PostgreSQL, with a small
    # queue and no history, a hash join of the ids to every conversation read in turn
    # (twice the time of the same page with 100,000 closed conversations stored).
    walked = not offset and (pinned or (q.dialect == "postgresql" and _is_open_queue(filt)))
    unread = f", {UNREAD_COUNT} AS unread" if reader is not None else ""
    select = (_INBOX_SELECTS if inbox else _SELECTS)[q.dialect].replace(
        " FROM requests r", f"{unread} FROM {table if walked else 'requests r'}", 1)
    if reader is not None:
        select += marker_join(arg(reader))
    if walked:
        sql = f"{select} WHERE {clause} {order} LIMIT {int(limit):d}"
    else:
        skip = f" OFFSET {arg(offset)}" if offset else ""
        page = (
            f"SELECT r.id FROM {table}{joined} WHERE {clause} {order}"  # noqa: S608
            f" LIMIT {int(limit):d}{skip}"
        )
        sql = f"{select} JOIN ({page}) AS page ON page.id = r.id {order}"
    if inbox:
        return [_inbox_record(r) for r in await q.fetch_tuples(sql, *args)], total
    rows = await q.fetch_all(sql, *args)
    return [cast(RequestRecord, _split(r)) for r in rows], total


def _is_open_queue(filt: RequestFilter) -> bool:
    """Whether ``filt`` is the agents' open queue, the rows of the partial index
    ``requests_open_queue`` (m0020), narrowed by no column that has an index of its own."""
    return (
        filt.max_status == RequestStatus.CLOSED
        and filt.held is False
        and not filt.statuses
        and filt.requester_user_id is None
        and filt.visible_to is None
        and filt.lead_ref is None
    )


class InboxRecord(TypedDict):
    """A request as the agents' list shows it: the columns of its own that the list draws,
    the requester's name and role, the lead's name and e-mail proof, and the unread count."""

    id: str
    request_id: str
    status: int
    first_text: str
    last_text: str
    tags: list[Any]
    is_authenticated: int
    created_at: int
    updated_at: int
    tier: str  # what attributes.senderAuthInfo records (requests.auth_tier)
    # attributes.senderAuthInfo.emailVerified, read for an email_verified row only
    email_verified: dict[str, Any] | None
    requester_user_id: str
    requester_role: str
    requester_profile: dict[str, Any]
    lead_ref: str | None
    lead_id: str | None  # the lead's visitor id
    lead_fullname: str | None
    lead_email: str | None
    lead_provenance: dict[str, Any] | None  # read for an email_verified row only
    unread: NotRequired[int]


# Unpacked by _inbox_record in this order: _INBOX_WIDTH columns, then the unread count (with
# a reader).
_INBOX_WIDTH = 19
_INBOX_SELECT = (
    "SELECT r.id, r.request_id, r.status, r.first_text, r.last_text, r.tags,"
    " r.is_authenticated, r.created_at, r.updated_at, r.auth_tier,"
    " CASE WHEN r.auth_tier = 'email_verified' THEN {email_verified} END,"
    " r.requester_user_id, pu.role AS requester_role, pu.profile AS requester_profile,"
    " r.lead_ref, l.lead_id AS lead_id, l.fullname AS lead_fullname, l.email AS lead_email,"
    " CASE WHEN r.auth_tier = 'email_verified' THEN l.provenance END"
    " FROM requests r{joins}"
)
# Only an email_verified row reads its attributes, for the address senderAuthInfo proves:
# the rest (whatever the visitor and agents wrote) is neither shown in the list nor parsed.
_INBOX_SELECTS: dict[Dialect, str] = {
    "sqlite": _INBOX_SELECT.format(
        email_verified="json_extract(r.attributes, '$.senderAuthInfo.emailVerified')",
        joins=_requester_and_lead("sqlite")),
    "postgresql": _INBOX_SELECT.format(
        email_verified="(r.attributes::json #> '{{senderAuthInfo,emailVerified}}')::text",
        joins=_requester_and_lead("postgresql")),
}


def _inbox_record(row: Sequence[Any]) -> InboxRecord:
    """A row of ``_INBOX_SELECT`` (a sequence in its column order) as an ``InboxRecord``, its
    JSON columns decoded: the list's rows skip a dict per row and a decoding loop."""
    (id_, request_id, status, first_text, last_text, tags, is_authenticated, created_at,
     updated_at, tier, email_verified, requester_user_id, requester_role, requester_profile,
     lead_ref, lead_id, lead_fullname, lead_email, lead_provenance) = row[:_INBOX_WIDTH]
    record: InboxRecord = {
        "id": id_,
        "request_id": request_id,
        "status": status,
        "first_text": first_text,
        "last_text": last_text,
        "tags": [] if tags == "[]" else loads(tags),
        "is_authenticated": is_authenticated,
        "created_at": created_at,
        "updated_at": updated_at,
        "tier": tier,
        "email_verified": loads(email_verified),  # NULL unless email_verified
        "requester_user_id": requester_user_id,
        "requester_role": requester_role,
        "requester_profile": loads(requester_profile),
        "lead_ref": lead_ref,
        "lead_id": lead_id,
        "lead_fullname": lead_fullname,
        "lead_email": lead_email,
        "lead_provenance": loads(lead_provenance),
    }
    if len(row) > _INBOX_WIDTH:
        record["unread"] = int(row[_INBOX_WIDTH])
    return record


def _carries_tag(q: Queries, name: str) -> str:
    """A condition: the request's ``tags`` (a JSON array of names and ``{tag, color}``)
    holds the tag named by the parameter ``name``."""
    if q.dialect == "postgresql":
        return (
            f"(r.tags::jsonb @> jsonb_build_array({name}::text)"
            f" OR r.tags::jsonb @> jsonb_build_array(jsonb_build_object('tag', {name}::text)))"
        )
    return (
        "EXISTS (SELECT 1 FROM json_each(r.tags) t WHERE CASE t.type"  # noqa: S608
        f" WHEN 'text' THEN t.value WHEN 'object' THEN json_extract(t.value, '$.tag') END = {name})"
    )


async def update_request(q: Queries, id: str, *, now: int, **fields: Any) -> int:
    """Set the given columns (JSON columns are encoded) and ``updated_at``; the request's new
    version.

    Every update adds one to ``version``: the row is locked from this update to the commit, so
    versions count a conversation's changes in commit order (events carry it).
    """
    sql, args = _update(id, now, fields)
    # Writes queued before (a new message) may leave with it: it reads no row they write.
    return int(await q.write_returning(sql, *args))


async def append_message(
    q: Queries,
    message: MessageRecord,
    id: str,
    *,
    version: int,
    requester_user_id: str,
    now: int,
    joined: Row | None = None,
    **fields: Any,
) -> int | None:
    """Store ``message`` and set its conversation's columns, as ``update_request`` does, if
    the conversation (``id``, read without a lock) is still at ``version`` and still its
    requester's (a merge hands conversations over without a new version), and with
    ``joined`` (a ``StoredConversation``'s row) if its requester's membership and its lead
    are still stored as that row has them (they change without a new version of the
    conversation): the new version, or None and nothing written when another change came
    first.

    The transaction's last statement (``rows.update_then_insert``).
    """
    sql, args = _update(id, now, fields, still=(version, requester_user_id))
    if joined is not None:
        sql, args = _still_joined(q, sql, args, joined)
    new_version = await update_then_insert(q, sql, args, [new_message_row(message)])
    return None if new_version is None else int(new_version)


# The columns of the requester's membership that change, and the names _SELECTS give them
# and the lead's changing columns (``leads.LEAD_CHANGES``).
_MEMBERSHIP_CHANGES = ("role", "profile", "attributes")
_MEMBERSHIP_NAMES = tuple(f"requester_{column}" for column in _MEMBERSHIP_CHANGES)
_JOINED_NAMES = _MEMBERSHIP_NAMES + tuple(f"lead__{column}" for column in LEAD_CHANGES)


def _still_joined(
    q: Queries, update: str, args: list[Any], joined: Row
) -> tuple[str, list[Any]]:
    """``update`` (``… WHERE … RETURNING version``) narrowed to a conversation whose
    requester's membership and lead are still stored as ``joined`` has them."""
    with_lead = joined["lead__id"] is not None
    names = _JOINED_NAMES if with_lead else _MEMBERSHIP_NAMES
    return (_still_joined_sql(update, len(args), with_lead, q.dialect),
            [*args, *[joined[name] for name in names]])


@functools.lru_cache(maxsize=64)
def _still_joined_sql(update: str, count: int, with_lead: bool, dialect: str) -> str:
    """``_still_joined``'s statement for ``update`` of ``count`` arguments."""
    where, returning = update.rsplit(" RETURNING ", 1)
    membership = unchanged(dialect, "pu", _MEMBERSHIP_CHANGES, count + 1)
    where += (" AND EXISTS (SELECT 1 FROM project_users pu"  # noqa: S608 - names of this module
              f" WHERE pu.id = requests.requester_id AND {membership})")
    if with_lead:
        lead = unchanged(dialect, "l", LEAD_CHANGES, count + 1 + len(_MEMBERSHIP_CHANGES),
                         LEAD_NULLABLE)
        where += (" AND EXISTS (SELECT 1 FROM leads l"  # noqa: S608 - names of this module
                  f" WHERE l.id = requests.lead_ref AND {lead})")
    else:
        where += " AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = requests.lead_ref)"
    return f"{where} RETURNING {returning}"


def _update(
    id: str, now: int, fields: Mapping[str, Any], *, still: tuple[int, str] | None = None
) -> tuple[str, list[Any]]:
    """The UPDATE of ``update_request`` and its arguments; with ``still`` (a version and a
    requester), only of a row still at that version and of that requester."""
    assignments = []
    args: list[Any] = [id]
    for column, value in fields.items():
        if column not in _UPDATABLE:
            raise ValueError(f"requests.{column} is not updatable")
        if column == "participants":
            args.append(value[0] if value else None)
            assignments.append(f"assignee = ${len(args)}")
        if column == "attributes":  # the tier the list reads stays what senderAuthInfo says
            args.append(tier_of_auth_info(value.get("senderAuthInfo")))
            assignments.append(f"auth_tier = ${len(args)}")
        if column in ("participants", "attributes", "tags", "visitor_attribute_keys", "notes"):
            value = encode(value)
        args.append(value)
        assignments.append(f"{column} = ${len(args)}")
    args.append(now)
    assignments.append(f"updated_at = ${len(args)}")
    assignments.append("version = version + 1")
    where = "id = $1"
    if still is not None:
        args.extend(still)
        where += f" AND version = ${len(args) - 1} AND requester_user_id = ${len(args)}"
    return (
        f"UPDATE requests SET {', '.join(assignments)} WHERE {where} RETURNING version",  # noqa: S608
        args,
    )


_UPDATABLE = frozenset(
    {
        "status",
        "participants",
        "attributes",
        "visitor_attribute_keys",
        "tags",
        "last_text",
        "department_id",
        "rating",
        "rating_message",
        "closed_at",
        "closed_by",
        "lead_ref",
        "notes",
        "last_message_id",
        "last_message_at",
        "last_sender_kind",
        "visitor_messages",
        "held_tier",
        "is_authenticated",
    }
)


async def rating_summary(q: Queries, project_id: str) -> tuple[int, float | None]:
    """How many of the project's conversations are rated, and their mean rating."""
    row = await q.fetch_one(
        "SELECT COUNT(rating) AS rated, AVG(rating) AS mean FROM requests"
        " WHERE project_id = $1 AND rating IS NOT NULL",
        project_id,
    )
    assert row is not None
    mean = row["mean"]
    return int(row["rated"]), None if mean is None else float(mean)


async def request_ids_of_lead(q: Queries, lead_ref: str) -> list[str]:
    rows = await q.fetch_all("SELECT request_id FROM requests WHERE lead_ref = $1", lead_ref)
    return [r["request_id"] for r in rows]


async def delete_requests_of_lead(q: Queries, lead_ref: str) -> None:
    await q.execute("DELETE FROM requests WHERE lead_ref = $1", lead_ref)


async def count_open_assigned(q: Queries, project_id: str, agents: list[str]) -> dict[str, int]:
    """Open assigned conversations per agent (as first participant), for least-busy routing.

    Reads only the index entries of the given agents, never the other conversations.
    """
    if not agents:
        return {}
    placeholders = ", ".join(f"${i + 2}" for i in range(len(agents)))
    rows = await q.fetch_all(
        "SELECT assignee, COUNT(*) AS open_count FROM requests"  # noqa: S608 (placeholders only)
        f" WHERE project_id = $1 AND status = {RequestStatus.ASSIGNED:d}"
        f" AND assignee IN ({placeholders})"
        " GROUP BY assignee",
        project_id,
        *agents,
    )
    return {row["assignee"]: int(row["open_count"]) for row in rows}


async def list_waiting(q: Queries, project_id: str, *, limit: int) -> list[str]:
    """The request ids of the conversations waiting in the queue (unassigned), oldest first;
    not those held back until their visitor reaches their department's tier."""
    rows = await q.fetch_all(
        "SELECT request_id FROM requests WHERE project_id = $1 AND status = $2"
        " AND held_tier IS NULL ORDER BY created_at, id LIMIT $3",
        project_id,
        int(RequestStatus.UNASSIGNED),
        limit,
    )
    return [row["request_id"] for row in rows]


async def open_requests_of_visitor(
    q: Queries, project_id: str, visitor_id: str, *, lock: bool = False
) -> list[RequestRecord]:
    """The visitor's conversations that are not closed, oldest first, locked with ``lock``."""
    rows = await q.fetch_all(
        f"{_SELECTS[q.dialect]} WHERE r.project_id = $1 AND r.requester_user_id = $2"
        f" AND r.status < {RequestStatus.CLOSED:d} ORDER BY r.created_at, r.id"
        f"{row_lock(q, 'r', lock)}",
        project_id,
        visitor_id,
    )
    return [cast(RequestRecord, _split(r)) for r in rows]


async def held_requests_of_department(
    q: Queries, project_id: str, department_id: str, *, lock: bool = False
) -> list[RequestRecord]:
    """The conversations held back for a tier in this department, locked with ``lock``."""
    rows = await q.fetch_all(
        f"{_SELECTS[q.dialect]} WHERE r.project_id = $1 AND r.department_id = $2"
        f" AND r.held_tier IS NOT NULL ORDER BY r.created_at, r.id{row_lock(q, 'r', lock)}",
        project_id,
        department_id,
    )
    return [cast(RequestRecord, _split(r)) for r in rows]
