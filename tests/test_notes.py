"""Private notes: agents write them on a conversation for each other; no answer a visitor
gets and no frame on a visitor's socket may carry one, and ``@name`` notifies that agent."""

from __future__ import annotations

import json
from typing import Any

from frontdesk.actions.notes import mentioned_agents
from frontdesk.realtime.events import EVENT_ADAPTER, NoteMentioned, RequestChanged
from frontdesk.storage.project_users import AgentMemberRecord
from tests.conftest import Agent, Factory, Project, Visitor
from tests.realtime.wsclient import signed_in
from tests.security.conftest import assert_error

SECRET = "private-note-7c1e"


def _conversation(make: Factory) -> tuple[Project, Visitor, str]:
    project = make.project()
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello").status_code == 200
    return project, visitor, rid


def _note(make: Factory, project: Project, rid: str, author: Agent, text: str) -> Any:
    return make.client.post(f"/{project.id}/requests/{rid}/notes", json={"text": text},
                            headers=author.headers)


def _membership_id(make: Factory, project: Project, agent: Agent) -> str:
    r = make.client.get(f"/{project.id}/project_users/users/{agent.id}",
                        headers=project.owner.headers)
    return str(r.json()[0]["_id"])


def test_a_note_is_on_the_agents_view_in_tiledesks_shape(make: Factory) -> None:
    project, _visitor, rid = _conversation(make)
    r = _note(make, project, rid, project.owner, f"  {SECRET}  ")
    assert r.status_code == 200, r.text
    [note] = r.json()["notes"]
    assert set(note) == {"_id", "text", "createdBy", "createdAt", "mentions"}
    assert note["text"] == SECRET and note["createdBy"] == project.owner.id
    assert note["mentions"] == []
    got = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    assert got.json()["notes"] == [note]
    listed = make.client.get(f"/{project.id}/requests", headers=project.owner.headers).json()
    assert listed["requests"][0]["notes"] == [note]
    second = _note(make, project, rid, project.owner, "second").json()["notes"]
    assert [n["text"] for n in second] == [SECRET, "second"]  # oldest first


def test_no_answer_a_visitor_reads_carries_a_note(make: Factory) -> None:
    project, visitor, rid = _conversation(make)
    assert _note(make, project, rid, project.owner, SECRET).status_code == 200
    path = f"/{project.id}/requests/{rid}"
    h = visitor.headers
    answers = [
        make.client.get(path, headers=h),
        make.client.get(f"/{project.id}/requests/me", headers=h),
        make.client.get(f"{path}/messages", headers=h),
        make.client.post(f"{path}/messages", json={"text": "more"}, headers=h),
        make.client.patch(f"{path}/attributes", json={"plan": "pro"}, headers=h),
        make.client.put(f"{path}/closeg", headers=h),
        make.client.patch(f"{path}/rating", json={"rating": 4}, headers=h),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert SECRET not in answer.text and '"notes"' not in answer.text, answer.text
    # The contact's export is made for the visitor (its right of access): no notes either.
    export = make.client.get(f"/{project.id}/leads/{visitor.id}/export",
                             headers=project.owner.headers)
    assert export.status_code == 200, export.text
    assert SECRET not in export.text and '"notes"' not in export.text
    # A visitor can neither write nor delete one.
    assert_error(make.client.post(f"{path}/notes", json={"text": "x"}, headers=h), 403,
                 "agents_only")
    note_id = make.client.get(path, headers=project.owner.headers).json()["notes"][0]["_id"]
    assert_error(make.client.delete(f"{path}/notes/{note_id}", headers=h), 403, "agents_only")
    still = make.client.get(path, headers=project.owner.headers).json()["notes"]
    assert [n["text"] for n in still] == [SECRET]


def test_a_note_reaches_agents_sockets_and_never_a_visitors(make: Factory) -> None:
    project, visitor, rid = _conversation(make)
    colleague = make.member(project)
    path = f"/{project.id}/requests/{rid}"
    assert _note(make, project, rid, project.owner, SECRET + "-old").status_code == 200
    with signed_in(make.client, visitor.token) as widget, \
            signed_in(make.client, colleague.token) as dashboard:
        [snapshot] = widget.subscribe(path)["objects"]
        assert SECRET not in json.dumps(snapshot) and "notes" not in snapshot
        widget.subscribe(f"{path}/messages")
        [agents_snapshot] = dashboard.subscribe(path)["objects"]
        assert agents_snapshot["notes"][0]["text"] == SECRET + "-old"
        dashboard.subscribe(f"/{project.id}/requests")

        added = _note(make, project, rid, project.owner, SECRET)
        assert added.status_code == 200
        note_id = added.json()["notes"][-1]["_id"]
        seen = {}
        for _ in range(2):
            frame = dashboard.expect("publish")
            seen[frame["topic"]] = frame["message"][0]["notes"][-1]["text"]
        assert seen == {path: SECRET, f"/{project.id}/requests": SECRET}
        widget.nothing_more()

        deleted = make.client.delete(f"{path}/notes/{note_id}", headers=project.owner.headers)
        assert deleted.status_code == 200, deleted.text
        frame = dashboard.expect("publish")
        assert [n["text"] for n in frame["message"][0]["notes"]] == [SECRET + "-old"]
        dashboard.expect("publish")
        widget.nothing_more()

        # What the visitor is told of still reaches it, without the notes.
        assert make.client.post(f"{path}/messages", json={"text": "on it"},
                                headers=project.owner.headers).status_code == 200
        for _ in range(2):
            frame = widget.frame()
            assert frame["action"] == "publish", frame
            assert SECRET not in json.dumps(frame) and '"notes"' not in json.dumps(frame)


def test_only_its_author_or_an_admin_deletes_a_note_and_it_is_audited(make: Factory) -> None:
    project, _visitor, rid = _conversation(make)
    agent, other, admin = make.member(project), make.member(project), make.member(project, "admin")
    path = f"/{project.id}/requests/{rid}"
    mine = _note(make, project, rid, agent, "agent's").json()["notes"][-1]["_id"]
    owners = _note(make, project, rid, project.owner, "owner's").json()["notes"][-1]["_id"]

    assert_error(make.client.delete(f"{path}/notes/{owners}", headers=agent.headers), 403,
                 "not_your_note")
    assert_error(make.client.delete(f"{path}/notes/{mine}", headers=other.headers), 403,
                 "not_your_note")
    assert_error(make.client.delete(f"{path}/notes/{'0' * 24}", headers=agent.headers), 404,
                 "note_not_found")
    texts = [n["text"] for n in make.client.get(path, headers=agent.headers).json()["notes"]]
    assert texts == ["agent's", "owner's"]

    assert make.client.delete(f"{path}/notes/{mine}", headers=agent.headers).status_code == 200
    r = make.client.delete(f"{path}/notes/{owners}", headers=admin.headers)
    assert r.status_code == 200 and r.json()["notes"] == []

    audit = make.client.get(f"/{project.id}/audit?type=note.deleted",
                            headers=project.owner.headers).json()["events"]
    assert [(e["actor"], e["subject"], e["details"]) for e in audit] == [
        (admin.id, rid, {"note": owners, "author": project.owner.id}),
        (agent.id, rid, {"note": mine, "author": agent.id}),
    ]


def test_bad_notes_are_refused_and_nothing_is_written(make: Factory) -> None:
    project, _visitor, rid = _conversation(make)
    assert_error(_note(make, project, rid, project.owner, "   "), 422, "empty_note")
    assert _note(make, project, rid, project.owner, "x" * 4001).status_code == 422
    other = make.project()
    assert_error(_note(make, project, rid, other.owner, "hi"), 403, "not_a_member")
    missing = f"support-group-{project.id}-{'0' * 32}"
    assert_error(_note(make, project, missing, project.owner, "hi"), 404, "request_not_found")
    got = make.client.get(f"/{project.id}/requests/{rid}", headers=project.owner.headers)
    assert got.json()["notes"] == []


def _member(id: str, first: str, last: str, email: str) -> AgentMemberRecord:
    return {  # type: ignore[typeddict-item]
        "id": "pu-" + id, "user_id": id, "user_firstname": first, "user_lastname": last,
        "user_email": email,
    }


def test_mentions_name_agents_by_full_name_email_or_first_name() -> None:
    ada = _member("1", "Ada", "Lovelace", "ada@example.com")
    ada2 = _member("2", "Ada", "Byron", "countess@example.com")
    grace = _member("3", "Grace", "Hopper", "g.hopper@example.com")
    team = [ada, ada2, grace]

    def named(text: str) -> list[str]:
        return [a["user_id"] for a in mentioned_agents(text, team)]

    assert named("ask @Ada Lovelace, please") == ["1"]
    assert named("@adalovelace") == ["1"]
    assert named("cc @g.hopper.") == ["3"]
    assert named("@countess and @GRACE") == ["2", "3"]
    assert named("@Ada") == ["1", "2"]  # a first name two agents share names both
    assert named("mail ada@example.com or @Adam or @ Grace") == []
    assert named("no one") == []


def test_a_mention_reaches_the_named_agents_own_socket_only(make: Factory) -> None:
    project, _visitor, rid = _conversation(make)
    named, bystander = make.member(project), make.member(project)
    local = named.email.partition("@")[0]
    topic = f"/{project.id}/project_users/{_membership_id(make, project, named)}"
    with signed_in(make.client, named.token) as target, \
            signed_in(make.client, bystander.token) as watcher:
        target.subscribe(topic)
        watcher.subscribe(topic)
        r = _note(make, project, rid, project.owner, f"@{local} can you look? {SECRET}")
        assert r.status_code == 200, r.text
        assert r.json()["notes"][-1]["mentions"] == [named.id]
        mention = target.expect("mention")
        assert mention["topic"] == topic and mention["request_id"] == rid
        assert mention["note"]["text"].endswith(SECRET)
        assert mention["by"]["_id"] == project.owner.id
        watcher.nothing_more()
        # Writing one's own name notifies no one.
        _note(make, project, rid, named, f"@{local} note to self")
        target.nothing_more()



def test_note_events_cross_processes_whole(make: Factory) -> None:
    """Between processes events travel as JSON (Redis): the agents-only mark and a mention
    arrive as they left."""
    project, visitor, rid = _conversation(make)
    request = _note(make, project, rid, project.owner, "hi @Ada").json()
    changed = RequestChanged(project_id=project.id, method="UPDATE", request_id=rid,
                             requester_user_id=visitor.id, request=request, version=2,
                             agents_only=True)
    mention = NoteMentioned(project_id=project.id, request_id=rid, project_user_id="e" * 24,
                            user_id="c" * 24, by_user_id=project.owner.id, by_fullname="Ada",
                            note=request["notes"][0])
    for event in (changed, mention):
        assert EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(event)) == event
