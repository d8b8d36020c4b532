"""Visitor identity: anonymous sign-in, sign-in with a customer's JWT, session refresh.

A visitor's identity comes only from tokens: a fresh UUID the server issues (anonymous), or
the ``_id`` a customer token signed with the project's key proves (authenticated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontdesk.actions.access import load_project
from frontdesk.actions.keys import verification_keys
from frontdesk.actions.leads import do_refresh_verified_lead
from frontdesk.auth import customer_tokens, tokens
from frontdesk.auth.sender_auth_info import (
    anonymous_auth_info,
    custom_auth_info,
    strip_reserved,
)
from frontdesk.auth.tokens import SessionClaims, Subject
from frontdesk.errors import Conflict, Forbidden, Unauthorized
from frontdesk.services import Services
from frontdesk.storage import project_users, sessions
from frontdesk.storage.database import Row, Transaction

# Claims of a customer token that describe the person, copied to the verified profile.
PROFILE_CLAIMS = ("firstname", "lastname", "email", "phone")


@dataclass(frozen=True)
class VisitorSession:
    token: str
    user: dict[str, Any]


def project_policy(project: Row) -> dict[str, Any]:
    settings: dict[str, Any] = project["settings"]
    return settings


async def do_signin_anonymously(
    services: Services,
    *,
    project_id: str,
    firstname: str | None,
    lastname: str | None,
    email: str | None,
    attributes: dict[str, Any],
) -> VisitorSession:
    """A new anonymous visitor (UUID v4) with a guest membership and a session.

    What the visitor says about itself is kept as self-reported profile. Raises
    NotFound(unknown_project) and Forbidden(anonymous_not_allowed).
    """
    project = await load_project(services, project_id)
    if not project_policy(project).get("allow_anonymous", True):
        raise Forbidden(
            "this project requires visitors to sign in with a token from its website",
            code="anonymous_not_allowed",
        )
    visitor_id = services.ids.visitor_uuid()
    profile = {
        "firstname": firstname or f"guest#{visitor_id[:4]}",
        "lastname": lastname or "",
    }
    if email:
        profile["email"] = email
    now = services.now_ms()
    token, claims = services.tokens.issue(
        sub="guest",
        subject_id=visitor_id,
        project_id=project_id,
        ttl=services.settings.visitor_token_ttl,
        profile=profile,
    )
    auth_info = anonymous_auth_info(visitor_id, claims.raw, now)
    async with services.db.transaction() as tx:
        await project_users.insert_project_user(
            tx,
            id=services.ids.object_id(),
            project_id=project_id,
            user_id=visitor_id,
            role="guest",
            profile=profile,
            attributes=strip_reserved(attributes),
            now=now,
        )
        await _insert_session(tx, claims, kind="guest", auth_info=auth_info)
    return VisitorSession(
        "JWT " + token, _user_json(visitor_id, profile, attributes, role="guest")
    )


async def check_signin_with_token(services: Services, token: str) -> VisitorSession:
    """Sign in with a customer's JWT, or refresh a session token this server issued."""
    _, unverified = customer_tokens.unverified_parts(token)
    if tokens.is_session_token(unverified):
        return await do_refresh_session(services, token)
    project_id = customer_tokens.audience_project(unverified)
    await load_project(services, project_id)
    now = services.clock.now()
    keys = await verification_keys(services, project_id)
    verified = customer_tokens.verify_customer_token(
        token,
        project_id=project_id,
        keys=keys,
        now=now,
        leeway=services.settings.clock_skew_leeway,
    )
    return await do_signin_authenticated(services, verified)


async def do_signin_authenticated(
    services: Services, verified: customer_tokens.VerifiedCustomerToken
) -> VisitorSession:
    """Membership (role ``user``), verified profile and session for a verified customer token."""
    claims = verified.claims
    # A NUL cannot be stored in PostgreSQL text columns; such a field is left out.
    profile = {
        name: value
        for name in PROFILE_CLAIMS
        if isinstance(value := claims.get(name), str) and "\x00" not in value
    }
    raw_attributes = claims.get("attributes")
    attributes: dict[str, Any] = raw_attributes if isinstance(raw_attributes, dict) else {}
    now = services.now_ms()
    token, session_claims = services.tokens.issue(
        sub="userexternal",
        subject_id=verified.visitor_id,
        project_id=verified.project_id,
        ttl=services.settings.visitor_token_ttl,
        profile=profile,
    )
    auth_info = custom_auth_info(
        verified.visitor_id, claims, kid=verified.kid, alg=verified.alg, now_ms=now
    )
    async with services.db.transaction() as tx:
        member = await project_users.get_membership(tx, verified.project_id, verified.visitor_id)
        if member is None:
            await project_users.insert_project_user(
                tx,
                id=services.ids.object_id(),
                project_id=verified.project_id,
                user_id=verified.visitor_id,
                role="user",
                profile=profile,
                attributes=strip_reserved(attributes),
                now=now,
            )
        elif member["role"] != "user":
            raise Conflict(
                "this _id already belongs to another kind of user in this project",
                code="identity_conflict",
            )
        else:
            await project_users.update_project_user(
                tx, member["id"], now=now, profile=profile, attributes=strip_reserved(attributes)
            )
        await do_refresh_verified_lead(
            services, tx, verified.project_id, verified.visitor_id, profile, auth_info
        )
        await _insert_session(tx, session_claims, kind="userexternal", auth_info=auth_info)
    user = {**{k: v for k, v in claims.items() if k not in ("iss", "aud", "exp", "iat", "nbf")}}
    return VisitorSession(
        "JWT " + token, _user_json(verified.visitor_id, profile, attributes, user, role="user")
    )


async def do_refresh_session(services: Services, token: str) -> VisitorSession:
    """A fresh token for the same visitor and session (same ``jti``), with a new expiry.

    Raises Unauthorized(session_revoked) once the session was signed out.
    """
    claims = services.tokens.verify(token)
    if claims.sub == "user" or claims.project_id is None:
        raise Unauthorized(
            "agents sign in with email and password, not here", code="wrong_subject"
        )
    session = await sessions.get_session(services.db, claims.jti)
    if session is None or session["revoked_at"] is not None:
        raise Unauthorized("this session has been signed out", code="session_revoked")
    project_id = claims.project_id
    await load_project(services, project_id)
    member = await project_users.get_membership(services.db, project_id, claims.subject_id)
    if member is None:
        raise Unauthorized("this visitor no longer exists", code="session_revoked")
    profile = {k: claims.raw[k] for k in PROFILE_CLAIMS if k in claims.raw}
    fresh, fresh_claims = services.tokens.reissue(claims, ttl=services.settings.visitor_token_ttl)
    async with services.db.transaction() as tx:
        await sessions.extend_session(tx, claims.jti, expires_at=fresh_claims.expires_at * 1000)
    return VisitorSession(
        "JWT " + fresh,
        _user_json(claims.subject_id, profile, member["attributes"], role=member["role"]),
    )


async def _insert_session(
    tx: Transaction, claims: SessionClaims, *, kind: Subject, auth_info: dict[str, Any]
) -> None:
    await sessions.insert_session(
        tx,
        jti=claims.jti,
        project_id=claims.project_id,
        subject_id=claims.subject_id,
        kind=kind,
        auth_info=auth_info,
        issued_at=claims.issued_at * 1000,
        expires_at=claims.expires_at * 1000,
    )


def _user_json(
    visitor_id: str,
    profile: dict[str, Any],
    attributes: dict[str, Any],
    extra: dict[str, Any] | None = None,
    *,
    role: str,
) -> dict[str, Any]:
    firstname = profile.get("firstname", "")
    lastname = profile.get("lastname", "")
    user: dict[str, Any] = {**(extra or {}), **profile}
    user.update(
        {
            "_id": visitor_id,
            "id": visitor_id,
            "firstname": firstname,
            "lastname": lastname,
            "fullName": f"{firstname} {lastname}".strip(),
            "attributes": strip_reserved(attributes),
        }
    )
    user["isAuthenticated"] = role != "guest"
    return user
