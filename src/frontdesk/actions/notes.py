"""Private notes on a conversation: written and read by the project's agents only.

A note lives on its request (``requests.notes``) and travels with the agents' view of it
(``RequestPublic.notes``); the visitor's view is built field by field and has no notes, and
a note's ``RequestChanged`` event is marked ``agents_only`` so visitors' sockets never hear
of it. ``@name`` in a note notifies the agents it names (``NoteMentioned``).

Who is named: after an ``@`` that starts a word, the longest of these, for any agent of the
project, compared without regard to case and followed by the end of the text or a character
that is not a letter, digit or ``_``: the full name (``@Ada Lovelace``), the full name
without spaces (``@AdaLovelace``), the local part of the e-mail address (``@ada.lovelace``),
the first name (``@Ada``). A name several agents share names each of them. The author is
never notified of its own note.
"""

from __future__ import annotations

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess, access_request
from frontdesk.actions.requests import apply_changes, notify_request
from frontdesk.auth.permissions import role_at_least
from frontdesk.errors import Forbidden, NotFound, ValidationFailed
from frontdesk.models.notes import present_note
from frontdesk.models.requests import RequestPublic
from frontdesk.realtime.events import NoteMentioned
from frontdesk.services import Services
from frontdesk.storage import project_users
from frontdesk.storage.project_users import AgentMemberRecord
from frontdesk.storage.requests import NoteRecord

MAX_NOTES = 200  # per conversation
MAX_NOTE_LENGTH = 4000


def _names_of(agent: AgentMemberRecord) -> set[str]:
    first, last = agent["user_firstname"].strip(), agent["user_lastname"].strip()
    full = f"{first} {last}".strip()
    names = {first, full, full.replace(" ", ""), agent["user_email"].partition("@")[0]}
    return {n.casefold() for n in names if n}


def _ends_word(text: str, end: int) -> bool:
    return end == len(text) or not (text[end].isalnum() or text[end] == "_")


def mentioned_agents(text: str, agents: list[AgentMemberRecord]) -> list[AgentMemberRecord]:
    """The agents ``text`` names with ``@`` (see the module's rule), in team order."""
    folded = text.casefold()  # agents' names are compared folded too
    named: set[str] = set()
    start = folded.find("@")
    while start != -1:
        if start == 0 or not (folded[start - 1].isalnum() or folded[start - 1] == "_"):
            rest = folded[start + 1 :]
            best: list[AgentMemberRecord] = []
            best_length = 0
            for agent in agents:
                for name in _names_of(agent):
                    if rest.startswith(name) and _ends_word(rest, len(name)):
                        if len(name) > best_length:
                            best, best_length = [agent], len(name)
                        elif len(name) == best_length and agent not in best:
                            best.append(agent)
            named.update(a["user_id"] for a in best)
        start = folded.find("@", start + 1)
    return [a for a in agents if a["user_id"] in named]


async def check_add_note(
    services: Services, access: ProjectAccess, request_id: str, text: str
) -> RequestPublic:
    """Add the calling agent's note to the conversation; the conversation as agents see it.

    Raises ValidationFailed(empty_note, too_many_notes) and what ``access_request`` raises.
    """
    text = text.strip()
    if not text:
        raise ValidationFailed("a note needs some text", code="empty_note")
    author = access.agent
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        if len(row["notes"]) >= MAX_NOTES:
            raise ValidationFailed(f"a conversation keeps at most {MAX_NOTES} notes",
                                   code="too_many_notes")
        project_id = row["project_id"]
        team = await project_users.list_agents(tx, project_id)
        named = [a for a in mentioned_agents(text, team) if a["user_id"] != author.user_id]
        now = services.now_ms()
        note: NoteRecord = {
            "id": services.ids.object_id(), "text": text, "created_by": author.user_id,
            "created_at": now, "mentions": [a["user_id"] for a in named],
        }
        updated = await apply_changes(tx, row, now=now, notes=[*row["notes"], note])
        body = notify_request(services, tx, updated, "UPDATE", agents_only=True)
        for agent in named:
            services.publish_on_commit(tx, NoteMentioned.model_construct(
                project_id=project_id, request_id=request_id, project_user_id=agent["id"],
                user_id=agent["user_id"], by_user_id=author.user_id,
                by_fullname=author.display_name, note=present_note(note),
            ))
        return body


async def check_delete_note(
    services: Services, access: ProjectAccess, request_id: str, note_id: str
) -> RequestPublic:
    """Delete a note: its author may, and the project's admins and owners. Audited
    (``note.deleted``) in the same transaction.

    Raises NotFound(note_not_found), Forbidden(not_your_note) and what ``access_request``
    raises.
    """
    agent = access.agent
    async with services.db.transaction() as tx:
        row = await access_request(services, access, request_id, tx=tx, lock=True)
        note = next((n for n in row["notes"] if n["id"] == note_id), None)
        if note is None:
            raise NotFound(f"no note {note_id!r} on this conversation", code="note_not_found")
        if note["created_by"] != agent.user_id and not role_at_least(access.role, "admin"):
            raise Forbidden("only its author or an admin may delete a note",
                            code="not_your_note")
        kept = [n for n in row["notes"] if n["id"] != note_id]
        updated = await apply_changes(tx, row, now=services.now_ms(), notes=kept)
        await audit.record(services, tx, row["project_id"], audit.AuditEvent(
            "note.deleted", actor=agent.user_id, subject=request_id,
            details={"note": note_id, "author": note["created_by"]},
        ))
        return notify_request(services, tx, updated, "UPDATE", agents_only=True)
