"""Continuity: an agent's reply reaches a visitor who left, by e-mail, with a link back.

When an agent writes and the conversation's visitor has had no live connection (nor written)
for ``continuity_away_minutes``, one e-mail is queued to the contact's *proven* address (a
host token's or an e-mail code's; never one only typed). Its dedupe key names the
conversation and the moment the visitor was last there, so every reply of one absence makes
exactly one e-mail, across processes. The e-mail is written when it is sent: it carries every
agent reply written since the visitor left, and a link that reopens the conversation.

The link holds a random token (stored as its SHA-256) in the URL's fragment, so it reaches no
server log; it is spent by its first use (``POST /auth/continue``), expires after
``continuity_link_ttl`` seconds, and signs in only the visitor it was made for, with a new
session of the same kind (``actions.visitors.check_signin_by_link``).

A project may also e-mail the transcript on close (``transcript_on_close``): every message in
order, private notes never (they are not messages).
"""

from __future__ import annotations

import hashlib
import secrets

from frontdesk.actions import audit
from frontdesk.actions.access import load_project
from frontdesk.actions.outbox import Rendered, do_enqueue, renders
from frontdesk.auth.tiers import proven_email
from frontdesk.mail import Email
from frontdesk.services import Services
from frontdesk.storage import continuity_links, messages
from frontdesk.storage.database import Transaction
from frontdesk.storage.messages import MessageRecord
from frontdesk.storage.outbox import OutboxRecord
from frontdesk.storage.projects import ProjectRecord
from frontdesk.storage.requests import RequestRecord

REPLY_KIND = "continuity"
TRANSCRIPT_KIND = "transcript"
LINK_FRAGMENT = "frontdesk-continue"
_MAX_MESSAGES = 1000


def _recipient(row: RequestRecord) -> tuple[str, str] | None:
    """(address, visitor id) to write to about ``row``: its contact's proven e-mail."""
    lead = row["lead"]
    address = proven_email(lead)
    if lead is None or address is None:
        return None
    return address, str(lead["lead_id"])


async def do_note_agent_reply(services: Services, tx: Transaction, row: RequestRecord) -> bool:
    """After an agent's message in ``row`` (within ``tx``): queue the reply e-mail if the
    visitor is away and has a proven address; True when one was queued by this call."""
    if not services.mailer.configured:
        return False
    project = await load_project(services, row["project_id"])
    if project["settings"].get("continuity_emails") is False:
        return False
    recipient = _recipient(row)
    if recipient is None:
        return False
    address, visitor_id = recipient
    since = await _last_there(services, tx, row, visitor_id)
    away_ms = services.settings.continuity_away_minutes * 60_000
    if services.now_ms() - since < away_ms:
        return False
    return await do_enqueue(
        services, tx, project_id=row["project_id"], kind=REPLY_KIND, to=address,
        subject=f"New reply from {project['name']}", body="",
        payload={"request_id": row["request_id"], "visitor_id": visitor_id, "since": since},
        dedupe_key=f"{REPLY_KIND}:{row['request_id']}:{since}",
    )


async def _last_there(
    services: Services, tx: Transaction, row: RequestRecord, visitor_id: str
) -> int:
    """Epoch ms the visitor was last there: connected, or writing in the conversation (at
    worst when the conversation started)."""
    seen = [row["created_at"]]
    for who in {visitor_id, row["requester_user_id"]}:
        at = await services.presence.last_seen(row["project_id"], who)
        if at is not None:
            seen.append(int(at * 1000))
    written = await messages.last_visitor_message_at(tx, row["request_id"])
    if written is not None:
        seen.append(written)
    return max(seen)


async def do_note_closed(services: Services, tx: Transaction, row: RequestRecord) -> bool:
    """After ``row`` closed (within ``tx``): queue its transcript if the project asks for it
    and the contact has a proven address."""
    if not services.mailer.configured:
        return False
    project = await load_project(services, row["project_id"])
    recipient = _recipient(row)
    if not project["settings"].get("transcript_on_close") or recipient is None:
        return False
    return await do_enqueue(
        services, tx, project_id=row["project_id"], kind=TRANSCRIPT_KIND, to=recipient[0],
        subject=f"Your conversation with {project['name']}", body="",
        payload={"request_id": row["request_id"]},
        dedupe_key=f"{TRANSCRIPT_KIND}:{row['request_id']}:{row['closed_at']}",
    )


def widget_page(services: Services, project: ProjectRecord) -> str:
    """The page the link opens: the project's ``widget_page_url``, else this server's page."""
    page = project["settings"].get("widget_page_url")
    if isinstance(page, str) and page:
        return page.split("#", 1)[0]
    return f"{services.settings.base_url}/widget/chat.html?project={project['id']}"


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lines(rows: list[MessageRecord]) -> str:
    return "\n\n".join(f"{m['sender_fullname']}:\n{m['text']}" for m in rows)


@renders(REPLY_KIND)
async def _render_reply(services: Services, row: OutboxRecord) -> Rendered | None:
    payload = row["payload"]
    project = await load_project(services, str(row["project_id"]))
    request_id = str(payload["request_id"])
    since = int(payload["since"])
    now = services.now_ms()
    token = secrets.token_urlsafe(32)
    async with services.db.transaction() as tx:
        history = await messages.list_messages(tx, request_id, limit=_MAX_MESSAGES, latest=True)
        replies = [m for m in history if m["sender_kind"] == "agent" and m["created_at"] > since]
        if not replies:
            return None
        await continuity_links.insert_link(tx, {
            "token_hash": link_hash(token), "project_id": project["id"],
            "visitor_id": str(payload["visitor_id"]), "request_id": request_id,
            "created_at": now, "expires_at": now + services.settings.continuity_link_ttl * 1000,
            "used_at": None,
        })
        await audit.record(services, tx, project["id"], audit.AuditEvent(
            "continuity.sent", actor="system", subject=str(payload["visitor_id"]),
            details={"request": request_id, "replies": len(replies)},
        ))
    link = f"{widget_page(services, project)}#{LINK_FRAGMENT}={token}"
    hours = max(1, services.settings.continuity_link_ttl // 3600)
    body = (
        f"{project['name']} answered you:\n\n{_lines(replies)}\n\n"
        f"Continue the conversation: {link}\n\n"
        f"The link works once, for {hours} hour(s). Do not pass it on: it opens your"
        " conversation.\n"
    )
    kept = body.replace(link, f"{widget_page(services, project)}#{LINK_FRAGMENT}=(sent)")
    return Email(to=row["to_address"], subject=row["subject"], body=body), row["subject"], \
        kept, payload


@renders(TRANSCRIPT_KIND)
async def _render_transcript(services: Services, row: OutboxRecord) -> Rendered | None:
    request_id = str(row["payload"]["request_id"])
    history = await messages.list_messages(services.db, request_id, limit=_MAX_MESSAGES)
    shown = [m for m in history if m["sender_kind"] in ("visitor", "agent")]
    if not shown:
        return None
    body = f"The transcript of your conversation:\n\n{_lines(shown)}\n"
    email = Email(to=row["to_address"], subject=row["subject"], body=body)
    return email, row["subject"], body, row["payload"]
