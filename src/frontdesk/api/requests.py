"""/:pid/requests: conversations and their messages."""

from __future__ import annotations

from typing import Any

from frontdesk.actions import messages, requests
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, CallerKind, Router
from frontdesk.auth.principals import Visitor
from frontdesk.models.requests import request_view_for

router = Router("requests")
BOTH: tuple[CallerKind, ...] = ("agent", "visitor")


def _seen_by(call: Call, request: s.RequestPublic) -> s.RequestSeenPublic:
    """A request as the caller may see it (a visitor: without agents' notes)."""
    return request_view_for(call.principal, request)


@router.route("GET", "/{pid}/requests", summary="Conversations (filters: status, mine, text, "
              "authenticated, lead, tags: a tag's name; pages: page, or after=<next>; rows: "
              "view=full, Tiledesk's shape, or view=inbox, what the agents' list draws)",
              query=s.RequestsQuery, response=s.RequestsPublic)
async def list_requests(call: Call) -> dict[str, Any]:
    q: s.RequestsQuery = call.query
    filt = requests.request_filter(call.access, status=q.status, mine=q.mine,
                                   authenticated=q.authenticated, text=q.text, lead=q.lead,
                                   tag=q.tags)
    return await requests.list_requests(call.services, call.access, filt, page=q.page,
                                        limit=q.limit, after=q.after, inbox=q.view == "inbox")


@router.route("GET", "/{pid}/ratings",
              summary="The project's ratings: how many conversations are rated, and the average",
              response=s.RatingsPublic)
async def rating_summary(call: Call) -> s.RatingsPublic:
    return await requests.rating_summary(call.services, call.access)


@router.route("GET", "/{pid}/requests/me", summary="The caller's own conversations",
              query=s.MyRequestsQuery, response=s.RequestsPublic, allowed=BOTH)
async def list_my_requests(call: Call) -> dict[str, Any]:
    q: s.MyRequestsQuery = call.query
    page = await requests.list_my_requests(call.services, call.access, page=q.page, limit=q.limit,
                                           status=q.status, after=q.after)
    return {**page, "requests": [_seen_by(call, r) for r in page["requests"]]}


@router.route("GET", "/{pid}/requests/{rid}", summary="A conversation",
              response=s.RequestSeenPublic, allowed=BOTH)
async def get_request(call: Call) -> s.RequestSeenPublic:
    request = await requests.get_request(call.services, call.access, call.params["rid"])
    return _seen_by(call, request)


@router.route("POST", "/{pid}/requests/{rid}/messages",
              summary="Send a message (the visitor's first one opens the conversation)",
              body=s.MessageCreate, response=s.MessageSentPublic, allowed=BOTH,
              extra_statuses=(429,))
async def post_message(call: Call) -> s.MessageSentPublic:
    if isinstance(call.principal, Visitor):
        await call.services.limits.check_visitor_message(
            call.client_ip, call.access.project["id"]
        )
    b: s.MessageCreate = call.body
    incoming = messages.IncomingMessage(
        text=b.text, type=b.type, sender_fullname=b.senderFullname, attributes=b.attributes,
        metadata=b.metadata, department_id=b.departmentid, source_page=b.sourcePage,
        language=b.language, user_agent=b.userAgent or call.request.headers.get("user-agent"),
        channel=str((b.channel or {}).get("name", "chat21"))[:50],
    )
    message, request = await messages.check_post_message(
        call.services, call.access, call.params["rid"], incoming
    )
    return {**message, "request": _seen_by(call, request)}


@router.route("GET", "/{pid}/requests/{rid}/messages",
              summary="Messages, oldest first (cursor: after / before a message id; latest=true: "
              "the newest page)",
              query=s.MessagesQuery, response=list[s.MessagePublic], allowed=BOTH)
async def list_messages(call: Call) -> list[s.MessagePublic]:
    q: s.MessagesQuery = call.query
    return await messages.list_messages(call.services, call.access, call.params["rid"],
                                        limit=q.limit, after=q.after, before=q.before,
                                        latest=q.latest)


@router.route("PATCH", "/{pid}/requests/{rid}", summary="Edit tags and attributes",
              body=s.RequestPatch, response=s.RequestPublic)
async def patch_request(call: Call) -> s.RequestPublic:
    b: s.RequestPatch = call.body
    changes = b.model_dump(exclude_none=True)
    return await requests.check_patch(call.services, call.access, call.params["rid"], changes)


@router.route("PATCH", "/{pid}/requests/{rid}/attributes",
              summary="Merge attributes (senderAuthInfo is never writable)",
              body=s.AttributesUpdate, response=s.RequestSeenPublic, allowed=BOTH)
async def patch_attributes(call: Call) -> s.RequestSeenPublic:
    b: s.AttributesUpdate = call.body
    return _seen_by(call, await requests.check_patch_attributes(
        call.services, call.access, call.params["rid"], b.root))


@router.route("PUT", "/{pid}/requests/{rid}/tag", summary="Add tags", body=s.TagsAdd,
              response=s.RequestPublic)
async def add_tags(call: Call) -> s.RequestPublic:
    b: s.TagsAdd = call.body
    tags = [t if isinstance(t, str) else t.model_dump(exclude_none=True) for t in b.root]
    return await requests.check_add_tags(call.services, call.access, call.params["rid"], tags)


@router.route("DELETE", "/{pid}/requests/{rid}/tag/{tag_id}",
              summary="Remove a tag (by its _id, or its name if stored as a bare name)",
              response=s.RequestPublic)
async def remove_tag(call: Call) -> s.RequestPublic:
    return await requests.check_remove_tag(call.services, call.access, call.params["rid"],
                                           call.params["tag_id"])


@router.route("PUT", "/{pid}/requests/{rid}/assign",
              summary="Assign to an agent (default: the caller takes it); with only a "
              "departmentid, route a waiting conversation to that department",
              body=s.AssignUpdate, response=s.RequestPublic)
async def assign_request(call: Call) -> s.RequestPublic:
    b: s.AssignUpdate = call.body
    if b.assignee is None and b.departmentid is not None:
        return await requests.check_route_waiting(call.services, call.access, call.params["rid"],
                                                  b.departmentid)
    return await requests.check_assign(call.services, call.access, call.params["rid"], b.assignee)


@router.route("PUT", "/{pid}/requests/{rid}/agent",
              summary="Route again to an available agent of its department",
              response=s.RequestPublic)
async def route_to_agent(call: Call) -> s.RequestPublic:
    return await requests.check_route(call.services, call.access, call.params["rid"], None)


@router.route("PUT", "/{pid}/requests/{rid}/departments",
              summary="Move to a department and route again", body=s.RouteUpdate,
              response=s.RequestPublic)
async def route_to_department(call: Call) -> s.RequestPublic:
    b: s.RouteUpdate = call.body
    return await requests.check_route(call.services, call.access, call.params["rid"],
                                      b.departmentid)


@router.route("PUT", "/{pid}/requests/{rid}/participants", summary="Set the participants",
              body=s.ParticipantsUpdate, response=s.RequestPublic)
async def set_participants(call: Call) -> s.RequestPublic:
    b: s.ParticipantsUpdate = call.body
    return await requests.check_set_participants(call.services, call.access, call.params["rid"],
                                                 b.root)


@router.route("POST", "/{pid}/requests/{rid}/participants", summary="Add a participant",
              body=s.ParticipantCreate, response=s.RequestPublic)
async def add_participant(call: Call) -> s.RequestPublic:
    b: s.ParticipantCreate = call.body
    return await requests.check_add_participant(call.services, call.access, call.params["rid"],
                                                b.member)


@router.route("DELETE", "/{pid}/requests/{rid}/participants/{uid}",
              summary="Remove a participant", response=s.RequestPublic)
async def remove_participant(call: Call) -> s.RequestPublic:
    return await requests.check_remove_participant(call.services, call.access, call.params["rid"],
                                                   call.params["uid"])


@router.route("PUT", "/{pid}/requests/{rid}/close", summary="Close a conversation",
              response=s.RequestPublic)
async def close_request(call: Call) -> s.RequestPublic:
    return await requests.check_close(call.services, call.access, call.params["rid"])


@router.route("PUT", "/{pid}/requests/{rid}/closeg",
              summary="Close your own conversation (visitors)", response=s.RequestSeenPublic,
              allowed=BOTH)
async def close_own_request(call: Call) -> s.RequestSeenPublic:
    closed = await requests.check_close(call.services, call.access, call.params["rid"])
    return _seen_by(call, closed)


@router.route("PUT", "/{pid}/requests/{rid}/reopen", summary="Reopen a closed conversation",
              response=s.RequestPublic)
async def reopen_request(call: Call) -> s.RequestPublic:
    return await requests.check_reopen(call.services, call.access, call.params["rid"])


@router.route("PATCH", "/{pid}/requests/{rid}/rating",
              summary="Rate a conversation (its visitor)", body=s.RatingUpdate,
              response=s.RequestSeenPublic, allowed=("visitor",))
async def rate_request(call: Call) -> s.RequestSeenPublic:
    b: s.RatingUpdate = call.body
    return _seen_by(call, await requests.check_rate(call.services, call.access, call.params["rid"],
                                                    b.rating, b.rating_message))
