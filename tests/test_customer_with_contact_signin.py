"""A returning customer with a contact signs in with its membership and contact read without a
lock and one write (actions/visitors.py ``_refresh_returning_customer``): the write lands only
if the contact and the membership are still as read. Its next sign-ins skip the read while the
process keeps the contact as it wrote it, and the write checks the kept copy the same way."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from frontdesk.storage import leads, project_users, sessions
from frontdesk.storage.contact_hints import ContactHints, KeptContact
from tests.conftest import Factory, Project, sign_customer_token


def _services(make: Factory) -> Any:
    return make.client.app.state.services  # type: ignore[attr-defined]


def _run(make: Factory, work: Any) -> Any:
    return make.client.portal.call(work)  # type: ignore[union-attr]


def _customer_with_contact(make: Factory, project: Project, customer: str) -> None:
    signed = make.visitor(project, authenticated=True, _id=customer, email="old@x.example")
    rid = signed.new_request_id()
    assert signed.send(rid, "hello").status_code == 200  # the first message makes its contact


def _sign_in(make: Factory, project: Project, customer: str, **claims: Any) -> Any:
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, _id=customer, **claims)
    return make.client.post("/auth/signinWithCustomToken",
                            headers={"Authorization": "JWT " + token})


def _lead(make: Factory, project: Project, customer: str) -> Any:
    r = make.client.get(f"/{project.id}/leads/{customer}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_returning_customer_brings_its_contact_and_profile_up_to_date(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make.project()
    _customer_with_contact(make, project, "c-1")
    written = _count_calls(monkeypatch, leads, "refresh_customer_lead")
    r = _sign_in(make, project, "c-1", email="new@x.example", firstname="Neo", lastname="Anders")
    assert r.status_code == 200, r.text
    assert written == [True]  # the read and one write, not the locked way
    lead = _lead(make, project, "c-1")
    assert (lead["fullname"], lead["email"]) == ("Neo Anders", "new@x.example")
    assert lead["provenance"]["email"]["source"] == "token"
    assert lead["attributes"]["senderAuthInfo"]["authVar"]["token"]["email"] == "new@x.example"
    mine = make.client.get(f"/{project.id}/requests/me",
                           headers={"Authorization": r.json()["token"]})
    assert mine.status_code == 200 and len(mine.json()["requests"]) == 1, mine.text
    events = make.client.get(f"/{project.id}/audit?type=signin.custom",
                             headers=project.owner.headers).json()["events"]
    assert [e["subject"] for e in events] == ["c-1", "c-1"]


def test_the_write_lands_only_on_the_contact_as_read(make: Factory) -> None:
    """A contact changed after it was read (an agent's edit, another process's sign-in): the
    write changes nothing, and no session or audit row is written with it."""
    project = make.project()
    _customer_with_contact(make, project, "c-2")
    services = _services(make)
    session_row = sessions.new_session(
        jti=uuid.uuid4().hex, project_id=project.id, subject_id="c-2", kind="userexternal",
        auth_info={}, issued_at=1, expires_at=2, ip=None)

    async def attempt(change: str | None) -> bool:
        async with services.db.transaction() as tx:
            found = await leads.customer_lead(tx, project.id, "c-2")
        assert found is not None
        member_id, stored = found
        if change is not None:
            async with services.db.transaction() as tx:
                await tx.execute(change, stored["id"], member_id)
        lead = leads.decoded(stored)
        lead["fullname"] = "Written From The Copy"
        member = project_users.customer_change(member_id, profile={"firstname": "W"},
                                               attributes={}, now=3)
        async with services.db.transaction() as tx:
            written = await leads.refresh_customer_lead(
                tx, stored, lead, member_id=member_id, now=3, then=[member, session_row])
        return written is not None

    edits = [
        "UPDATE leads SET email = 'agent@x.example' WHERE id = $1 AND $2 <> ''",
        "UPDATE leads SET attributes = '{\"note\":\"vip\"}' WHERE id = $1 AND $2 <> ''",
        "UPDATE project_users SET role = 'guest' WHERE id = $2 AND $1 <> ''",
    ]
    for edit in edits:
        assert _run(make, lambda edit=edit: attempt(edit)) is False, edit
        assert _lead(make, project, "c-2")["fullname"] != "Written From The Copy"

    async def session_count() -> int:
        return int(await services.db.fetch_value(
            "SELECT COUNT(*) FROM sessions WHERE jti = $1", session_row.values[0]))

    assert _run(make, session_count) == 0
    _run(make, lambda: _restore_role(services))
    assert _run(make, lambda: attempt(None)) is True
    assert _lead(make, project, "c-2")["fullname"] == "Written From The Copy"
    assert _run(make, session_count) == 1


async def _restore_role(services: Any) -> None:
    async with services.db.transaction() as tx:
        await tx.execute("UPDATE project_users SET role = 'user' WHERE user_id = 'c-2'")


def test_another_kind_of_member_is_refused_as_before(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    anonymous.send(anonymous.new_request_id(), "hi")
    r = _sign_in(make, project, anonymous.id, email="x@x.example")
    assert r.status_code == 409 and r.json()["code"] == "identity_conflict"


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    """The answers of ``module.name`` from now on, one per call."""
    answers: list[Any] = []
    real = getattr(module, name)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        answer = await real(*args, **kwargs)
        # refresh_customer_lead answers the contact as written, or None: whether it landed
        answers.append(answer if name != "refresh_customer_lead" else answer is not None)
        return answer

    monkeypatch.setattr(module, name, counted)
    return answers


def test_a_customer_signed_in_with_its_contact_goes_to_it_at_once(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first sign-in with a contact tries the way for a customer without one first; the
    next ones go to the contact at once (no statement that matches nothing)."""
    project = make.project()
    _customer_with_contact(make, project, "c-4")
    without = _count_calls(monkeypatch, project_users, "refresh_customer")
    written = _count_calls(monkeypatch, leads, "refresh_customer_lead")
    read = _count_calls(monkeypatch, leads, "customer_lead")
    assert _sign_in(make, project, "c-4", email="a@x.example").status_code == 200
    assert (without, written, len(read)) == ([False], [True], 1)
    for email in ("b@x.example", "c@x.example"):
        assert _sign_in(make, project, "c-4", email=email).status_code == 200
    # The contact as the previous sign-in wrote it: no read, and the write lands.
    assert (without, written, len(read)) == ([False], [True, True, True], 1)
    lead = _lead(make, project, "c-4")
    assert lead["email"] == "c@x.example"
    assert lead["attributes"]["senderAuthInfo"]["authVar"]["token"]["email"] == "c@x.example"


def test_a_contact_changed_since_it_was_kept_is_read_and_written_again(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent's edit (or a merge, or another process's sign-in) after the sign-in that kept
    the contact: the kept copy's write lands nowhere, and the contact is read and written, the
    edit kept."""
    project = make.project()
    _customer_with_contact(make, project, "c-7")
    assert _sign_in(make, project, "c-7", email="a@x.example").status_code == 200
    services = _services(make)
    assert services.contact_hints.written(project.id, "c-7") is not None

    async def edit() -> None:
        async with services.db.transaction() as tx:
            await tx.execute("UPDATE leads SET phone = '+39 055 0000'"
                             " WHERE project_id = $1 AND lead_id = 'c-7'", project.id)

    _run(make, edit)
    written = _count_calls(monkeypatch, leads, "refresh_customer_lead")
    read = _count_calls(monkeypatch, leads, "customer_lead")
    r = _sign_in(make, project, "c-7", email="b@x.example")
    assert r.status_code == 200, r.text
    assert (written, len(read)) == ([False, True], 1)
    lead = _lead(make, project, "c-7")
    assert (lead["phone"], lead["email"]) == ("+39 055 0000", "b@x.example")
    # What is kept now is what is stored: the next sign-in writes from it without a read.
    assert services.contact_hints.written(project.id, "c-7").stored["phone"] == "+39 055 0000"
    assert _sign_in(make, project, "c-7", email="c@x.example").status_code == 200
    assert (written, len(read)) == ([False, True, True], 1)
    assert _lead(make, project, "c-7")["phone"] == "+39 055 0000"


def test_a_hint_out_of_date_costs_a_statement_never_a_wrong_sign_in(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contact is gone (as another process's erasure leaves it): the customer is signed in
    the locked way, and the hint is forgotten: the next sign-in is a customer's without one."""
    project = make.project()
    _customer_with_contact(make, project, "c-5")
    assert _sign_in(make, project, "c-5").status_code == 200
    services = _services(make)
    assert services.contact_hints.has_contact(project.id, "c-5")

    async def drop_contact() -> None:
        async with services.db.transaction() as tx:  # its conversations go with it
            await tx.execute("DELETE FROM leads WHERE project_id = $1 AND lead_id = 'c-5'",
                             project.id)

    _run(make, drop_contact)
    without = _count_calls(monkeypatch, project_users, "refresh_customer")
    written = _count_calls(monkeypatch, leads, "refresh_customer_lead")
    r = _sign_in(make, project, "c-5")
    assert r.status_code == 200, r.text
    # The kept contact's write lands nowhere, and the read finds none: the locked way.
    assert (without, written) == ([], [False])
    assert not services.contact_hints.has_contact(project.id, "c-5")
    assert r.json()["user"]["_id"] == "c-5"
    mine = make.client.get(f"/{project.id}/requests/me",
                           headers={"Authorization": r.json()["token"]})
    assert mine.status_code == 200 and mine.json()["requests"] == [], mine.text
    assert _sign_in(make, project, "c-5").status_code == 200
    assert (without, written) == ([True], [False])


def test_erasing_a_contact_forgets_its_hint(make: Factory) -> None:
    project = make.project()
    _customer_with_contact(make, project, "c-6")
    assert _sign_in(make, project, "c-6").status_code == 200
    services = _services(make)
    assert services.contact_hints.has_contact(project.id, "c-6")
    r = make.client.delete(f"/{project.id}/leads/c-6", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    assert not services.contact_hints.has_contact(project.id, "c-6")
    assert services.contact_hints.written(project.id, "c-6") is None


def test_hints_are_bounded_least_recently_used_first() -> None:
    hints = ContactHints(size=2)
    hints.remember("p", "a")
    hints.remember("p", "b")
    hints.remember("p", "a")  # used again: "b" is now the oldest
    hints.remember("p", "c")
    assert len(hints) == 2
    assert [hints.has_contact("p", c) for c in "abc"] == [True, False, True]
    assert not hints.has_contact("q", "a")  # per project
    hints.forget("p", "a")
    assert not hints.has_contact("p", "a")


def test_kept_contacts_are_bounded_least_recently_used_first() -> None:
    hints = ContactHints(size=10, contacts=2)
    for customer in "abac":
        hints.keep("p", customer, KeptContact("m-" + customer, {"id": "l-" + customer}))
    assert [hints.written("p", c) is not None for c in "abc"] == [True, False, True]
    assert hints.has_contact("p", "b")  # the hint outlives the copy
    hints.forget("p", "c")
    assert hints.written("p", "c") is None and not hints.has_contact("p", "c")
