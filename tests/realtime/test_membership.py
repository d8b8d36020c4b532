"""Removing an agent from a team takes effect on its open sockets at once."""

from __future__ import annotations

from tests.conftest import Agent, Factory, Project
from tests.realtime.wsclient import signed_in


def _remove(make: Factory, project: Project, member: Agent) -> None:
    owner = project.owner.headers
    found = make.client.get(f"/{project.id}/project_users/users/{member.id}", headers=owner)
    assert found.status_code == 200, found.text
    removed = make.client.delete(
        f"/{project.id}/project_users/{found.json()[0]['_id']}", headers=owner
    )
    assert removed.status_code == 200, removed.text


def test_a_removed_agent_stops_hearing_the_project_at_once(make: Factory) -> None:
    project = make.project()
    member = make.member(project)
    own_project = make.project(member)  # the member's other project keeps working
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    visitor.send(rid, "hello")
    requests = f"/{project.id}/requests"
    messages = f"/{project.id}/requests/{rid}/messages"
    with signed_in(make.client, member.token) as socket:
        socket.subscribe(requests)
        socket.subscribe(messages)
        socket.subscribe(f"/{own_project.id}/requests")

        _remove(make, project, member)

        revoked = {socket.expect("error")["topic"] for _ in range(2)}
        assert revoked == {requests, messages}
        visitor.send(rid, "are you still there?")
        visitor.send(visitor.new_request_id(), "a new conversation")
        socket.nothing_more()

        socket.send("subscribe", topic=requests)
        assert socket.expect("error")["code"] == "not_a_member"
        their_visitor = make.visitor(own_project)
        their_visitor.send(their_visitor.new_request_id(), "hi")
        assert socket.expect("publish")["topic"] == f"/{own_project.id}/requests"


def test_the_revocation_frame_names_its_code_and_topic(make: Factory) -> None:
    project = make.project()
    member = make.member(project)
    topic = f"/{project.id}/requests"
    with signed_in(make.client, member.token) as socket:
        socket.subscribe(topic)
        _remove(make, project, member)
        error = socket.expect("error")
        assert (error["code"], error["topic"]) == ("membership_revoked", topic)


def test_removing_someone_else_leaves_other_agents_subscribed(make: Factory) -> None:
    project = make.project()
    leaving, staying = make.member(project), make.member(project)
    topic = f"/{project.id}/requests"
    with signed_in(make.client, staying.token) as socket:
        socket.subscribe(topic)
        _remove(make, project, leaving)
        visitor = make.visitor(project)
        visitor.send(visitor.new_request_id(), "hello")
        assert socket.expect("publish")["topic"] == topic
