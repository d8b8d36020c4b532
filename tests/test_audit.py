"""The identity audit log: sign-ins, failures with their codes, bursts, admin actions."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from frontdesk.clock import FakeClock
from tests.conftest import Factory, sign_customer_token


def audit(make: Factory, project: Any, query: str = "") -> dict[str, Any]:
    r = make.client.get(f"/{project.id}/audit{query}", headers=project.owner.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_signins_failures_and_rotations_are_recorded(make: Factory) -> None:
    project = make.project()
    anonymous = make.visitor(project)
    make.visitor(project, authenticated=True, _id="frank")
    expired = sign_customer_token(project.id, project.secret or "", kid=project.kid, ttl=-3600,
                                  _id="frank")
    make.client.post("/auth/signinWithCustomToken", headers={"Authorization": "JWT " + expired})
    make.client.post(f"/{project.id}/keys/generate", headers=project.owner.headers)
    events = audit(make, project)["events"]
    summary = [(e["type"], e["subject"], e["code"]) for e in events]
    assert summary[0][0] == "key.rotated"
    assert events[0]["details"]["retired"] == [project.kid]  # the key the rotation retired
    assert ("signin.failed", "frank", "token_expired") in summary
    assert ("signin.custom", "frank", None) in summary
    assert ("signin.anonymous", anonymous.id, None) in summary
    custom = next(e for e in events if e["type"] == "signin.custom")
    assert custom["kid"] == project.kid and custom["details"] == {"alg": "HS256"}
    failed = next(e for e in events if e["type"] == "signin.failed")
    assert failed["kid"] == project.kid
    assert failed["details"] == {"provider": "custom", "alg": "HS256"}
    assert all(e["flags"] == [] for e in events)


def test_audit_filters_and_pages(make: Factory) -> None:
    project = make.project()
    for _ in range(3):
        make.visitor(project)
    first = audit(make, project, "?type=signin.anonymous&limit=2")
    assert len(first["events"]) == 2 and first["next"] is not None
    rest = audit(make, project, f"?type=signin.anonymous&limit=2&before={first['next']}")
    assert len(rest["events"]) == 1 and rest["next"] is None
    ids = [e["_id"] for e in first["events"] + rest["events"]]
    assert len(set(ids)) == 3


def test_a_burst_of_failed_signins_is_flagged(app_factory: Any) -> None:
    clock = FakeClock(time.time())
    make = Factory(app_factory(clock=clock, audit_burst_threshold=3, audit_burst_window=300))
    project = make.project()
    forged = sign_customer_token(project.id, "guessed-" + "x" * 60, _id="mallory")
    codes = []
    for attempt in range(3):
        r = make.client.post("/auth/signinWithCustomToken",
                             headers={"Authorization": "JWT " + forged})
        codes.append(r.json()["code"])
        if attempt == 1:  # one short of the threshold: no burst yet
            listing = audit(make, project, "?type=signin.failed")
            assert listing["suspiciousBurst"] is False
            assert [(e["flags"], e["occurrences"]) for e in listing["events"]] == [([], 2)]
        clock.advance(10)
    assert codes == ["bad_signature"] * 3
    listing = audit(make, project, "?type=signin.failed")
    assert listing["suspiciousBurst"] is True
    # The three repeats of one refusal from one address are one row that counts them, from
    # the first (at) to the last (lastAt).
    assert [(e["flags"], e["occurrences"]) for e in listing["events"]] == [
        (["suspicious_burst"], 3)
    ]
    [row] = listing["events"]
    first, last = (datetime.fromisoformat(row[k]) for k in ("at", "lastAt"))
    assert (last - first).total_seconds() == 20


def test_the_audit_log_is_for_admins_of_the_project(make: Factory) -> None:
    project, other = make.project(), make.project()
    agent = make.member(project, "agent")
    visitor = make.visitor(project)
    for headers, code in ((agent.headers, "insufficient_role"),
                          (other.owner.headers, "not_a_member"),
                          (visitor.headers, "agents_only")):
        r = make.client.get(f"/{project.id}/audit", headers=headers)
        assert (r.status_code, r.json()["code"]) == (403, code)
    r = make.client.get(f"/{project.id}/audit?type=nonsense", headers=project.owner.headers)
    assert r.status_code == 422
