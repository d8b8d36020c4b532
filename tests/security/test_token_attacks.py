"""A catalogue of token attacks: each one is refused with 401, a precise code, and no writes.

Every attack goes where a real attacker would send it: the customer-token sign-in
(``/auth/signinWithCustomToken``) or an API call that takes a session token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient

from tests.conftest import Factory, Project, sign_customer_token
from tests.security.conftest import assert_error, b64url, raw_jwt, row_counts

SIGN_IN = "/auth/signinWithCustomToken"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # Verification happens before any query, so one backend is enough here; the storage side
    # of every refusal (nothing written) is the same code on both.
    return f"sqlite:///{tmp_path / 'frontdesk.db'}"


def _claims(project: Project, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "_id": "customer-42",
        "sub": "userexternal",
        "aud": f"https://tiledesk.com/projects/{project.id}",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(extra)
    return claims


def _sign_in(client: TestClient, token: str) -> Any:
    return client.post(SIGN_IN, headers={"Authorization": "JWT " + token})


def _refused_without_writes(client: TestClient, token: str, code: str) -> None:
    before = row_counts(client)
    assert_error(_sign_in(client, token), 401, code)
    assert row_counts(client) == before


def test_a_well_signed_token_is_the_control_case(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    response = _sign_in(make.client, sign_customer_token(project.id, project.secret, _id="c-1"))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["isAuthenticated"] is True


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_tokens_are_refused(make: Factory, alg: str) -> None:
    project = make.project()
    token = raw_jwt(json.dumps({"alg": alg, "typ": "JWT"}), json.dumps(_claims(project)), None)
    _refused_without_writes(make.client, token, "unsupported_algorithm")


@pytest.mark.parametrize("alg", ["hs256", "Hs256", "HS256 ", "HMAC256"])
def test_algorithm_names_are_matched_exactly(make: Factory, alg: str) -> None:
    project = make.project()
    assert project.secret is not None
    token = raw_jwt(
        json.dumps({"alg": alg, "typ": "JWT"}), json.dumps(_claims(project)), project.secret
    )
    _refused_without_writes(make.client, token, "unsupported_algorithm")


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(
    ("alg", "new_key"), [("RS256", _rsa_key), ("ES256", _ec_key)], ids=["RS256", "ES256"]
)
def test_asymmetric_tokens_are_refused_when_no_public_key_is_registered(
    make: Factory, alg: str, new_key: Callable[[], Any]
) -> None:
    project = make.project()
    token = jwt.encode(_claims(project), new_key(), algorithm=alg)
    _refused_without_writes(make.client, token, "unsupported_algorithm")


def test_hmac_keyed_with_a_public_key_is_refused(make: Factory) -> None:
    # The classic confusion attack: the public key, which anyone may know, used as HMAC secret.
    project = make.project()
    public_pem = (
        _rsa_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = raw_jwt(
        json.dumps({"alg": "HS256", "typ": "JWT"}), json.dumps(_claims(project)), public_pem
    )
    _refused_without_writes(make.client, token, "bad_signature")


@pytest.mark.parametrize(
    "kid", ["../../etc/passwd", "' OR 1=1 --", "k'; DROP TABLE sessions; --", "%00", ""]
)
def test_injected_kids_name_no_key(make: Factory, kid: str) -> None:
    project = make.project()
    assert project.secret is not None
    header = json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid})
    token = raw_jwt(header, json.dumps(_claims(project)), project.secret)
    _refused_without_writes(make.client, token, "unknown_kid")


def test_a_non_string_kid_is_malformed(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    header = json.dumps({"alg": "HS256", "typ": "JWT", "kid": {"$ne": None}})
    token = raw_jwt(header, json.dumps(_claims(project)), project.secret)
    _refused_without_writes(make.client, token, "malformed_token")


def test_oversized_tokens_are_refused_before_parsing(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, _id="c-1", padding="x" * 20_000)
    _refused_without_writes(make.client, token, "malformed_token")


def test_oversized_session_tokens_are_refused_on_api_calls(make: Factory) -> None:
    project = make.project()
    response = make.client.get(
        f"/{project.id}/requests/me", headers={"Authorization": "JWT " + "a" * 100_000}
    )
    assert_error(response, 401, "malformed_token")


@pytest.mark.parametrize(
    "claims_json",
    [
        '{{"_id": "alice", "_id": "mallory", "sub": "userexternal", "aud": "{aud}", "exp": {exp}}}',
        '{{"_id": "alice", "sub": "userexternal", "aud": "{aud}", "aud": "{aud}", "exp": {exp}}}',
        '{{"_id": "alice", "sub": "guest", "sub": "userexternal", "aud": "{aud}", "exp": {exp}}}',
    ],
    ids=["two _id", "two aud", "two sub"],
)
def test_repeated_claim_names_are_refused(make: Factory, claims_json: str) -> None:
    project = make.project()
    assert project.secret is not None
    aud = f"https://tiledesk.com/projects/{project.id}"
    claims = claims_json.format(aud=aud, exp=int(time.time()) + 600)
    token = raw_jwt('{"alg": "HS256", "typ": "JWT"}', claims, project.secret)
    _refused_without_writes(make.client, token, "malformed_token")


def test_repeated_header_names_are_refused(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    header = '{"alg": "none", "alg": "HS256", "typ": "JWT"}'
    token = raw_jwt(header, json.dumps(_claims(project)), project.secret)
    _refused_without_writes(make.client, token, "malformed_token")


def test_a_valid_signature_for_another_project_is_refused(make: Factory) -> None:
    victim, attacker = make.project(), make.project()
    assert attacker.secret is not None
    token = sign_customer_token(victim.id, attacker.secret, _id="ceo@victim")
    _refused_without_writes(make.client, token, "bad_signature")


def test_a_token_for_project_a_signs_nobody_into_project_b(make: Factory) -> None:
    a, b = make.project(), make.project()
    assert a.secret is not None
    session = _sign_in(make.client, sign_customer_token(a.id, a.secret, _id="c-1"))
    token = session.json()["token"]
    response = make.client.get(f"/{b.id}/requests/me", headers={"Authorization": token})
    assert_error(response, 403, "wrong_project")


def test_expiry_is_enforced_one_second_past_the_leeway(app_factory: Any) -> None:
    client: TestClient = app_factory(clock_skew_leeway=30)
    project = Factory(client).project()
    assert project.secret is not None
    now = int(time.time())
    inside = sign_customer_token(project.id, project.secret, _id="c-1", exp=now - 20)
    assert _sign_in(client, inside).status_code == 200
    beyond = sign_customer_token(project.id, project.secret, _id="c-2", exp=now - 31)
    _refused_without_writes(client, beyond, "token_expired")


def test_a_logged_out_session_cannot_be_replayed(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project, authenticated=True)
    assert make.client.post("/auth/logout", headers=visitor.headers).status_code == 200

    replayed = make.client.get(f"/{project.id}/requests/me", headers=visitor.headers)
    assert_error(replayed, 401, "session_revoked")
    raw_token = visitor.token.removeprefix("JWT ")
    _refused_without_writes(make.client, raw_token, "session_revoked")


def test_a_logged_out_agent_session_cannot_be_replayed(make: Factory) -> None:
    project = make.project()
    owner = project.owner
    assert make.client.post("/auth/logout", headers=owner.headers).status_code == 200
    assert_error(make.client.get("/projects", headers=owner.headers), 401, "session_revoked")


def test_a_guest_session_refreshes_as_a_guest_never_as_authenticated(make: Factory) -> None:
    project = make.project()
    guest = make.visitor(project)
    response = _sign_in(make.client, guest.token.removeprefix("JWT "))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["_id"] == guest.id
    assert response.json()["user"]["isAuthenticated"] is False


def test_a_guest_token_with_its_subject_edited_is_refused(make: Factory) -> None:
    project = make.project()
    guest = make.visitor(project)
    header, _, signature = guest.token.removeprefix("JWT ").split(".")
    claims = jwt.decode(guest.token.removeprefix("JWT "), options={"verify_signature": False})
    claims["sub"] = "userexternal"
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    _refused_without_writes(make.client, forged, "bad_signature")


def test_a_session_shaped_token_signed_with_the_project_secret_is_refused(
    make: Factory,
) -> None:
    # The project secret is the customer's; it must never mint the server's own sessions.
    project = make.project()
    assert project.secret is not None
    claims = _claims(project, iss="frontdesk", sub="guest", jti="a" * 32)
    claims["aud"] = f"frontdesk:projects/{project.id}"
    token = jwt.encode(claims, project.secret, algorithm="HS256")
    _refused_without_writes(make.client, token, "bad_signature")
    response = make.client.get(
        f"/{project.id}/requests/me", headers={"Authorization": "JWT " + token}
    )
    assert_error(response, 401, "bad_signature")


def test_an_agent_session_is_not_a_visitor_token(make: Factory) -> None:
    project = make.project()
    _refused_without_writes(
        make.client, project.owner.token.removeprefix("JWT "), "wrong_subject"
    )


def test_a_customer_token_is_not_an_api_token(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, _id="c-1")
    before = row_counts(make.client)
    rid = f"support-group-{project.id}-{'0' * 32}"
    response = make.client.post(
        f"/{project.id}/requests/{rid}/messages",
        json={"text": "hi"},
        headers={"Authorization": "JWT " + token},
    )
    assert_error(response, 401, "bad_signature")
    assert row_counts(make.client) == before
