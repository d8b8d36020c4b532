"""Requests (conversations): creation with routing, assignment, closing, rating, attributes.

Every change goes through one transaction and announces the new state with a RequestChanged
event after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess, access_request
from frontdesk.actions.availability import is_open_for, off_hours_message
from frontdesk.actions.continuity import do_note_closed
from frontdesk.actions.departments import access_department, default_department
from frontdesk.actions.leads import do_find_or_create_lead
from frontdesk.actions.routing import pick_agent, status_for
from frontdesk.actions.system_messages import Subtype, do_post_system_message
from frontdesk.auth.principals import Agent, Visitor
from frontdesk.auth.sender_auth_info import strip_reserved
from frontdesk.auth.tiers import tier_at_least, tier_of_auth_info, tier_of_visitor
from frontdesk.errors import Conflict, Forbidden, NotFound, ValidationFailed
from frontdesk.jsonutil import dumpb
from frontdesk.models import capped_count
from frontdesk.models.ratings import RatingsPublic
from frontdesk.models.requests import RequestPublic, present_inbox_row, present_request
from frontdesk.realtime.events import RequestChanged
from frontdesk.services import Services
from frontdesk.statuses import RequestStatus
from frontdesk.storage import project_users, requests
from frontdesk.storage.database import Transaction
from frontdesk.storage.departments import DepartmentRecord
from frontdesk.storage.messages import MessageRecord
from frontdesk.storage.project_users import VisitorMemberRecord
from frontdesk.storage.projects import ProjectRecord
from frontdesk.storage.requests import ListPosition, RequestFilter, RequestRecord


@dataclass(frozen=True)
class NewRequest:
    """What the first message says about the conversation it opens."""

    request_id: str
    first_text: str
    department_id: str | None
    attributes: dict[str, Any]
    self_reported: dict[str, str]
    source_page: str | None
    language: str | None
    user_agent: str | None
    channel: str
    # The columns the first message changes in its conversation (``messages._changes``),
    # stored with the new row; its time is the conversation's creation time.
    first_message: dict[str, Any]
    # The first message itself when it is final before its conversation exists (it names no
    # file): stored by the same statement as the conversation, or as its first message if a
    # concurrent one created the conversation (``requests.insert_request``).
    message: MessageRecord | None = None


async def do_create_request(
    services: Services, tx: Transaction, access: ProjectAccess, new: NewRequest,
    *, member: VisitorMemberRecord | None = None,
) -> tuple[RequestRecord, bool, DepartmentRecord | None]:
    """Create the request, and the visitor's lead if it has none; route it to an agent,
    unless its department needs a higher tier than the visitor's: then it is held back.

    Precondition: the caller is a visitor of this project and the request id is unused.
    Returns the joined request row (a concurrent creation is reloaded), whether this call
    created it, and the department it was created in. A row this call created is returned
    as it was before its first message (as the CREATE event shows it); it was stored with
    ``new.first_message`` already (``requests.with_first_message``). ``member``: the
    visitor's membership as ``project_users.get_visitor_membership`` read it a moment ago
    (with the conversation's absence), else it is read here; given, a contact it says the
    visitor has not is inserted with the conversation, and ``leads.ContactRaced`` (the
    transaction failed) tells that a concurrent one made it first.
    """
    visitor = access.principal
    assert isinstance(visitor, Visitor)
    project_id = access.project["id"]
    if new.department_id is not None:
        department: DepartmentRecord | None = await access_department(
            services, project_id, new.department_id, tx=tx
        )
    else:
        department = await default_department(services, project_id, tx)
    read_ahead = member is not None
    member = member or await project_users.get_visitor_membership(
        tx, project_id, visitor.visitor_id, visitor.jti
    )
    if member is None:
        raise NotFound("this visitor no longer exists", code="visitor_not_found")
    # Read within the transaction: the session's proof may have grown (an e-mail code) since
    # its principal was cached.
    proof = member["session_auth_info"]
    auth_info = proof if proof is not None else visitor.auth_info
    lead = await do_find_or_create_lead(
        services,
        tx,
        visitor,
        self_reported=new.self_reported,
        auth_info=auth_info,
        seen_absent=not member["has_lead"],
        # Read ahead, the caller takes the locked way on leads.ContactRaced: the contact's
        # insert leaves with the conversation's (on PostgreSQL a round trip less).
        queued=read_ahead,
    )
    tier = tier_of_visitor(visitor.is_authenticated, lead)
    min_tier = department["min_tier"] if department else "anonymous"
    held_tier = None if tier_at_least(tier, min_tier) else min_tier
    # Held back, it reaches no agent: it is routed once its visitor verifies.
    agent = None if held_tier else await pick_agent(
        tx, project_id, department, cache=services.project_cache)
    participants = [agent] if agent else []
    own_attributes = strip_reserved(new.attributes)
    attributes = {**own_attributes, "senderAuthInfo": auth_info}
    fields: dict[str, Any] = dict(
        id=services.ids.object_id(),
        project_id=project_id,
        request_id=new.request_id,
        requester_id=member["id"],
        requester_user_id=visitor.visitor_id,
        lead_ref=lead["id"],
        department_id=department["id"] if department else None,
        status=status_for(participants),
        participants=participants,
        first_text=new.first_text,
        attributes=attributes,
        visitor_attribute_keys=sorted(own_attributes),
        is_authenticated=visitor.is_authenticated,
        channel=new.channel,
        source_page=new.source_page,
        language=new.language,
        user_agent=new.user_agent,
        now=new.first_message["last_message_at"],
        held_tier=held_tier,
    )
    # With no system line to follow (_system_lines), a new conversation's insert is the
    # transaction's last statement: on PostgreSQL, with the contact's and the message's
    # inserts, one statement without BEGIN (requests.ConversationRaced if it was made first).
    last = new.message is not None and not _system_lines(
        access.project, department, fields["now"], held_tier)
    if await requests.insert_request(tx, **fields, first_message=new.first_message,
                                     message=new.message, last=last):
        # Written by this transaction, which holds it until commit: its joined row is what
        # was just written, with the requester and lead in hand; nothing is read back.
        row = requests.inserted_row(fields, member, lead)
        notify_request(services, tx, row, "CREATE")
        return row, True, department
    # Created by a concurrent first message that committed first (the insert waited for
    # it): read locked, for the message that follows.
    found = await requests.get_request(tx, project_id, new.request_id, lock=True)
    assert found is not None
    if found["requester_user_id"] != visitor.visitor_id:
        raise Forbidden("this conversation belongs to someone else", code="not_your_request")
    return found, False, department


async def do_tell_new_conversation(
    services: Services, tx: Transaction, access: ProjectAccess, row: RequestRecord,
    department: DepartmentRecord | None,
) -> None:
    """The system lines a new conversation gets after its first message (in ``department``,
    as ``do_create_request`` created it), as ``_system_lines`` tells them."""
    lines = _system_lines(access.project, department, row["created_at"], row["held_tier"])
    for subtype, text, attributes in lines:
        await do_post_system_message(services, tx, row, subtype, text, **attributes)


def _system_lines(
    project: ProjectRecord, department: DepartmentRecord | None, created_at: int,
    held_tier: str | None,
) -> list[tuple[Subtype, str, dict[str, Any]]]:
    """The system lines (subtype, text, attributes) that follow the first message of a
    conversation created at ``created_at`` (ms) in ``department``: that it is outside opening
    hours at that time (the editable off-hours message), and that its department needs the
    visitor to verify first (``held_tier``). ``do_create_request`` decides from them, before
    the insert, whether anything follows it in the transaction."""
    lines: list[tuple[Subtype, str, dict[str, Any]]] = []
    if not is_open_for(project, department, created_at / 1000):
        lines.append(("off_hours", off_hours_message(project, department), {}))
    if held_tier:
        lines.append((
            "verification_required",
            "Please verify your identity so that this conversation can reach our team.",
            {"tier": held_tier},
        ))
    return lines


def notify_request(
    services: Services, tx: Transaction, row: RequestRecord, method: str,
    *, agents_only: bool = False,
) -> RequestPublic:
    """Announce ``row`` after commit; with ``agents_only`` (a private note changed) visitors'
    sockets are not told."""
    body = present_request(row)
    publish_request(services, tx, body, version=row["version"], held=bool(row["held_tier"]),
                    method=method, agents_only=agents_only)
    return body


def publish_request(
    services: Services, tx: Transaction, body: RequestPublic, *, version: int, held: bool,
    method: str = "UPDATE", agents_only: bool = False,
) -> None:
    """Announce a request presented as ``body`` (``present_request``), at ``version``, after
    commit (``notify_request`` for a request already presented)."""
    services.publish_on_commit(
        tx,
        RequestChanged.model_construct(
            project_id=body["id_project"],
            method="CREATE" if method == "CREATE" else "UPDATE",
            request_id=body["request_id"],
            requester_user_id=body["requester_id"],
            request=body,
            version=version,
            held=held,
            agents_only=agents_only,
        ),
    )


async def apply_changes(
    tx: Transaction, row: RequestRecord, *, now: int, **fields: Any
) -> RequestRecord:
    """Write column changes to ``row`` (read locked within ``tx``); the request as it is now.

    The lock kept every other writer away since ``row`` was read, so the new state is ``row``
    with the written columns, the version the update returned and ``assignee`` (which the
    update derives from ``participants``): nothing is read again.
    """
    version = await requests.update_request(tx, row["id"], now=now, **fields)
    updated = cast(RequestRecord, {**row, **fields, "updated_at": now, "version": version})
    if "participants" in fields:
        updated["assignee"] = fields["participants"][0] if fields["participants"] else None
    return updated


async def _change(
    services: Services, tx: Transaction, row: RequestRecord, **fields: Any
) -> RequestPublic:
    """Apply column changes to ``row`` (read locked within ``tx``) and announce the result."""
    updated = await apply_changes(tx, row, now=services.now_ms(), **fields)
    return notify_request(services, tx, updated, "UPDATE")


async def list_requests(
    services: Services,
    access: ProjectAccess,
    filt: RequestFilter,
    *,
    page: int,
    limit: int,
    after: str | None = None,
    inbox: bool = False,
) -> dict[str, Any]:
    """A page by ``page`` number (Tiledesk's) or after the cursor ``after`` (a previous page's
    ``next``), never both. ``count`` is exact up to the count cap setting; above it, the cap
    with ``countCapped``, so a deep history is never counted row by row. Rows in Tiledesk's
    full shape, or with ``inbox`` as the agents' list draws them (``present_inbox_row``).

    Raises ValidationFailed: ``invalid_cursor``, ``page_with_cursor``.
    """
    project_id = access.project["id"]
    cursors = services.list_cursors
    position = None
    if after is not None:
        if page:
            raise ValidationFailed(
                "send either page or after, not both", code="page_with_cursor"
            )
        position = cursors.decode(project_id, after)
    cap = services.settings.list_count_cap
    reader = access.principal.user_id if isinstance(access.principal, Agent) else None
    # One row more than the page tells whether a next page exists.
    rows, total = await requests.list_requests(
        services.db, project_id, filt, limit=limit + 1, offset=page * limit, after=position,
        count_cap=cap, reader=reader, inbox=inbox,
    )
    following = None
    if len(rows) > limit:
        del rows[limit:]
        last = ListPosition(rows[-1]["updated_at"], rows[-1]["id"])
        following = cursors.encode(project_id, last)
    count, capped = capped_count(total, cap)
    return {
        "perPage": limit,
        "count": count,
        "countCapped": capped,
        "next": following,
        "requests": [present_inbox_row(r) if inbox else present_request(r) for r in rows],
    }


async def list_my_requests(
    services: Services,
    access: ProjectAccess,
    *,
    page: int,
    limit: int,
    status: str | None,
    after: str | None = None,
) -> dict[str, Any]:
    principal = access.principal
    filt = RequestFilter(visible_to=principal.id, **_status_filter(status))
    return await list_requests(services, access, filt, page=page, limit=limit, after=after)


def _status_filter(status: str | None) -> dict[str, Any]:
    if status is None or status == "all":
        return {}
    if status == "open":
        return {"max_status": RequestStatus.CLOSED}
    if status == "closed":
        return {"statuses": (RequestStatus.CLOSED,)}
    try:
        values = tuple(int(s) for s in status.split(","))
    except ValueError:
        raise ValidationFailed(
            "status is all, open, closed, or comma-separated codes", code="invalid_status"
        ) from None
    unknown = [v for v in values if v not in {s.value for s in RequestStatus}]
    if unknown:
        raise ValidationFailed(f"unknown status codes {unknown}", code="invalid_status")
    return {"statuses": values}


def request_filter(
    access: ProjectAccess,
    *,
    status: str | None,
    mine: bool,
    authenticated: bool | None,
    text: str | None,
    lead: str | None,
    tag: str | None = None,
) -> RequestFilter:
    return RequestFilter(
        held=False,
        participant=access.agent.user_id if mine else None,
        authenticated=authenticated,
        text=text,
        lead_ref=lead,
        tag=tag,
        **_status_filter(status),
    )


async def rating_summary(services: Services, access: ProjectAccess) -> RatingsPublic:
    count, mean = await requests.rating_summary(services.db, access.project["id"])
    return {"count": count, "average": None if mean is None else round(mean, 2)}


async def get_request(
    services: Services, access: ProjectAccess, request_id: str
) -> RequestPublic:
    return present_request(await access_request(services, access, request_id))


async def check_assign(
    services: Services, access: ProjectAccess, request_id: str, assignee: str | None
) -> RequestPublic:
    """Assign to ``assignee`` (an agent user id of the project), or to the caller (take)."""
    agent_id = assignee or access.agent.user_id
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        await _require_agent_member(tx, access.project["id"], agent_id)
        if row["status"] == RequestStatus.CLOSED:
            raise Conflict("reopen the conversation before assigning it", code="request_closed")
        await _audit_assignment(services, tx, access, row, [agent_id])
        return await _change(
            services, tx, row, participants=[agent_id], status=RequestStatus.ASSIGNED
        )


async def _audit_assignment(
    services: Services, tx: Transaction, access: ProjectAccess, row: RequestRecord,
    participants: list[str],
) -> None:
    """Record an agent's change of who serves the conversation (none: nothing changed)."""
    if participants == row["participants"]:
        return
    await audit.record_agent_action(
        services, tx, access,
        "request.reassigned" if row["participants"] else "request.assigned",
        subject=row["request_id"],
        details={"from": row["participants"], "to": participants},
    )


async def check_route(
    services: Services, access: ProjectAccess, request_id: str, department_id: str | None
) -> RequestPublic:
    """Route again (Tiledesk's ``/agent`` and ``/departments``): pick an available agent."""
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        return await _route(services, tx, access, row, department_id)


async def _route(
    services: Services,
    tx: Transaction,
    access: ProjectAccess,
    row: RequestRecord,
    department_id: str | None,
) -> RequestPublic:
    if row["status"] == RequestStatus.CLOSED:
        raise Conflict("reopen the conversation before routing it", code="request_closed")
    project_id = row["project_id"]
    dept_id = department_id or row["department_id"]
    department = await access_department(services, project_id, dept_id, tx=tx) if dept_id else None
    if department is not None and not tier_at_least(
        tier_of_auth_info(row["attributes"].get("senderAuthInfo")), department["min_tier"]
    ):
        raise Conflict(
            f"this department needs {department['min_tier']} visitors: ask the visitor to"
            " verify first",
            code="tier_required",
        )
    agent = await pick_agent(tx, project_id, department)
    participants = [agent] if agent else []
    await _audit_assignment(services, tx, access, row, participants)
    return await _change(
        services,
        tx,
        row,
        participants=participants,
        status=status_for(participants),
        department_id=department["id"] if department else None,
    )


async def check_route_waiting(
    services: Services, access: ProjectAccess, request_id: str, department_id: str
) -> RequestPublic:
    """Tiledesk's ``assign`` to a department: route the conversation there if it is still
    waiting; one already assigned, served or closed is answered unchanged."""
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        if row["status"] >= RequestStatus.ASSIGNED:
            return present_request(row)
        return await _route(services, tx, access, row, department_id)


async def check_set_participants(
    services: Services, access: ProjectAccess, request_id: str, participants: list[str]
) -> RequestPublic:
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        return await _set_participants(services, tx, access, row, participants)


async def _set_participants(
    services: Services,
    tx: Transaction,
    access: ProjectAccess,
    row: RequestRecord,
    participants: list[str],
) -> RequestPublic:
    for agent_id in participants:
        await _require_agent_member(tx, row["project_id"], agent_id)
    unique = list(dict.fromkeys(participants))
    await _audit_assignment(services, tx, access, row, unique)
    status = row["status"] if row["status"] == RequestStatus.CLOSED else status_for(unique)
    return await _change(services, tx, row, participants=unique, status=status)


async def check_add_participant(
    services: Services, access: ProjectAccess, request_id: str, agent_id: str
) -> RequestPublic:
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        return await _set_participants(
            services, tx, access, row, [*row["participants"], agent_id]
        )


async def check_remove_participant(
    services: Services, access: ProjectAccess, request_id: str, agent_id: str
) -> RequestPublic:
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        if agent_id not in row["participants"]:
            raise NotFound(f"{agent_id!r} is not a participant", code="participant_not_found")
        kept = [p for p in row["participants"] if p != agent_id]
        return await _set_participants(services, tx, access, row, kept)


async def _require_agent_member(tx: Transaction, project_id: str, user_id: str) -> None:
    member = await project_users.get_membership(tx, project_id, user_id)
    if member is None or member["role"] not in ("owner", "admin", "agent"):
        raise ValidationFailed(
            f"{user_id!r} is not an agent of this project", code="unknown_agent"
        )


async def check_close(
    services: Services, access: ProjectAccess, request_id: str
) -> RequestPublic:
    """Close (agents any request of the project; visitors, through closeg, their own)."""
    closed_by = (
        access.principal.user_id
        if isinstance(access.principal, Agent)
        else access.principal.visitor_id
    )
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        if row["status"] == RequestStatus.CLOSED:
            return present_request(row)
        await audit.record_agent_action(
            services, tx, access, "request.closed", subject=row["request_id"], details={}
        )
        closed = await apply_changes(
            tx, row, now=services.now_ms(), status=RequestStatus.CLOSED,
            closed_at=services.now_ms(), closed_by=closed_by,
        )
        await do_note_closed(services, tx, closed)
        body = notify_request(services, tx, closed, "UPDATE")
    if row["status"] == RequestStatus.ASSIGNED:
        await after_agent_freed(services, row["project_id"])
    return body


async def after_agent_freed(services: Services, project_id: str) -> None:
    """Route the queue now that an agent has room (actions.queue, imported late: it builds
    on this module)."""
    from frontdesk.actions.queue import route_queue

    await route_queue(services, project_id)


async def check_reopen(
    services: Services, access: ProjectAccess, request_id: str
) -> RequestPublic:
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        if row["status"] != RequestStatus.CLOSED:
            return present_request(row)
        await audit.record_agent_action(
            services, tx, access, "request.reopened", subject=row["request_id"], details={}
        )
        return await _change(
            services,
            tx,
            row,
            status=status_for(row["participants"]),
            closed_at=None,
            closed_by=None,
        )


async def check_rate(
    services: Services, access: ProjectAccess, request_id: str, rating: int, message: str | None
) -> RequestPublic:
    """Only the visitor who started the conversation rates it."""
    principal = access.principal
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        if isinstance(principal, Agent) or row["requester_user_id"] != principal.visitor_id:
            raise Forbidden(
                "only the visitor of this conversation rates it", code="requester_only"
            )
        return await _change(services, tx, row, rating=rating, rating_message=message)


async def check_patch(
    services: Services, access: ProjectAccess, request_id: str, changes: dict[str, Any]
) -> RequestPublic:
    """Agents' edits of tags and attributes (senderAuthInfo is never writable)."""
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        fields: dict[str, Any] = {}
        if changes.get("tags") is not None:
            fields["tags"] = _with_ids(services, changes["tags"])
        if changes.get("attributes") is not None:
            fields["attributes"] = _merge_attributes(row, changes["attributes"])
            fields["visitor_attribute_keys"] = _visitor_keys(access, row, changes["attributes"])
        if not fields:
            return present_request(row)
        return await _change(services, tx, row, **fields)


async def check_patch_attributes(
    services: Services, access: ProjectAccess, request_id: str, attributes: dict[str, Any]
) -> RequestPublic:
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        return await _change(
            services, tx, row, attributes=_merge_attributes(row, attributes),
            visitor_attribute_keys=_visitor_keys(access, row, attributes),
        )


async def check_add_tags(
    services: Services, access: ProjectAccess, request_id: str, tags: list[Any]
) -> RequestPublic:
    """Add ``tags`` (names or ``{tag, color}``) to the conversation's; a tag already there by
    name is kept as it is. Raises ValidationFailed(too_many_tags) past MAX_STORED_TAGS."""
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        present = {_tag_name(t) for t in row["tags"]}
        added = []
        for tag in tags:
            if _tag_name(tag) not in present:
                present.add(_tag_name(tag))
                added.append(tag)
        if not added:
            return present_request(row)
        if len(present) > MAX_STORED_TAGS:
            raise ValidationFailed(
                f"a conversation keeps at most {MAX_STORED_TAGS} tags", code="too_many_tags"
            )
        return await _change(services, tx, row, tags=[*row["tags"], *_with_ids(services, added)])


async def check_remove_tag(
    services: Services, access: ProjectAccess, request_id: str, tag_id: str
) -> RequestPublic:
    """Remove the tag whose ``_id`` (or, for a tag stored as a bare name, whose name) is
    ``tag_id`` (audited). A tag the conversation does not carry changes nothing, as in
    Tiledesk."""
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        removed = [t for t in row["tags"] if _tag_id(t) == tag_id]
        if not removed:
            return present_request(row)
        await audit.record_agent_action(
            services, tx, access, "tag.removed", subject=row["request_id"],
            details={"tag": _tag_name(removed[0])},
        )
        kept = [t for t in row["tags"] if _tag_id(t) != tag_id]
        return await _change(services, tx, row, tags=kept)


MAX_STORED_TAGS = 50


def _tag_name(tag: Any) -> str:
    return str(tag["tag"]) if isinstance(tag, dict) else str(tag)


def _tag_id(tag: Any) -> str:
    return str(tag.get("_id") or tag["tag"]) if isinstance(tag, dict) else str(tag)


def _with_ids(services: Services, tags: list[Any]) -> list[Any]:
    """``tags`` with an ``_id`` on each ``{tag, color}`` (Tiledesk removes tags by it)."""
    return [
        {**t, "_id": t.get("_id") or services.ids.object_id()} if isinstance(t, dict) else t
        for t in tags
    ]


def _visitor_keys(
    access: ProjectAccess, row: RequestRecord, incoming: dict[str, Any]
) -> list[str]:
    """The attribute keys whose value the visitor wrote, once the caller wrote ``incoming``.

    Only these are in the visitor's view: an agent's value is the agent's note, even on a
    key the visitor wrote first.
    """
    written = set(strip_reserved(incoming))
    keys = set(row["visitor_attribute_keys"]) - written
    if isinstance(access.principal, Visitor):
        keys |= written
    return sorted(keys)


# Each PATCH is bounded by the body schema; these bound what repeated PATCHes accumulate.
MAX_STORED_ATTRIBUTES = 200
MAX_STORED_ATTRIBUTE_BYTES = 64 * 1024


def _merge_attributes(row: RequestRecord, incoming: dict[str, Any]) -> dict[str, Any]:
    """The request's attributes with ``incoming`` merged in; senderAuthInfo stays the server's.

    Raises ValidationFailed(attributes_too_large) when the merged result passes the limits.
    """
    merged = {**row["attributes"], **strip_reserved(incoming)}
    merged["senderAuthInfo"] = row["attributes"].get("senderAuthInfo")
    if len(merged) > MAX_STORED_ATTRIBUTES or len(dumpb(merged)) > MAX_STORED_ATTRIBUTE_BYTES:
        raise ValidationFailed(
            f"a conversation keeps at most {MAX_STORED_ATTRIBUTES} attributes and "
            f"{MAX_STORED_ATTRIBUTE_BYTES} bytes of them",
            code="attributes_too_large",
        )
    return merged


async def reopen_for_visitor(
    services: Services, tx: Transaction, row: RequestRecord
) -> RequestRecord:
    """A visitor writing into a closed conversation reopens it and queues it again.

    Precondition: ``row`` was read locked within ``tx``."""
    return await apply_changes(
        tx,
        row,
        now=services.now_ms(),
        status=status_for(row["participants"]),
        closed_at=None,
        closed_by=None,
    )
