"""Project keys: several live keys picked by kid, rotation with grace, public keys, JWKS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from starlette.testclient import TestClient

from frontdesk.clock import FakeClock
from tests.auth.jwks_server import JwksHost, jwks_host
from tests.conftest import Factory, Project
from tests.identity_helpers import (
    claims_for,
    ec_private_key,
    forge_hs256,
    jwk_of,
    public_pem,
    rsa_private_key,
    sign,
)


def signin(client: TestClient, token: str) -> Any:
    return client.post("/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token})


def assert_no_visitor(make: Factory, project: Project, visitor_id: str) -> None:
    r = make.client.get(f"/{project.id}/project_users/users/{visitor_id}",
                        headers=project.owner.headers)
    assert r.status_code == 404, r.text


def test_several_shared_keys_are_picked_by_kid_and_never_shown_again(
    app_factory: Any,
) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project()
    second = make.client.post(f"/{project.id}/keys", json={"kind": "shared", "label": "eu"},
                              headers=project.owner.headers)
    assert second.status_code == 200, second.text
    assert len(second.json()["jwtSecret"]) >= 64
    for kid, secret in ((project.kid, project.secret), (second.json()["kid"],
                                                          second.json()["jwtSecret"])):
        token = sign(claims_for(project.id, clock.now(), _id=f"c-{kid}"), secret, "HS256", kid)
        r = signin(make.client, token)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["_id"] == f"c-{kid}"
    listed = make.client.get(f"/{project.id}/keys", headers=project.owner.headers)
    assert {k["state"] for k in listed.json()} == {"active"}
    assert project.secret not in listed.text and second.json()["jwtSecret"] not in listed.text


def test_rotation_logs_nobody_out_during_the_grace_period(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock, key_grace_period=3600))
    project = make.project()
    old_token = sign(claims_for(project.id, clock.now(), ttl=7200), project.secret, "HS256",
                     project.kid)
    rotated = make.client.post(f"/{project.id}/keys/generate", headers=project.owner.headers)
    states = {k["kid"]: k["state"] for k in rotated.json()["keys"]}
    assert states == {project.kid: "grace", rotated.json()["kid"]: "active"}
    assert signin(make.client, old_token).status_code == 200
    clock.advance(3601)
    refused = signin(make.client, old_token)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unknown_kid"
    new_token = sign(claims_for(project.id, clock.now()), rotated.json()["jwtSecret"], "HS256",
                     rotated.json()["kid"])
    assert signin(make.client, new_token).status_code == 200


def test_retiring_a_key_at_once_or_with_grace(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project()
    token = sign(claims_for(project.id, clock.now(), _id="c-1"), project.secret, "HS256",
                 project.kid)
    graceful = make.client.delete(f"/{project.id}/keys/{project.kid}?grace=60",
                                  headers=project.owner.headers)
    assert graceful.json()["state"] == "grace"
    assert signin(make.client, token).status_code == 200
    at_once = make.client.delete(f"/{project.id}/keys/{project.kid}?grace=0",
                                 headers=project.owner.headers)
    assert at_once.json()["state"] == "retired"
    refused = signin(make.client, sign(claims_for(project.id, clock.now(), _id="c-2"),
                                       project.secret, "HS256", project.kid))
    assert refused.json()["code"] == "unknown_kid"
    assert_no_visitor(make, project, "c-2")
    missing = make.client.delete(f"/{project.id}/keys/nope", headers=project.owner.headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "unknown_kid")
    retired = make.client.get(f"/{project.id}/audit?type=key.retired",
                              headers=project.owner.headers).json()["events"]
    assert [e["details"]["graceSeconds"] for e in retired] == [0, 60]
    assert {e["actor"] for e in retired} == {project.owner.id}


def test_public_key_verifies_rs256_and_refuses_the_confusion_attack(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project(with_secret=False)
    pem = public_pem(rsa_private_key())
    created = make.client.post(f"/{project.id}/keys", headers=project.owner.headers,
                               json={"kind": "public", "kid": "rsa-2026", "publicKey": pem})
    assert created.status_code == 200, created.text
    assert created.json()["algorithms"] == ["RS256"] and "jwtSecret" not in created.json()
    good = sign(claims_for(project.id, clock.now(), _id="c-rsa"), rsa_private_key(), "RS256",
                "rsa-2026")
    r = signin(make.client, good)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["_id"] == "c-rsa"
    for kid, code in (("rsa-2026", "algorithm_mismatch"), (None, "unsupported_algorithm")):
        forged = forge_hs256(claims_for(project.id, clock.now(), _id="c-forged"),
                             pem.encode(), kid)
        refused = signin(make.client, forged)
        assert (refused.status_code, refused.json()["code"]) == (401, code)
    assert_no_visitor(make, project, "c-forged")


def test_pasted_jwks_registers_its_keys_by_kid(app_factory: Any) -> None:
    clock = FakeClock()
    make = Factory(app_factory(clock=clock))
    project = make.project()
    jwks = {"keys": [jwk_of(ec_private_key(), "ec-1"), jwk_of(rsa_private_key(), "rsa-1")]}
    r = make.client.post(f"/{project.id}/keys/jwks", json={"jwks": jwks},
                         headers=project.owner.headers)
    assert r.status_code == 200, r.text
    assert [(k["kid"], k["kind"]) for k in r.json()] == [("ec-1", "ec"), ("rsa-1", "rsa")]
    token = sign(claims_for(project.id, clock.now()), ec_private_key(), "ES256", "ec-1")
    assert signin(make.client, token).status_code == 200
    again = make.client.post(f"/{project.id}/keys/jwks", json={"jwks": jwks},
                             headers=project.owner.headers)
    assert (again.status_code, again.json()["code"]) == (409, "kid_taken")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "public", "publicKey": "not a key"}, "invalid_public_key"),
        ({"kind": "public"}, "missing_public_key"),
    ],
)
def test_bad_public_keys_are_refused(make: Factory, body: dict[str, Any], code: str) -> None:
    project = make.project(with_secret=False)
    r = make.client.post(f"/{project.id}/keys", json=body, headers=project.owner.headers)
    assert (r.status_code, r.json()["code"]) == (422, code)
    assert make.client.get(f"/{project.id}/keys", headers=project.owner.headers).json() == []


def test_a_private_key_is_refused_and_not_stored(make: Factory) -> None:
    project = make.project(with_secret=False)
    private_pem = rsa_private_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    r = make.client.post(f"/{project.id}/keys", headers=project.owner.headers,
                         json={"kind": "public", "publicKey": private_pem})
    assert (r.status_code, r.json()["code"]) == (422, "private_key_sent")
    secret_jwk = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}
    r = make.client.post(f"/{project.id}/keys/jwks", headers=project.owner.headers,
                         json={"jwks": secret_jwk})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_jwks")
    assert make.client.get(f"/{project.id}/keys", headers=project.owner.headers).json() == []


def test_keys_are_for_admins_only(make: Factory) -> None:
    project = make.project()
    agent = make.member(project, "agent")
    for method, path in (("GET", "keys"), ("POST", "keys/generate"),
                         ("DELETE", f"keys/{project.kid}")):
        r = make.client.request(method, f"/{project.id}/{path}", headers=agent.headers)
        assert (r.status_code, r.json()["code"]) == (403, "insufficient_role")


def test_another_projects_key_id_is_unknown_here(make: Factory) -> None:
    a, b = make.project(), make.project()
    assert a.secret is not None and b.secret is not None
    with_a_kid = sign(claims_for(b.id, 0, exp=None, iat=None, _id="c-x"), a.secret, "HS256",
                      a.kid)
    refused = signin(make.client, with_a_kid)
    assert (refused.status_code, refused.json()["code"]) == (401, "unknown_kid")
    with_b_kid = sign(claims_for(b.id, 0, exp=None, iat=None, _id="c-x"), a.secret, "HS256",
                      b.kid)
    assert signin(make.client, with_b_kid).json()["code"] == "bad_signature"
    assert_no_visitor(make, b, "c-x")


@pytest.fixture
def jwks_server(tmp_path: Path) -> Iterator[tuple[JwksHost, str]]:
    with jwks_host(tmp_path, {"keys": [jwk_of(rsa_private_key(), "site-1")]}) as running:
        yield running


def test_jwks_url_is_fetched_cached_and_refetched_on_rotation(
    app_factory: Any, jwks_server: tuple[JwksHost, str]
) -> None:
    host, ca_file = jwks_server
    url = host.url("/.well-known/jwks.json")
    clock = FakeClock()
    make = Factory(app_factory(clock=clock, jwks_ca_file=ca_file, jwks_allow_private=True,
                               jwks_cache_seconds=300, jwks_min_refetch_seconds=30))
    project = make.project(with_secret=False)
    r = make.client.post(f"/{project.id}/keys/jwks", json={"url": url},
                         headers=project.owner.headers)
    assert r.status_code == 200, r.text
    fetches = host.fetches
    assert r.json()[0]["kind"] == "jwks" and fetches["/.well-known/jwks.json"] == 1
    for n in range(2):
        token = sign(claims_for(project.id, clock.now(), _id=f"c-{n}"), rsa_private_key(),
                     "RS256", "site-1")
        assert signin(make.client, token).status_code == 200
    assert fetches["/.well-known/jwks.json"] == 1  # served from the cache

    host.document = {"keys": [jwk_of(ec_private_key(), "site-2")]}
    clock.advance(31)
    rotated = sign(claims_for(project.id, clock.now()), ec_private_key(), "ES256", "site-2")
    assert signin(make.client, rotated).status_code == 200  # unknown kid: one refetch
    assert fetches["/.well-known/jwks.json"] == 2
    unknown = sign(claims_for(project.id, clock.now()), ec_private_key(), "ES256", "site-9")
    assert signin(make.client, unknown).json()["code"] == "unknown_kid"
    assert fetches["/.well-known/jwks.json"] == 2  # refetches are rate-limited


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/k", "ftp://example.com/k", "https:///k", "https://user:pw@example.com/k"],
)
def test_jwks_url_must_be_plain_https(make: Factory, url: str) -> None:
    project = make.project(with_secret=False)
    r = make.client.post(f"/{project.id}/keys/jwks", json={"url": url},
                         headers=project.owner.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_jwks_url")


def test_jwks_url_must_be_reachable(app_factory: Any) -> None:
    make = Factory(app_factory(jwks_allow_private=True))
    project = make.project(with_secret=False)
    r = make.client.post(f"/{project.id}/keys/jwks", json={"url": "https://127.0.0.1:9/k"},
                         headers=project.owner.headers)
    assert (r.status_code, r.json()["code"]) == (422, "jwks_unreachable")
    assert "127.0.0.1" not in r.text and "refused" not in r.text.lower()
