"""Visitor identity: anonymous and authenticated sign-in, refresh, logout, attacks."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from tests.conftest import Factory, Project, sign_customer_token


def _signin_custom(make: Factory, token: str) -> object:
    return make.client.post(
        "/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token}
    )


def test_anonymous_signin_gives_uuid_v4_guest(make: Factory) -> None:
    project = make.project()
    r = make.client.post("/auth/signinAnonymously", json={"id_project": project.id})
    assert r.status_code == 200
    body = r.json()
    user_id = body["user"]["_id"]
    assert uuid.UUID(user_id).version == 4
    assert body["user"]["firstname"] == "guest#" + user_id[:4]
    assert body["user"]["isAuthenticated"] is False
    assert body["token"].startswith("JWT ")
    claims = jwt.decode(body["token"][4:], options={"verify_signature": False})
    assert claims["sub"] == "guest" and claims["_id"] == user_id
    assert {"exp", "jti", "iat", "iss", "aud"} <= set(claims)

    member = make.client.get(
        f"/{project.id}/project_users/users/{user_id}", headers=project.owner.headers
    ).json()
    assert member[0]["role"] == "guest" and member[0]["isAuthenticated"] is False


def test_anonymous_signin_keeps_self_reported_profile_and_strips_reserved(make: Factory) -> None:
    project = make.project()
    r = make.client.post(
        "/auth/signinAnonymously",
        json={
            "id_project": project.id,
            "firstname": "Mallory",
            "email": "ceo@bank.example",
            "attributes": {"plan": "gold", "isAuthenticated": True, "senderAuthInfo": {"x": 1}},
        },
    )
    user = r.json()["user"]
    assert user["firstname"] == "Mallory" and user["isAuthenticated"] is False
    assert user["attributes"] == {"plan": "gold"}


def test_anonymous_signin_unknown_or_malformed_project(make: Factory) -> None:
    for pid in ("0" * 24, "not-a-project"):
        r = make.client.post("/auth/signinAnonymously", json={"id_project": pid})
        assert r.status_code == 404
        assert r.json()["code"] == "unknown_project"
    r = make.client.post("/auth/signinAnonymously", json={})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_project_requiring_authentication_refuses_anonymous(make: Factory) -> None:
    project = make.project()
    r = make.client.put(
        f"/projects/{project.id}",
        json={"settings": {"allow_anonymous": False}},
        headers=project.owner.headers,
    )
    assert r.status_code == 200
    r = make.client.post("/auth/signinAnonymously", json={"id_project": project.id})
    assert r.status_code == 403 and r.json()["code"] == "anonymous_not_allowed"


def test_custom_token_signin_is_authenticated_with_verified_profile(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    token = sign_customer_token(
        project.id,
        project.secret,
        _id="student-42",
        email="ada@uni.example",
        firstname="Ada",
        lastname="Lovelace",
    )
    r = _signin_custom(make, token)
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert user["_id"] == "student-42" and user["isAuthenticated"] is True
    assert user["email"] == "ada@uni.example" and user["fullName"] == "Ada Lovelace"
    session = jwt.decode(r.json()["token"][4:], options={"verify_signature": False})
    assert session["sub"] == "userexternal" and session["_id"] == "student-42"
    assert session["iss"] == "frontdesk"  # our own session token, not the customer's
    member = make.client.get(
        f"/{project.id}/project_users/users/student-42", headers=project.owner.headers
    ).json()[0]
    assert member["role"] == "user" and member["isAuthenticated"] is True


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_custom_token_hmac_algorithms_allowed(make: Factory, algorithm: str) -> None:
    project = make.project()
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, algorithm=algorithm, _id="u1")
    assert _signin_custom(make, token).status_code == 200


def test_external_id_is_an_alias_of_id(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    token = sign_customer_token(project.id, project.secret, external_id="ext-7")
    assert _signin_custom(make, token).json()["user"]["_id"] == "ext-7"


def _forge_alg_none(project: Project) -> str:
    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {
        "_id": "admin",
        "sub": "userexternal",
        "aud": f"https://tiledesk.com/projects/{project.id}",
        "exp": int(time.time()) + 600,
    }
    return b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims) + "."


def test_custom_token_attacks_are_refused_with_a_reason(make: Factory) -> None:
    project = make.project()
    other = make.project()
    assert project.secret is not None and other.secret is not None
    now = int(time.time())
    cases = {
        "unsupported_algorithm": _forge_alg_none(project),
        "bad_signature": sign_customer_token(project.id, "wrong-secret-" + "x" * 30, _id="u"),
        "token_expired": sign_customer_token(project.id, project.secret, _id="u", exp=now - 3600),
        "token_not_yet_valid": sign_customer_token(
            project.id, project.secret, _id="u", nbf=now + 3600
        ),
        "missing_claim": sign_customer_token(project.id, project.secret, email="a@b.example"),
        "wrong_subject": sign_customer_token(project.id, project.secret, _id="u", sub="user"),
        "malformed_token": "not.a.jwt",
        "wrong_audience": sign_customer_token(
            project.id, project.secret, _id="u", aud="https://tiledesk.com/somewhere"
        ),
        "unknown_kid": sign_customer_token(project.id, project.secret, _id="u", kid="k-nope"),
    }
    for code, token in cases.items():
        r = _signin_custom(make, token)
        assert r.status_code == 401, (code, r.text)
        assert r.json()["code"] == code, (code, r.json())
    # Signed with B's secret but naming A: A's keys do not verify it.
    r = _signin_custom(make, sign_customer_token(project.id, other.secret, _id="u"))
    assert r.json()["code"] == "bad_signature"
    # Nobody got in: no visitor memberships were created in either project.
    for p in (project, other):
        leads = make.client.get(f"/{p.id}/leads", headers=p.owner.headers).json()
        assert leads["count"] == 0


def test_expiry_leeway_is_honoured_both_ways(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    now = int(time.time())
    within = sign_customer_token(project.id, project.secret, _id="u", exp=now - 30)
    assert _signin_custom(make, within).status_code == 200  # default leeway 60 s
    beyond = sign_customer_token(project.id, project.secret, _id="u", exp=now - 62)
    assert _signin_custom(make, beyond).json()["code"] == "token_expired"


def test_token_for_project_a_grants_nothing_in_project_b(make: Factory) -> None:
    a, b = make.project(), make.project()
    visitor = make.visitor(a, authenticated=True)
    rid = f"support-group-{b.id}-{uuid.uuid4().hex}"
    r = make.client.post(
        f"/{b.id}/requests/{rid}/messages", json={"text": "hi"}, headers=visitor.headers
    )
    assert r.status_code == 403 and r.json()["code"] == "wrong_project"
    r = make.client.get(f"/{b.id}/requests/me", headers=visitor.headers)
    assert r.status_code == 403


def test_missing_or_wrong_scheme_for_custom_signin(make: Factory) -> None:
    assert make.client.post("/auth/signinWithCustomToken").json()["code"] == "missing_token"
    r = make.client.post("/auth/signinWithCustomToken", headers={"Authorization": "Basic YTpi"})
    assert r.status_code == 401


def test_refresh_with_session_token_keeps_the_same_visitor(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project)
    r = make.client.post("/auth/signinWithCustomToken", headers={"Authorization": visitor.token})
    assert r.status_code == 200, r.text
    refreshed = r.json()
    assert refreshed["user"]["_id"] == visitor.id
    assert refreshed["user"]["isAuthenticated"] is False
    old = jwt.decode(visitor.token[4:], options={"verify_signature": False})
    new = jwt.decode(refreshed["token"][4:], options={"verify_signature": False})
    assert new["jti"] == old["jti"] and new["exp"] >= old["exp"]


def test_logout_revokes_the_session_everywhere(make: Factory) -> None:
    project = make.project()
    visitor = make.visitor(project, authenticated=True)
    rid = visitor.new_request_id()
    assert visitor.send(rid, "hello").status_code == 200
    r = make.client.post("/auth/logout", headers=visitor.headers)
    assert r.status_code == 200 and r.json()["revoked"] is True
    r = make.client.get(f"/{project.id}/requests/{rid}", headers=visitor.headers)
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    r = make.client.post("/auth/signinWithCustomToken", headers={"Authorization": visitor.token})
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"


def test_rotation_keeps_previous_secret_valid_during_grace(make: Factory) -> None:
    project = make.project()
    old_secret, old_kid = project.secret, project.kid
    assert old_secret is not None
    signed_in = make.visitor(project, authenticated=True, _id="loyal-customer")
    r = make.client.post(f"/{project.id}/keys/generate", headers=project.owner.headers)
    new = r.json()
    assert new["jwtSecret"] != old_secret and new["kid"] != old_kid
    states = {k["kid"]: k["state"] for k in new["keys"]}
    assert states == {new["kid"]: "active", old_kid: "grace"}
    assert all("jwtSecret" not in k and "secret" not in k for k in new["keys"])
    # Old and new secrets both verify; a session from before rotation still refreshes.
    for secret in (old_secret, new["jwtSecret"]):
        assert (
            _signin_custom(make, sign_customer_token(project.id, secret, _id="x")).status_code
            == 200
        )
    r = make.client.post("/auth/signinWithCustomToken", headers={"Authorization": signed_in.token})
    assert r.status_code == 200


def test_rotation_with_zero_grace_retires_old_secret(make: Factory) -> None:
    project = make.project()
    old_secret = project.secret
    assert old_secret is not None
    make.client.put(
        f"/projects/{project.id}",
        json={"settings": {"key_grace_period": 0}},
        headers=project.owner.headers,
    )
    make.client.post(f"/{project.id}/keys/generate", headers=project.owner.headers)
    r = _signin_custom(make, sign_customer_token(project.id, old_secret, _id="x"))
    assert r.json()["code"] == "bad_signature"


def test_keys_are_admin_only_and_never_listed_with_secrets(make: Factory) -> None:
    project = make.project()
    agent = make.member(project, "agent")
    r = make.client.post(f"/{project.id}/keys/generate", headers=agent.headers)
    assert r.status_code == 403 and r.json()["code"] == "insufficient_role"
    listed = make.client.get(f"/{project.id}/keys", headers=project.owner.headers)
    assert listed.status_code == 200
    assert project.secret is not None
    assert project.secret not in listed.text


def test_secrets_are_sealed_in_the_database(make: Factory) -> None:
    project = make.project()
    assert project.secret is not None
    services = make.client.app.state.services  # type: ignore[attr-defined]
    rows = make.client.portal.call(  # type: ignore[union-attr]
        services.db.fetch_all, "SELECT * FROM project_keys WHERE project_id = $1", project.id
    )
    assert rows and all(project.secret not in json.dumps(row) for row in rows)


def test_project_without_secret_explains_itself(make: Factory) -> None:
    project = make.project(with_secret=False)
    r = _signin_custom(make, sign_customer_token(project.id, "s" * 40, _id="u"))
    assert r.status_code == 401 and r.json()["code"] == "no_project_key"


def test_authenticated_id_colliding_with_a_guest_is_refused(make: Factory) -> None:
    project = make.project()
    guest = make.visitor(project)
    assert project.secret is not None
    r = _signin_custom(make, sign_customer_token(project.id, project.secret, _id=guest.id))
    assert r.status_code == 409 and r.json()["code"] == "identity_conflict"
