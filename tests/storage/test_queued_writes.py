"""Writes queued with ``execute_later``: on PostgreSQL they leave together as one statement,
before the transaction's next statement or at its commit, and a transaction of queued writes
alone sends neither BEGIN nor COMMIT; on SQLite they run at once. Either way a transaction
commits all of them or none."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from frontdesk.app import create_app
from frontdesk.clock import FakeClock
from frontdesk.storage import database
from frontdesk.storage import leads as leads_storage
from frontdesk.storage import requests as requests_storage
from frontdesk.storage.database import Database, open_database
from frontdesk.storage.messages import MessageRecord
from frontdesk.storage.migrate import migrate
from tests.conftest import Factory, make_settings, sign_customer_token
from tests.storage.schema import add_project
from tests.test_availability import MONDAYS, SUNDAY_NOON

PID = "p" * 24
_AUDIT = (
    "INSERT INTO audit_events (id, project_id, type, at, last_at, suspicious, details)"
    " VALUES ($1, $2, $3, $4, $4, 0, '{}')"
)


def _run(scenario: Callable[[Database], Awaitable[Any]], url: str) -> Any:
    async def main() -> Any:
        db = await open_database(url)
        try:
            await migrate(db)
            async with db.transaction() as tx:
                await add_project(tx, PID)
            return await scenario(db)
        finally:
            await db.close()

    return asyncio.run(main())


class _Recorded:
    """A transaction's asyncpg connection that notes each statement it is asked to send
    (``BEGIN;`` and ``COMMIT;`` as asyncpg's transaction sends them), in order, as it goes."""

    def __init__(self, conn: Any, sent: list[str]) -> None:
        self._conn = conn
        self._sent = sent

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._conn, name)
        if name not in ("execute", "fetch", "fetchrow", "fetchval"):
            return method

        async def sending(sql: str, *args: Any) -> Any:
            self._sent.append(sql)
            return await method(sql, *args)

        return sending

    def transaction(self) -> Any:
        xact = self._conn.transaction()
        sent = self._sent

        class Transaction:
            async def start(self) -> None:
                sent.append("BEGIN;")
                await xact.start()

            async def commit(self) -> None:
                sent.append("COMMIT;")
                await xact.commit()

            async def rollback(self) -> None:
                sent.append("ROLLBACK;")
                await xact.rollback()

        return Transaction()


def _statements(tx: Any, sent: list[str]) -> None:
    """Record what the PostgreSQL transaction ``tx`` sends from here on."""
    tx._target = _Recorded(tx._target, sent)


@contextmanager
def _recorded_transactions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What every PostgreSQL transaction opened meanwhile sends, in order."""
    sent: list[str] = []
    original = database._PostgresTransaction.__init__

    def recorded(self: Any, conn: Any) -> None:
        original(self, conn)
        _statements(self, sent)

    monkeypatch.setattr(database._PostgresTransaction, "__init__", recorded)
    try:
        yield sent
    finally:
        monkeypatch.setattr(database._PostgresTransaction, "__init__", original)


async def _types(db: Database) -> list[str]:
    rows = await db.fetch_all("SELECT type FROM audit_events ORDER BY id")
    return [r["type"] for r in rows]


def test_queued_writes_alone_are_one_statement_without_begin_or_commit(pg_schema: str) -> None:
    async def scenario(db: Database) -> tuple[list[str], list[str]]:
        sent: list[str] = []
        async with db.transaction() as tx:
            _statements(tx, sent)
            # $4 twice in one write, and every write's own $1…: renumbered when joined.
            await tx.execute_later(_AUDIT, "a1", PID, "first", 10)
            await tx.execute_later(_AUDIT, "a2", PID, "second", 20)
            await tx.execute_later(_AUDIT, "a3", PID, "third", 30)
            assert sent == []  # nothing has left yet
        return sent, await _types(db)

    sent, types = _run(scenario, pg_schema)
    assert len(sent) == 1 and sent[0].startswith("WITH queued_0 AS (INSERT INTO audit_events")
    assert types == ["first", "second", "third"]


def test_a_statement_reads_what_was_queued_before_it(database_url: str) -> None:
    async def scenario(db: Database) -> tuple[int, list[str]]:
        async with db.transaction() as tx:
            await tx.execute_later(_AUDIT, "a1", PID, "first", 10)
            await tx.execute_later(_AUDIT, "a2", PID, "second", 20)
            seen = await tx.fetch_value("SELECT COUNT(*) FROM audit_events")
            await tx.execute_later(_AUDIT, "a3", PID, "third", 30)
        return int(seen), await _types(db)

    seen, types = _run(scenario, database_url)
    assert seen == 2
    assert types == ["first", "second", "third"]


def test_queued_writes_after_a_read_leave_with_the_commit(pg_schema: str) -> None:
    async def scenario(db: Database) -> list[str]:
        sent: list[str] = []
        async with db.transaction() as tx:
            _statements(tx, sent)
            await tx.fetch_value("SELECT COUNT(*) FROM projects")
            await tx.execute_later(_AUDIT, "a1", PID, "first", 10)
            await tx.execute_later(_AUDIT, "a2", PID, "second", 20)
        return sent

    sent = _run(scenario, pg_schema)
    assert [s.split(" ", 1)[0] for s in sent] == ["BEGIN;", "SELECT", "WITH", "COMMIT;"]


def test_a_failing_queued_write_commits_nothing_and_runs_no_hook(database_url: str) -> None:
    async def scenario(db: Database) -> tuple[list[str], list[str], int]:
        fired: list[str] = []
        for read_first in (False, True):
            with pytest.raises(Exception, match=r"(?i)unique"):
                async with db.transaction() as tx:
                    if read_first:  # begun: the earlier write must be rolled back too
                        await add_project(tx, "q" * 24)
                    await tx.execute_later(_AUDIT, "a1", PID, "kept-out", 10)
                    await tx.execute_later(_AUDIT, "a1", PID, "same id", 10)
                    tx.on_commit(lambda: fired.append("committed"))
        projects = await db.fetch_value("SELECT COUNT(*) FROM projects")
        return fired, await _types(db), int(projects)

    fired, types, projects = _run(scenario, database_url)
    assert fired == [] and types == [] and projects == 1


def test_an_error_in_the_transaction_drops_what_was_queued(database_url: str) -> None:
    async def scenario(db: Database) -> list[str]:
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute_later(_AUDIT, "a1", PID, "dropped", 10)
                raise RuntimeError("boom")
        async with db.transaction() as tx:
            await tx.execute_later(_AUDIT, "a2", PID, "kept", 20)
        return await _types(db)

    assert _run(scenario, database_url) == ["kept"]


_GUARD = (
    "INSERT INTO audit_events (id, project_id, type, at, last_at, suspicious, details)"
    " VALUES ($1, $2, 'guard', 1, 1, 0, '{}') ON CONFLICT (id) DO NOTHING RETURNING 1"
)


def test_writes_queued_before_a_guard_land_only_with_it(database_url: str) -> None:
    """``write_last_guard``: on PostgreSQL, with nothing sent yet, the queued inserts and the
    guard are one statement, and when the guard inserts nothing nothing at all is written
    (``NothingWritten``). Begun, or on SQLite, the queued writes land either way and the
    transaction goes on."""
    postgres = database_url.startswith("postgresql")

    async def scenario(db: Database) -> tuple[list[Any], list[str]]:
        outcomes: list[Any] = []
        for name, read_first in (("g1", False), ("g1", False), ("g1", True)):
            sent: list[str] = []
            try:
                async with db.transaction() as tx:
                    if postgres:
                        _statements(tx, sent)
                    if read_first:
                        await tx.fetch_value("SELECT COUNT(*) FROM projects")
                    await tx.execute_later(_AUDIT, f"a-{len(outcomes)}", PID, name, 10)
                    outcomes.append(await tx.write_last_guard(_GUARD, name, PID))
                    outcomes.append(tx.ended)
            except database.NothingWritten:
                outcomes.append("nothing written")
            outcomes.append([s.split(" ", 3)[:3] for s in sent])
        return outcomes, await _types(db)

    outcomes, types = _run(scenario, database_url)
    if postgres:
        assert outcomes == [
            1, True, [["WITH", "guard", "AS"]],  # one statement, both written
            "nothing written", [["WITH", "guard", "AS"]],  # the guard's row was there
            # Begun: the guard joins the queued write as before, which lands anyway.
            None, False, [["BEGIN;"], ["SELECT", "COUNT(*)", "FROM"],
                          ["WITH", "queued_0", "AS"], ["COMMIT;"]],
        ]
        assert sorted(types) == ["g1", "g1", "guard"]
    else:
        assert outcomes == [1, False, [], None, False, [], None, False, []]
        assert sorted(types) == ["g1", "g1", "g1", "guard"]


def test_only_one_row_inserts_are_guarded() -> None:
    """A queued write of another shape makes ``write_last_guard`` an ordinary last write;
    an insert's own literals, repeated parameters and ON CONFLICT are kept, renumbered."""
    update = ("UPDATE audit_events SET type = $1 WHERE id = $2", 2)
    insert = (_AUDIT, 4)
    assert database._guarded_text(_GUARD, 2, (insert, update)) is None
    text = database._guarded_text(_GUARD, 2, (insert, (leads_storage._INSERT_LEAD, 10)))
    assert text == (
        f"WITH guard AS ({_GUARD}),"  # noqa: S608 - the expected text
        " queued_0 AS (INSERT INTO audit_events (id, project_id, type, at, last_at,"
        " suspicious, details) SELECT $3, $4, $5, $6, $6, 0, '{}' FROM guard WHERE true),"
        " queued_1 AS (INSERT INTO leads (id, project_id, lead_id, fullname, email, phone,"
        " attributes, provenance, is_authenticated, created_at, updated_at) SELECT $7, $8,"
        " $9, $10, $11, $12, $13, $14, $15, $16, $16 FROM guard WHERE true"
        " ON CONFLICT (project_id, lead_id) DO NOTHING) SELECT * FROM guard"
    )


def test_an_anonymous_signin_is_one_statement_on_postgresql(
    pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sign-in's membership, session and audit row: one round trip, all three written."""
    with TestClient(create_app(make_settings(tmp_path, pg_schema))) as client:
        make = Factory(client)
        owner = make.agent()
        project = make.project(owner)
        with _recorded_transactions(monkeypatch) as sent:
            visitor = make.visitor(project)
        assert len(sent) == 1 and sent[0].startswith("WITH ")
        me = visitor.client.get(f"/{project.id}/requests/me", headers=visitor.headers)
        assert me.status_code == 200, me.text  # the session was written: the token works
        audit = client.get(f"/{project.id}/audit", headers=owner.headers)
        assert audit.status_code == 200, audit.text
        assert any(e["type"] == "signin.anonymous" and e["subject"] == visitor.id
                   for e in audit.json()["events"])


def test_a_returning_customer_signin_is_one_write(
    pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A known customer without a contact: its membership's update, the session and the
    audit row as one statement, with nothing read before it and neither BEGIN nor COMMIT.
    With a contact to bring up to date: that statement writes nothing; the membership and
    contact are read without BEGIN, and one statement writes the contact (if still as read),
    the membership, the session and the audit row."""
    with TestClient(create_app(make_settings(tmp_path, pg_schema))) as client:
        make = Factory(client)
        owner = make.agent()
        project = make.project(owner)
        make.visitor(project, authenticated=True, _id="customer-1", firstname="Ada")
        with _recorded_transactions(monkeypatch) as sent:
            again = make.visitor(project, authenticated=True, _id="customer-1",
                                 firstname="Grace")
        assert [s.split(" ", 1)[0] for s in sent] == ["WITH"]
        assert all(f"INSERT INTO {t}" in sent[0] for t in ("sessions", "audit_events"))
        assert again.user["firstname"] == "Grace"
        assert again.send(again.new_request_id(), "hello").status_code == 200  # a contact now
        with _recorded_transactions(monkeypatch) as sent:
            third = make.visitor(project, authenticated=True, _id="customer-1",
                                 firstname="Hedy")
        assert [s.split(" ", 1)[0] for s in sent] == ["WITH", "SELECT", "WITH"]
        assert "UPDATE leads" in sent[2] and "UPDATE project_users" in sent[2]
        assert all(f"INSERT INTO {t}" in sent[2] for t in ("sessions", "audit_events"))
        lead = client.get(f"/{project.id}/leads", headers=owner.headers).json()["leads"][0]
        assert lead["fullname"].startswith("Hedy")
        assert third.user["firstname"] == "Hedy"

    assert asyncio.run(_signed_in(pg_schema, "customer-1")) == ("Hedy", 3, 3)


async def _signed_in(url: str, user_id: str) -> tuple[str, int, int]:
    """The customer's stored first name, its sessions and its custom sign-ins audited."""
    db = await open_database(url)
    try:
        profile = await db.fetch_value(
            "SELECT profile FROM project_users WHERE user_id = $1", user_id)
        count = "SELECT COUNT(*) FROM {} WHERE {} = $1"
        sessions = await db.fetch_value(count.format("sessions", "subject_id"), user_id)
        audited = await db.fetch_value(
            "SELECT COUNT(*) FROM audit_events WHERE subject = $1 AND type = 'signin.custom'",
            user_id)
        return json.loads(profile)["firstname"], sessions, audited
    finally:
        await db.close()


def test_a_customer_with_a_contact_is_brought_up_to_date_and_another_role_refused(
    database_url: str, tmp_path: Path
) -> None:
    """The one-statement sign-in writes nothing for a customer who has a contact, nor for an
    id that is an agent's: the contact is then brought up to date (read, then written if still
    as read) with one session and one audit row per sign-in, and the locked way refuses the
    agent's id."""
    with TestClient(create_app(make_settings(tmp_path, database_url))) as client:
        make = Factory(client)
        owner = make.agent()
        project = make.project(owner)
        first = make.visitor(project, authenticated=True, _id="customer-2", firstname="Ada")
        assert first.send(first.new_request_id(), "hello").status_code == 200  # a contact
        again = make.visitor(project, authenticated=True, _id="customer-2", firstname="Grace")
        assert again.user["firstname"] == "Grace"
        lead = client.get(f"/{project.id}/leads", headers=owner.headers).json()["leads"][0]
        assert lead["fullname"].startswith("Grace")
        assert project.secret is not None
        token = sign_customer_token(project.id, project.secret, kid=project.kid,
                                    _id=owner.id, firstname="Mallory")
        r = client.post("/auth/signinWithCustomToken", headers={"Authorization": f"JWT {token}"})
        assert (r.status_code, r.json()["code"]) == (409, "identity_conflict")
    assert asyncio.run(_signed_in(database_url, "customer-2")) == ("Grace", 2, 2)


def test_a_message_and_its_conversations_update_are_one_statement(
    pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into an open conversation: read without a lock, then the update (only of the row as
    it was read) and the message's insert as one statement, whose result gives the new
    version: neither BEGIN nor COMMIT, one connection from the pool."""
    with TestClient(create_app(make_settings(tmp_path, pg_schema))) as client:
        owner, project, visitor, rid, before = _said_hello(client, pg_schema)
        with _recorded_transactions(monkeypatch) as sent:
            second = visitor.send(rid, "again")
        assert second.status_code == 200, second.text
        assert [s.split(" ", 1)[0] for s in sent] == ["SELECT", "WITH"]
        assert "FOR NO KEY UPDATE" not in sent[0]
        assert "UPDATE requests" in sent[1] and "INSERT INTO messages" in sent[1]
        assert asyncio.run(_version(pg_schema, rid)) == before + 1
        assert second.json()["recipient"] == rid
        texts = [m["text"] for m in client.get(f"/{project.id}/requests/{rid}/messages",
                                                 headers=owner.headers).json()]
        assert texts[-2:] == ["hello", "again"]
        with _recorded_transactions(monkeypatch) as sent:  # from the copy the process kept
            third = visitor.send(rid, "third")
        assert third.status_code == 200, third.text
        assert [s.split(" ", 1)[0] for s in sent] == ["WITH"]


def _a_new_visitor(client: TestClient) -> tuple[Factory, Any, Any, Any, str]:
    """An agent, its project, a visitor of the project and a conversation id not used yet."""
    make = Factory(client)
    owner = make.agent()
    project = make.project(owner)
    visitor = make.visitor(project)
    return make, owner, project, visitor, visitor.new_request_id()


def test_a_first_message_inserts_its_conversation_as_the_message_leaves_it(
    pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new conversation's row is inserted with its first message's changes (version 1),
    with no update after the message; the membership, the session's proof and whether the
    visitor has a contact are read with the conversation's absence, and a contact it has not
    is inserted unread."""
    with TestClient(create_app(make_settings(tmp_path, pg_schema))) as client:
        make, owner, project, visitor, rid = _a_new_visitor(client)
        with _recorded_transactions(monkeypatch) as sent:
            first = visitor.send(rid, "hello")
        assert first.status_code == 200, first.text
        assert not [s for s in sent if s.startswith("UPDATE requests")], sent
        # The message leaves with the conversation's insert, not in a statement of its own.
        inserts = [s for s in sent if "INSERT INTO messages" in s]
        assert len(inserts) == 1 and "INSERT INTO requests" in inserts[0], sent
        member_reads = [s for s in sent if "FROM sessions" in s]
        assert len(member_reads) == 1 and "FROM project_users" in member_reads[0]
        # Read with the conversation's absence, before BEGIN: one round trip for both.
        assert "FROM requests r" in member_reads[0]
        assert sent.index(member_reads[0]) < sent.index("BEGIN;")
        # That read said the visitor has no contact: it is inserted without being read.
        assert not [s for s in sent if s.startswith("SELECT") and "FROM leads l WHERE" in s
                    and "FROM sessions" not in s], sent
        assert asyncio.run(_version(pg_schema, rid)) == 1
        read = client.get(f"/{project.id}/requests/{rid}", headers=owner.headers).json()
        assert read["last_text"] == "hello"
        assert read["lastMessage"]["_id"] == first.json()["_id"]
        assert read["updatedAt"] == read["createdAt"] == first.json()["createdAt"]
        # With the project's default department and agents cached by then, that is all: the
        # contact, the message and the conversation (whose lead_ref names the contact) are
        # one statement, the whole transaction, with neither BEGIN nor COMMIT.
        later = make.visitor(project)
        with _recorded_transactions(monkeypatch) as sent:
            assert later.send(later.new_request_id(), "hi").status_code == 200
        assert [s.split(" ", 3)[:3] for s in sent] == [
            ["SELECT", "c.*,", "m.*"], ["WITH", "guard", "AS"]], sent
        assert all(f"INSERT INTO {t}" in sent[1] for t in ("leads", "messages", "requests"))
        contacts = client.get(f"/{project.id}/leads", headers=owner.headers).json()["leads"]
        assert [c["lead_id"] for c in contacts if c["lead_id"] == later.id] == [later.id]


@pytest.mark.parametrize("line", ["off_hours", "verification_required"])
def test_a_first_message_a_system_line_follows_keeps_its_transaction(
    line: str, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside opening hours, or when the project's default department needs its visitors
    to verify first, a system line follows the first message: the conversation's insert is
    then not the transaction's last statement, even with the department cached (a named
    department is read in the transaction anyway), and the line is stored with it."""
    settings = make_settings(tmp_path, pg_schema)
    with TestClient(create_app(settings, clock=FakeClock(SUNDAY_NOON))) as client:
        make, owner, project, visitor, rid = _a_new_visitor(client)
        if line == "off_hours":  # Monday hours, and it is Sunday
            r = client.put(f"/projects/{project.id}", headers=owner.headers,
                           json={"activeOperatingHours": True, "operatingHours": MONDAYS})
        else:
            base = f"/{project.id}/departments"
            [default] = [d for d in client.get(base, headers=owner.headers).json()
                         if d["default"]]
            r = client.put(f"{base}/{default['_id']}", headers=owner.headers,
                           json={"minTier": "authenticated"})
        assert r.status_code == 200, r.text
        earlier = make.visitor(project)  # the project's department cached by its message
        assert earlier.send(earlier.new_request_id(), "hi").status_code == 200
        with _recorded_transactions(monkeypatch) as sent:
            answer = visitor.send(rid, "hello")
        assert answer.status_code == 200, answer.text
        assert not [s for s in sent if s.startswith("WITH guard")], sent
        assert "BEGIN;" in sent and sent[-1] == "COMMIT;", sent
        messages = client.get(f"/{project.id}/requests/{rid}/messages",
                              headers=visitor.headers).json()
        assert [m["attributes"].get("subtype") for m in messages] == [None, line]


@pytest.mark.parametrize("cached", [False, True])
def test_a_contact_made_meanwhile_sends_a_first_message_the_locked_way(
    cached: bool, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the read that found no contact and the conversation's insert, another
    transaction makes the visitor's contact: the insert fails on the contact it names, the
    transaction writes nothing, and the message goes the locked way, into that contact.
    With the project's department not cached yet the transaction has begun to read it;
    cached, the insert is the whole transaction (one statement, nothing to roll back)."""
    with TestClient(create_app(make_settings(tmp_path, pg_schema))) as client:
        make, owner, project, visitor, rid = _a_new_visitor(client)
        if cached:
            earlier = make.visitor(project)
            assert earlier.send(earlier.new_request_id(), "hi").status_code == 200
        services = client.app.state.services  # type: ignore[attr-defined]
        contact = services.ids.object_id()
        real_read = requests_storage.read_conversation_or_member
        made: list[str] = []

        async def then_a_contact(q: Any, project_id: str, request_id: str, *who: str) -> Any:
            read = await real_read(q, project_id, request_id, *who)
            if not made:
                made.append(who[0])
                async with services.db.transaction() as other:
                    await leads_storage.insert_lead(
                        other, id=contact, project_id=project_id, lead_id=who[0],
                        fullname="Made Meanwhile", email=None, phone=None, attributes={},
                        provenance={}, is_authenticated=False, now=1)
            return read

        monkeypatch.setattr(requests_storage, "read_conversation_or_member", then_a_contact)
        with _recorded_transactions(monkeypatch) as sent:
            first = visitor.send(rid, "hello")
        assert first.status_code == 200, first.text
        assert made == [visitor.id]
        tried = [s for s in sent if "INSERT INTO requests" in s]
        assert len(tried) == 2, sent  # the first try failed as a whole, then the locked way
        if cached:
            assert tried[0].startswith("WITH guard AS (INSERT INTO requests")
            assert sent.index(tried[0]) < sent.index("BEGIN;", sent.index("COMMIT;"))
            assert "ROLLBACK;" not in sent
        else:
            assert "ROLLBACK;" in sent
        read = client.get(f"/{project.id}/requests/{rid}", headers=owner.headers).json()
        assert read["lead"]["_id"] == contact, read["lead"]
        assert read["lead"]["attributes"]["senderAuthInfo"]  # brought up to date
        contacts = client.get(f"/{project.id}/leads", headers=owner.headers).json()["leads"]
        assert [c["_id"] for c in contacts if c["lead_id"] == visitor.id] == [contact]
        texts = [m["text"] for m in client.get(f"/{project.id}/requests/{rid}/messages",
                                                 headers=owner.headers).json()]
        assert texts == ["hello"]


@pytest.mark.parametrize("same_visitor", [False, True])
def test_a_conversation_made_meanwhile_writes_nothing_in_its_first_try(
    same_visitor: bool, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read before the insert found no conversation, but one with that id was made
    since: the one statement that would insert it with its contact and message writes
    nothing, and the message goes the locked way. Another visitor's conversation refuses
    it, leaving no contact behind; the visitor's own takes it as its next message, once."""
    with TestClient(create_app(make_settings(tmp_path, pg_schema))) as client:
        make, owner, project, maker, rid = _a_new_visitor(client)
        earlier = make.visitor(project)  # the project's department cached by its message
        assert earlier.send(earlier.new_request_id(), "hi").status_code == 200
        visitor = maker if same_visitor else make.visitor(project)
        real_read = requests_storage.read_conversation_or_member
        unused = visitor.new_request_id()
        first_read: list[Any] = []

        async def before_it_was_made(q: Any, project_id: str, request_id: str,
                                     *who: str) -> Any:
            if same_visitor:  # the second as the first read: no conversation, no contact
                first_read.append(first_read[0] if first_read else
                                  await real_read(q, project_id, request_id, *who))
                return first_read[-1]
            # Another visitor's read a moment before the conversation was made.
            if who[0] == visitor.id:
                request_id = unused
            return await real_read(q, project_id, request_id, *who)

        monkeypatch.setattr(requests_storage, "read_conversation_or_member",
                            before_it_was_made)
        assert maker.send(rid, "hello").status_code == 200
        with _recorded_transactions(monkeypatch) as sent:
            answer = visitor.send(rid, "mine now")
        guarded = [s for s in sent if s.startswith("WITH guard AS (INSERT INTO requests")]
        assert len(guarded) == 1 and sent.index(guarded[0]) < sent.index("BEGIN;"), sent
        texts = [m["text"] for m in client.get(f"/{project.id}/requests/{rid}/messages",
                                                 headers=owner.headers).json()]
        if same_visitor:
            assert answer.status_code == 200, answer.text
            assert texts == ["hello", "mine now"]
            assert asyncio.run(_counted(pg_schema, rid)) == ("mine now", 2)
        else:
            assert answer.status_code == 403 and answer.json()["code"] == "not_your_request"
            assert texts == ["hello"]
            assert asyncio.run(_counted(pg_schema, rid)) == ("hello", 1)
        contacts = client.get(f"/{project.id}/leads", headers=owner.headers).json()["leads"]
        assert len([c for c in contacts if c["lead_id"] == visitor.id]) == int(same_visitor)


def test_a_conversation_changed_since_it_was_read_takes_the_locked_way(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unlocked read saw an older version (another change committed in between): the
    guarded write lands nothing, and the message goes the locked way, once."""
    real_get = requests_storage.get_request
    real_read = requests_storage.read_conversation_or_member
    stale: list[str] = []
    locked: list[str] = []

    async def older(q: Any, project_id: str, request_id: str, *visitor: str) -> Any:
        read, member = await real_read(q, project_id, request_id, *visitor)
        if read is not None and not stale:
            # As it was before its first message: written from this row, the count is wrong.
            stale.append(request_id)
            stored = read.stored
            return requests_storage.StoredConversation(
                {**stored, "version": stored["version"] - 1,
                 "visitor_messages": stored["visitor_messages"] - 1}), member
        return read, member

    async def counted(q: Any, project_id: str, request_id: str, *, lock: bool = False) -> Any:
        if lock:
            locked.append(request_id)
        return await real_get(q, project_id, request_id, lock=lock)

    with TestClient(create_app(make_settings(tmp_path, database_url))) as client:
        owner, project, visitor, rid, before = _said_hello(client, database_url)
        monkeypatch.setattr(requests_storage, "read_conversation_or_member", older)
        monkeypatch.setattr(requests_storage, "get_request", counted)
        second = visitor.send(rid, "again")
        assert second.status_code == 200, second.text
        assert stale == [rid] and locked == [rid]  # handed the older row, then locked
        assert asyncio.run(_version(database_url, rid)) == before + 1
        texts = [m["text"] for m in client.get(f"/{project.id}/requests/{rid}/messages",
                                                 headers=owner.headers).json()]
        assert texts == ["hello", "again"]
        assert asyncio.run(_counted(database_url, rid)) == ("again", 2)


async def _counted(url: str, request_id: str) -> tuple[str, int]:
    db = await open_database(url)
    try:
        row = await db.fetch_one(
            "SELECT last_text, visitor_messages FROM requests WHERE request_id = $1", request_id)
        assert row is not None
        return row["last_text"], row["visitor_messages"]
    finally:
        await db.close()


def test_a_message_is_appended_only_to_the_version_it_was_read_at(database_url: str) -> None:
    """``requests.append_message`` on both databases: at the version read, the message and
    the update land together; at an older one, or for another requester, neither does."""
    rid = f"support-group-{PID}-{0:032x}"

    def message(id: str, text: str) -> MessageRecord:
        return {"id": id, "project_id": PID, "request_id": rid, "sender": "visitor-0",
                "sender_kind": "visitor", "sender_fullname": "guest", "text": text,
                "type": "text", "attributes": {}, "metadata": None, "status": 150,
                "created_at": 5}

    async def scenario(db: Database) -> tuple[list[int | None], list[Any]]:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO requests (id, project_id, request_id, requester_id,"
                " requester_user_id, status, created_at, updated_at)"
                " VALUES ('r1', $1, $2, 'm1', 'visitor-0', 200, 0, 0)", PID, rid)
        versions: list[int | None] = []
        for id, text, version, requester in (
            ("a", "first", 0, "visitor-0"),
            ("b", "stale", 0, "visitor-0"),
            ("c", "handed over", 1, "visitor-9"),  # a merge moved it: same version
            ("d", "second", 1, "visitor-0"),
        ):
            async with db.transaction() as tx:
                versions.append(await requests_storage.append_message(
                    tx, message(id, text), "r1", version=version, requester_user_id=requester,
                    now=5, last_text=text))
        texts = [r["text"] for r in await db.fetch_all(
            "SELECT text FROM messages WHERE request_id = $1 ORDER BY id", rid)]
        last = await db.fetch_value("SELECT last_text FROM requests WHERE id = 'r1'")
        return versions, [texts, last]

    versions, stored = _run(scenario, database_url)
    assert versions == [1, None, None, 2]
    assert stored == [["first", "second"], "second"]


def test_write_last_is_the_transactions_last_statement(pg_schema: str) -> None:
    """Sent first, it leaves with the queued writes as one statement without BEGIN; a
    statement after it is refused, and the transaction rolls back nothing it sent."""

    async def scenario(db: Database) -> tuple[list[str], list[str]]:
        sent: list[str] = []
        with pytest.raises(RuntimeError, match="write_last"):
            async with db.transaction() as tx:
                _statements(tx, sent)
                await tx.execute_later(_AUDIT, "e" * 24, PID, "queued", 1)
                value = await tx.write_last(
                    "UPDATE projects SET name = 'renamed' WHERE id = $1 RETURNING name", PID)
                assert value == "renamed"
                await tx.execute_later(_AUDIT, "f" * 24, PID, "too late", 2)
        return sent, await _types(db)

    sent, types = _run(scenario, pg_schema)
    assert [s.split(" ", 1)[0] for s in sent] == ["WITH"]
    assert types == ["queued"]  # one statement: committed on its own, before the error


def _said_hello(client: TestClient, url: str) -> tuple[Any, Any, Any, str, int]:
    """An agent, a project, a visitor whose first message "hello" opened a conversation: the
    agent, project, visitor, the conversation's id and its version."""
    make = Factory(client)
    owner = make.agent()
    project = make.project(owner)
    visitor = make.visitor(project)
    rid = visitor.new_request_id()
    first = visitor.send(rid, "hello")
    assert first.status_code == 200, first.text
    return owner, project, visitor, rid, asyncio.run(_version(url, rid))


async def _version(url: str, request_id: str) -> int:
    db = await open_database(url)
    try:
        return int(await db.fetch_value(
            "SELECT version FROM requests WHERE request_id = $1", request_id))
    finally:
        await db.close()


def test_a_connection_goes_back_to_the_pool_without_a_reset_round_trip(pg_schema: str) -> None:
    """asyncpg's default reset (RESET ALL, UNLISTEN *, …) would cost every checkout one more
    round trip; frontdesk leaves no session state, so none is sent."""

    async def scenario(db: Database) -> list[str]:
        sent: list[str] = []
        assert isinstance(db, database.PostgresDatabase)
        async with db.pool.acquire() as conn:
            conn.add_query_logger(lambda logged: sent.append(logged.query))
            await conn.fetchval("SELECT 1")
        await asyncio.sleep(0.05)  # query loggers are called soon after, not at once
        return sent

    assert _run(scenario, pg_schema) == ["SELECT 1"]
