"""Refused customer tokens against a running server: a flood is limited and summarised, hostile
bytes in the unverified fields are stored cleaned, and no expiry makes the server fail.

Each test runs on SQLite and on PostgreSQL (NUL and 64-bit overflows are PostgreSQL's
failures) through uvicorn, as an attacker would send them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Factory, Project, make_settings
from tests.live import LiveServer, live_server
from tests.realtime.served import shared_env, two_served
from tests.security.conftest import raw_jwt

SIGN_IN = "/auth/signinWithCustomToken"


@pytest.fixture
def server(
    tmp_path: Path, database_url: str, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    settings = make_settings(tmp_path, database_url, **overrides)
    with live_server(settings) as running:
        yield running


@pytest.fixture
def make(server: LiveServer) -> Iterator[Factory]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield Factory(http)  # type: ignore[arg-type]


def _claims(project: Project, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "userexternal", "aud": f"https://tiledesk.com/projects/{project.id}",
              "iat": now, "exp": now + 600, "_id": "customer-42"}
    claims.update(extra)
    return claims


def _token(project: Project, secret: str, header: dict[str, Any] | None = None,
           **claims: Any) -> str:
    head = {"alg": "HS256", "typ": "JWT", **(header or {})}
    return raw_jwt(json.dumps(head), json.dumps(_claims(project, **claims)), secret)


def _sign_in(make: Factory, token: str) -> httpx.Response:
    response: httpx.Response = make.client.post(SIGN_IN, headers={"Authorization": "JWT " + token})
    return response


def _failures(make: Factory, project: Project) -> list[dict[str, Any]]:
    r = make.client.get(f"/{project.id}/audit?type=signin.failed&limit=200",
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


FLOOD_LIMITS = {"failed_signin_rate_per_ip": 10, "failed_signin_rate_per_project": 120}


@pytest.mark.parametrize("server", [FLOOD_LIMITS], indirect=True)
def test_a_flood_of_forged_tokens_is_limited_and_summarised(make: Factory) -> None:
    project = make.project()
    filler = "x" * 1500  # the review's rows were about 2 KB each
    statuses: list[tuple[int, str]] = []
    for n in range(150):
        forged = _token(project, "guessed-secret-" + "y" * 40,
                        _id=f"victim-{n}-{filler}")
        r = _sign_in(make, forged)
        statuses.append((r.status_code, r.json()["code"]))
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
    assert statuses[:10] == [(401, "bad_signature")] * 10
    assert statuses[10:] == [(429, "rate_limited")] * 140
    rows = _failures(make, project)
    # One row for the refusals, one for the refusals past the limit: not one per token.
    assert sorted((e["code"], e["occurrences"]) for e in rows) == [
        ("bad_signature", 10), ("rate_limited", 140)
    ]
    assert all(len(json.dumps(e)) < 2048 for e in rows)
    # A valid token still signs in: the limit counts failures only.
    assert project.secret is not None
    good = _token(project, project.secret, {"kid": project.kid}, _id="customer-ok")
    assert _sign_in(make, good).status_code == 200


def test_nul_and_control_bytes_in_the_unverified_id_are_refused_and_stored_clean(
    make: Factory,
) -> None:
    project = make.project()
    forged = _token(project, "guessed-secret-" + "y" * 40, _id="mallory\x00\x1b[2J" + "z" * 3000)
    r = _sign_in(make, forged)
    assert (r.status_code, r.json()["code"]) == (401, "bad_signature")
    [row] = _failures(make, project)
    assert row["code"] == "bad_signature"
    assert row["subject"] == ("mallory[2J" + "z" * 3000)[:200]


@pytest.mark.parametrize("kid", ["k\x00", "\x00", "k" * 201, "\u202ek\x07"])
def test_a_kid_with_nul_or_control_bytes_is_an_unknown_kid_and_audited(
    make: Factory, kid: str
) -> None:
    project = make.project()
    assert project.secret is not None
    token = _token(project, project.secret, {"kid": kid}, _id="mallory\x00")
    r = _sign_in(make, token)
    assert (r.status_code, r.json()["code"]) == (401, "unknown_kid")
    [row] = _failures(make, project)
    assert (row["code"], row["subject"]) == ("unknown_kid", "mallory")


@pytest.mark.parametrize("exp", [2**40, 2**63, 2**64 - 1, 1e300])
def test_a_far_future_exp_on_a_single_use_project_signs_in_once(make: Factory, exp: Any) -> None:
    project = make.project()
    assert project.secret is not None
    r = make.client.put(f"/projects/{project.id}", json={"settings": {"single_use_tokens": True}},
                        headers=project.owner.headers)
    assert r.status_code == 200, r.text
    token = _token(project, project.secret, {"kid": project.kid}, exp=exp, jti="once-1")
    first = _sign_in(make, token)
    assert first.status_code == 200, first.text
    again = _sign_in(make, token)
    assert (again.status_code, again.json()["code"]) == (401, "replayed_token")


@pytest.mark.parametrize("exp", ["NaN", "Infinity", "-Infinity", str(2**64), str(10**30)])
def test_a_non_finite_or_oversized_exp_is_refused(make: Factory, exp: str) -> None:
    project = make.project()
    assert project.secret is not None
    claims = json.dumps(_claims(project, jti="once-2")).replace(
        '"exp": ', f'"exp": {exp}, "was": '
    )
    token = raw_jwt(json.dumps({"alg": "HS256", "typ": "JWT", "kid": project.kid}), claims,
                    project.secret)
    r = _sign_in(make, token)
    assert (r.status_code, r.json()["code"]) == (401, "invalid_token")


@pytest.mark.parametrize("claims", [
    '"firstname": "\\ud800"',
    '"attributes": {"plan": "\\udfff"}',
    '"attributes": {"\\ud800": 1}',
])
def test_a_lone_surrogate_in_a_signed_token_is_refused(make: Factory, claims: str) -> None:
    project = make.project()
    assert project.secret is not None
    body = json.dumps(_claims(project))[:-1] + ", " + claims + "}"
    token = raw_jwt(json.dumps({"alg": "HS256", "typ": "JWT", "kid": project.kid}), body,
                    project.secret)
    r = _sign_in(make, token)
    assert (r.status_code, r.json()["code"]) == (401, "invalid_token")


def test_concurrent_refusals_count_on_one_row(make: Factory, server: LiveServer) -> None:
    project = make.project()
    forged = _token(project, "guessed-secret-" + "y" * 40, _id="mallory")

    async def flood() -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            answers = await asyncio.gather(*(
                http.post(SIGN_IN, headers={"Authorization": "JWT " + forged})
                for _ in range(40)
            ))
        return [a.status_code for a in answers]

    assert asyncio.run(flood()) == [401] * 40
    assert [(e["code"], e["occurrences"]) for e in _failures(make, project)] == [
        ("bad_signature", 40)
    ]


@pytest.mark.postgres
@pytest.mark.redis
def test_a_flood_across_two_server_processes_stays_two_rows(
    tmp_path: Path, pg_schema: str
) -> None:
    with two_served(tmp_path, shared_env(pg_schema)) as (first, second):
        url_a, url_b = first.url, second.url
        with httpx.Client(base_url=url_a, timeout=30) as http:
            make = Factory(http)  # type: ignore[arg-type]
            project = make.project()
            forged = _token(project, "guessed-secret-" + "y" * 40, _id="mallory")

            async def flood() -> list[int]:
                async with httpx.AsyncClient(timeout=30) as client:
                    answers = await asyncio.gather(*(
                        client.post((url_a, url_b)[n % 2] + SIGN_IN,
                                    headers={"Authorization": "JWT " + forged})
                        for n in range(100)
                    ))
                return [a.status_code for a in answers]

            statuses = asyncio.run(flood())
            refused = statuses.count(401)
            # The limits are counted in Redis, shared by both processes: 10 a minute in all.
            assert refused == 10 and statuses.count(429) == 90
            rows = sorted((e["code"], e["occurrences"]) for e in _failures(make, project))
            assert rows == [("bad_signature", refused), ("rate_limited", 100 - refused)]
