"""A visitor's next message is written from the conversation this process kept, and never
answered from a copy that is out of date (storage/conversation_cache.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from frontdesk.storage import requests as requests_storage
from frontdesk.storage.conversation_cache import ConversationCache
from frontdesk.storage.requests import StoredConversation
from tests.conftest import Factory, Visitor


def _services(make: Factory) -> Any:
    return make.client.app.state.services  # type: ignore[attr-defined]


def _write(make: Factory, sql: str, *args: Any) -> None:
    """A write made behind this process's back, as another process would make it."""
    services = _services(make)

    async def run() -> None:
        async with services.db.transaction() as tx:
            await tx.execute(sql, *args)

    make.client.portal.call(run)  # type: ignore[union-attr]


def _kept(make: Factory, visitor: Visitor, rid: str) -> StoredConversation | None:
    kept: StoredConversation | None = _services(make).conversations.get(visitor.project_id, rid)
    return kept


def _opened(make: Factory) -> tuple[Any, Visitor, str]:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "first").status_code == 200
    assert visitor.send(rid, "second").status_code == 200  # read, written, then kept
    return project, visitor, rid


def test_the_next_message_is_written_from_the_kept_conversation(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, visitor, rid = _opened(make)
    kept = _kept(make, visitor, rid)
    assert kept is not None and kept.record()["last_text"] == "second"
    reads: list[str] = []
    real_read = requests_storage.read_conversation_or_member

    async def counted(q: Any, project_id: str, request_id: str, *visitor: str) -> Any:
        reads.append(request_id)
        return await real_read(q, project_id, request_id, *visitor)

    monkeypatch.setattr(requests_storage, "read_conversation_or_member", counted)
    r = visitor.send(rid, "third")
    assert r.status_code == 200, r.text
    assert reads == []  # written from the copy, the conversation not read
    request = r.json()["request"]
    assert request["last_text"] == "third" and request["status"] == 200
    kept_after = _kept(make, visitor, rid)
    assert kept_after is not None and kept_after.version == kept.version + 1
    assert kept_after.record()["visitor_messages"] == 3
    listed = make.client.get(f"/{project.id}/requests?view=inbox",
                             headers=project.owner.headers).json()["requests"]
    assert [(row["request_id"], row["unread"]) for row in listed] == [(rid, 3)]


def test_a_kept_conversation_is_presented_as_a_fresh_read_presents_it(make: Factory) -> None:
    """The next message presents only what it changes, from the presentation kept with the
    copy: the answer, and the presentation kept for the message after, are what reading the
    conversation afresh gives; the one kept before it is left as it was."""
    project, visitor, rid = _opened(make)
    kept = _kept(make, visitor, rid)
    assert kept is not None and kept.presented is not None
    earlier = json.loads(json.dumps(kept.presented))
    r = visitor.send(rid, "third")
    assert r.status_code == 200, r.text
    kept_after = _kept(make, visitor, rid)
    assert kept_after is not None and kept_after.presented is not None
    assert kept_after.presented["last_text"] == "third"
    as_agent = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    assert json.loads(json.dumps(kept_after.presented)) == as_agent.json()
    as_visitor = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers)
    assert r.json()["request"] == as_visitor.json()
    assert json.loads(json.dumps(kept.presented)) == earlier


def test_a_contact_changed_behind_the_process_is_read_again(make: Factory) -> None:
    """The lead's name changes without a new version of the conversation, in the same
    millisecond as far as its updated_at tells: the kept copy is refused and the answer shows
    the contact as stored."""
    _, visitor, rid = _opened(make)
    _write(make, "UPDATE leads SET fullname = 'Zed Stored' WHERE lead_id = $1", visitor.id)
    r = visitor.send(rid, "third")
    assert r.status_code == 200, r.text
    assert r.json()["request"]["lead"]["fullname"] == "Zed Stored"
    assert _kept(make, visitor, rid) is None  # written the locked way, the copy dropped
    assert visitor.send(rid, "fourth").status_code == 200  # read again, then kept
    kept = _kept(make, visitor, rid)
    lead = None if kept is None else kept.record()["lead"]
    assert lead is not None and lead["fullname"] == "Zed Stored"


def test_a_requester_profile_changed_behind_the_process_is_read_again(make: Factory) -> None:
    _, visitor, rid = _opened(make)
    _write(make, "UPDATE project_users SET profile = $1 WHERE user_id = $2",
           '{"firstname":"Zed","lastname":"Stored"}', visitor.id)
    r = visitor.send(rid, "third")
    assert r.status_code == 200, r.text
    requester = r.json()["request"]["requester"]
    assert (requester["firstname"], requester["lastname"]) == ("Zed", "Stored"), requester


def test_a_conversation_closed_behind_the_process_is_reopened_not_written_as_kept(
    make: Factory,
) -> None:
    project, visitor, rid = _opened(make)
    _write(make, "UPDATE requests SET status = 1000, closed_at = 1, version = version + 1"
                 " WHERE request_id = $1", rid)
    r = visitor.send(rid, "third")
    assert r.status_code == 200, r.text
    request = r.json()["request"]
    assert request["status"] != 1000 and request["closed_at"] is None
    history = make.client.get(f"/{project.id}/requests/{rid}/messages?limit=50",
                              headers=project.owner.headers).json()
    assert [m["text"] for m in history if m["sender"] == visitor.id] == [
        "first", "second", "third"]


def test_an_agents_reply_drops_the_kept_copy(make: Factory) -> None:
    project, visitor, rid = _opened(make)
    owner = project.owner
    r = make.client.post(f"/{project.id}/requests/{rid}/messages", json={"text": "hello"},
                         headers=owner.headers)
    assert r.status_code == 200, r.text
    assert _kept(make, visitor, rid) is None
    r = visitor.send(rid, "third")
    assert r.status_code == 200, r.text
    assert r.json()["request"]["last_text"] == "third"
    kept = _kept(make, visitor, rid)
    assert kept is not None and kept.record()["visitor_messages"] == 3


def _stored(request_id: str, version: int) -> StoredConversation:
    return StoredConversation({"project_id": "p", "request_id": request_id, "version": version})


def test_the_cache_keeps_the_newest_version_of_the_most_recent_conversations() -> None:
    cache = ConversationCache(size=2)
    cache.put(_stored("a", 1))
    cache.put(_stored("b", 1))
    cache.put(_stored("a", 2))  # a written again: b is now the least recent
    cache.put(_stored("c", 1))
    assert [cache.get("p", r) is not None for r in "abc"] == [True, False, True]
    cache.put(_stored("a", 1))  # an older commit heard late changes nothing
    kept = cache.get("p", "a")
    assert kept is not None and kept.version == 2
    cache.evict_older("p", "a", 2)
    assert cache.get("p", "a") is not None
    cache.evict_older("p", "a", 3)
    assert cache.get("p", "a") is None and len(cache) == 1


def test_an_erased_contacts_conversations_leave_the_cache(make: Factory) -> None:
    project, visitor, rid = _opened(make)
    other = make.visitor(project)
    other_rid = other.new_request_id()
    other.send(other_rid, "first")
    other.send(other_rid, "second")
    assert _kept(make, visitor, rid) is not None and _kept(make, other, other_rid) is not None
    r = make.client.delete(f"/{project.id}/leads/{visitor.id}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    assert _kept(make, visitor, rid) is None
    assert _kept(make, other, other_rid) is not None
