"""Visitor identity: anonymous sign-in, sign-in with a customer's JWT, session refresh.

A visitor's identity comes only from tokens: a fresh UUID the server issues (anonymous), or
the ``_id`` a customer token signed with the project's key proves (authenticated).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from frontdesk.actions import audit
from frontdesk.actions.access import load_project, remember_new_session
from frontdesk.actions.continuity import link_hash
from frontdesk.actions.keys import verification_keys
from frontdesk.actions.leads import do_refresh_verified_lead, refresh_verified
from frontdesk.actions.merges import do_merge_anonymous
from frontdesk.auth import customer_tokens, tokens
from frontdesk.auth.policy import (
    VisitorPolicy,
    check_anonymous_allowed,
    check_origin,
    policy_of,
)
from frontdesk.auth.principals import AuthenticatedVisitor
from frontdesk.auth.sender_auth_info import (
    anonymous_auth_info,
    custom_auth_info,
    strip_reserved,
)
from frontdesk.auth.tokens import SessionClaims, Subject
from frontdesk.errors import (
    Conflict,
    Forbidden,
    FrontdeskError,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from frontdesk.models.merges import MergeOutcomePublic
from frontdesk.services import Services
from frontdesk.storage import (
    continuity_links,
    leads,
    project_users,
    requests,
    sessions,
    used_tokens,
)
from frontdesk.storage.contact_hints import KeptContact
from frontdesk.storage.database import Transaction
from frontdesk.storage.projects import ProjectRecord
from frontdesk.storage.rows import NewRow

# Claims of a customer token that describe the person, copied to the verified profile.
PROFILE_CLAIMS = ("firstname", "lastname", "email", "phone")
# How long the jti of a single-use token without exp (nor a maximum age) is remembered.
_FOREVER = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class VisitorSession:
    token: str
    user: dict[str, Any]
    merge: MergeOutcomePublic | None = None


@dataclass(frozen=True)
class SigninContext:
    """Where a sign-in comes from: the caller's IP and Origin, and, for a proof-based merge,
    the anonymous session token the same browser holds."""

    ip: str | None = None
    origin: str | None = None
    anonymous_token: str | None = None


async def do_signin_anonymously(
    services: Services,
    *,
    project_id: str,
    firstname: str | None,
    lastname: str | None,
    email: str | None,
    attributes: dict[str, Any],
    context: SigninContext | None = None,
) -> VisitorSession:
    """A new anonymous visitor (UUID v4) with a guest membership and a session.

    What the visitor says about itself is kept as self-reported profile. Raises
    NotFound(unknown_project), Forbidden(anonymous_not_allowed), Forbidden(origin_not_allowed)
    and RateLimited(rate_limited).
    """
    context = context or SigninContext()
    project = await load_project(services, project_id)
    policy = policy_of(project)
    check_origin(policy, context.origin)
    check_anonymous_allowed(policy)
    await services.limits.check_anonymous_signin(context.ip or "unknown", project_id)
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
        # Three writes nobody reads back: on PostgreSQL one statement, one round trip.
        await project_users.queue_new_visitor(
            tx,
            id=services.ids.object_id(),
            project_id=project_id,
            user_id=visitor_id,
            profile=profile,
            attributes=strip_reserved(attributes),
            now=now,
        )
        await _insert_session(tx, claims, kind="guest", auth_info=auth_info, ip=context.ip)
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "signin.anonymous", actor=visitor_id, subject=visitor_id, ip=context.ip,
        ))
        remember_new_session(services, tx, token, claims, auth_info)
    return VisitorSession(
        "JWT " + token, _user_json(visitor_id, profile, attributes, role="guest")
    )


async def check_signin_with_token(
    services: Services, token: str, context: SigninContext | None = None
) -> VisitorSession:
    """Sign in with a customer's JWT, or refresh a session token this server issued.

    Every refusal is an Unauthorized (or Forbidden) whose ``code`` says why; a refused
    customer token is written to the project's audit log (nothing else is written). Past the
    failed-sign-in limits of the caller's address or the project, a refusal is a RateLimited
    (rate_limited, with Retry-After) instead.
    """
    context = context or SigninContext()
    parsed = customer_tokens.parse_token(token)
    if tokens.is_session_token(parsed.claims):
        return await do_refresh_session(services, token, context)
    project_id = customer_tokens.audience_project(parsed.claims)
    project = await load_project(services, project_id)
    kid: str | None = None
    try:
        kid = customer_tokens.token_kid(parsed.header)
        policy = policy_of(project)
        check_origin(policy, context.origin)
        verified = customer_tokens.verify_customer_token(
            parsed,
            project_id=project_id,
            keys=await verification_keys(services, project_id, kid=kid),
            now=services.clock.now(),
            leeway=services.settings.clock_skew_leeway,
            policy=policy.tokens,
        )
        return await do_signin_authenticated(services, verified, policy, context)
    except (Unauthorized, Forbidden, Conflict, ServiceUnavailable) as exc:
        await _record_failure(services, project_id, parsed, kid, exc, context)
        raise


async def _record_failure(
    services: Services,
    project_id: str,
    token: customer_tokens.ParsedToken,
    kid: str | None,
    refusal: FrontdeskError,
    context: SigninContext,
) -> None:
    """Audit a refused customer token (its unverified header and claims); past the
    failed-sign-in limits, raise RateLimited instead (audited as ``rate_limited``, so a flood
    adds to one row)."""
    claimed = token.claims.get("_id", token.claims.get("external_id"))
    alg = token.header.get("alg")
    event = audit.AuditEvent(
        "signin.failed", subject=claimed if isinstance(claimed, str) else None,
        kid=kid, code=refusal.code, ip=context.ip,
        details={"provider": "custom", "alg": alg if isinstance(alg, str) else None},
    )
    try:
        await services.limits.check_failed_signin(context.ip or "unknown", project_id)
    except RateLimited as limited:
        event = replace(event, code=limited.code)
        await audit.record_failed_signin(services, project_id, event)
        raise limited from None
    await audit.record_failed_signin(services, project_id, event)


async def do_signin_authenticated(
    services: Services,
    verified: customer_tokens.VerifiedCustomerToken,
    policy: VisitorPolicy | None = None,
    context: SigninContext | None = None,
) -> VisitorSession:
    """Membership (role ``user``), verified profile and session for a verified customer token.

    With a single-use policy the token's jti is recorded, and a replay is refused with
    Unauthorized(replayed_token). With ``context.anonymous_token`` (the second proof), the
    anonymous visitor's conversations are merged into this contact.
    """
    policy = policy or VisitorPolicy()
    context = context or SigninContext()
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
    user = {k: v for k, v in claims.items() if k not in ("iss", "aud", "exp", "iat", "nbf")}
    signed_in = VisitorSession(
        "JWT " + token,
        _user_json(verified.visitor_id, profile, attributes, user, role="user"),
    )
    if not policy.single_use_tokens and not context.anonymous_token and (
        await _refresh_returning_customer(
            services, verified, profile, strip_reserved(attributes), auth_info, token,
            session_claims, context.ip, now,
        )
    ):
        return signed_in
    async with services.db.transaction() as tx:
        if policy.single_use_tokens:
            await _spend_jti(services, tx, verified, policy)
        member = await project_users.get_membership(
            tx, verified.project_id, verified.visitor_id, lock=True
        )
        created = member is None and await project_users.insert_project_user(
            tx,
            id=services.ids.object_id(),
            project_id=verified.project_id,
            user_id=verified.visitor_id,
            role="user",
            profile=profile,
            attributes=strip_reserved(attributes),
            now=now,
            if_absent=True,
        )
        if not created:
            # A member already, or made one by a concurrent first sign-in that just committed.
            member = member or await project_users.get_membership(
                tx, verified.project_id, verified.visitor_id, lock=True
            )
            assert member is not None
            if member["role"] != "user":
                raise Conflict(
                    "this _id already belongs to another kind of user in this project",
                    code="identity_conflict",
                )
        await do_refresh_verified_lead(
            services, tx, verified.project_id, verified.visitor_id, profile, auth_info
        )
        if not created:
            # After the lead's read, so that on PostgreSQL this update, the session and the
            # audit row leave together with the commit (Queries.execute_later).
            assert member is not None
            await project_users.update_project_user(
                tx, member["id"], now=now, profile=profile, attributes=strip_reserved(attributes),
                later=True,
            )
        await _insert_session(
            tx, session_claims, kind="userexternal", auth_info=auth_info, ip=context.ip
        )
        remember_new_session(services, tx, token, session_claims, auth_info)
        await audit.record(services, tx, verified.project_id,
                           _custom_signin_event(verified, context.ip))
        merge = None
        if context.anonymous_token:
            visitor = AuthenticatedVisitor(
                visitor_id=verified.visitor_id, project_id=verified.project_id,
                jti=session_claims.jti, firstname=profile.get("firstname", ""),
                lastname=profile.get("lastname", ""), email=profile.get("email"),
                auth_info=auth_info,
            )
            merge = await do_merge_anonymous(services, tx, visitor, context.anonymous_token)
    return replace(signed_in, merge=merge)


async def _refresh_returning_customer(
    services: Services,
    verified: customer_tokens.VerifiedCustomerToken,
    profile: dict[str, Any],
    attributes: dict[str, Any],
    auth_info: dict[str, Any],
    token: str,
    claims: SessionClaims,
    ip: str | None,
    now: int,
) -> bool:
    """Sign in a returning customer, the usual sign-in of a site's logged-in users: its
    membership's profile, its contact (lead) if it has one, its session and the audit row.
    False, with nothing written, for anyone else (a new customer, another kind of user) or
    when another write came first: the locked way then signs them in.

    Without a contact, one write with nothing read before it (on PostgreSQL one statement
    without ``BEGIN``: one round trip where the locked way takes five). With one, the
    membership and contact are read without a lock, and one write brings the contact up to
    date if it is still as read (on PostgreSQL two more round trips, where the locked way took
    eight after the first attempt). A customer this process last signed in with a contact
    (``services.contact_hints``) goes to the second way at once, and without the read when
    this process still keeps the contact as that sign-in wrote it."""
    project_id, user_id = verified.project_id, verified.visitor_id
    hints = services.contact_hints
    then = [
        _session_row(claims, kind="userexternal", auth_info=auth_info, ip=ip),
        audit.new_row(services, project_id, _custom_signin_event(verified, ip)),
    ]

    async def with_contact(tx: Transaction, kept: KeptContact | None) -> bool:
        if kept is None:
            found = await leads.customer_lead(tx, project_id, user_id)
            if found is None:
                hints.forget(project_id, user_id)
                return False
            hints.remember(project_id, user_id)
            kept = KeptContact(*found)
        lead = leads.decoded(kept.stored)
        refresh_verified(lead, profile, auth_info, now=now)
        member = project_users.customer_change(
            kept.member_id, profile=profile, attributes=attributes, now=now)
        stored = await leads.refresh_customer_lead(
            tx, kept.stored, lead, member_id=kept.member_id, now=now, then=[member, *then])
        if stored is None:
            hints.drop_written(project_id, user_id)
            return False
        written = KeptContact(kept.member_id, stored)
        tx.on_commit(lambda: hints.keep(project_id, user_id, written))
        remember_new_session(services, tx, token, claims, auth_info)
        return True

    async with services.db.transaction() as tx:
        if hints.has_contact(project_id, user_id):
            kept = hints.written(project_id, user_id)
            signed_in = await with_contact(tx, kept)
            if signed_in or kept is None:
                return signed_in
            # The contact changed since this process wrote it: read it, and write again.
        elif await project_users.refresh_customer(
            tx, project_id=project_id, user_id=user_id,
            profile=profile, attributes=attributes, now=now, then=then,
        ):
            remember_new_session(services, tx, token, claims, auth_info)
            return True
        if not tx.ended:  # SQLite: it goes on, holding the write lock
            return await with_contact(tx, None)
    async with services.db.transaction() as tx:
        return await with_contact(tx, None)


def _custom_signin_event(
    verified: customer_tokens.VerifiedCustomerToken, ip: str | None
) -> audit.AuditEvent:
    return audit.AuditEvent(
        "signin.custom", actor=verified.visitor_id, subject=verified.visitor_id,
        kid=verified.kid, ip=ip, details={"alg": verified.alg},
    )


async def _spend_jti(
    services: Services,
    tx: Transaction,
    verified: customer_tokens.VerifiedCustomerToken,
    policy: VisitorPolicy,
) -> None:
    """Record the token's jti until it can no longer verify; Unauthorized(replayed_token) if
    it was exchanged before."""
    claims = verified.claims
    leeway = services.settings.clock_skew_leeway
    if "exp" in claims:
        until = claims["exp"] + leeway
    elif policy.max_token_age and "iat" in claims:
        until = claims["iat"] + policy.max_token_age + leeway
    else:
        until = services.clock.now() + _FOREVER
    # exp and iat are finite numbers of any size (verified before); the store holds 64-bit
    # milliseconds, so a later expiry is kept as the latest one it can hold: still never
    # forgotten while the token could verify.
    expires_at = min(int(until) * 1000, used_tokens.LATEST_EXPIRY)
    if not await used_tokens.remember(
        tx, verified.project_id, str(claims["jti"]), expires_at=expires_at
    ):
        raise Unauthorized(
            "this single-use token was already exchanged: sign a new one for each sign-in",
            code="replayed_token",
        )


async def do_refresh_session(
    services: Services, token: str, context: SigninContext | None = None
) -> VisitorSession:
    """A fresh token for the same visitor and session (same ``jti``), with a new expiry.

    Raises Unauthorized(session_revoked) once the session was signed out, and the project's
    policy refusals (anonymous_not_allowed, origin_not_allowed).
    """
    context = context or SigninContext()
    claims = services.tokens.verify(token)
    if claims.sub == "user" or claims.project_id is None:
        raise Unauthorized(
            "agents sign in with email and password, not here", code="wrong_subject"
        )
    session = await sessions.get_session(services.db, claims.jti)
    if session is None or session["revoked_at"] is not None:
        raise Unauthorized("this session has been signed out", code="session_revoked")
    project_id = claims.project_id
    policy = policy_of(await load_project(services, project_id))
    check_origin(policy, context.origin)
    if claims.sub == "guest":
        check_anonymous_allowed(policy)
    member = await project_users.get_membership(services.db, project_id, claims.subject_id)
    if member is None:
        raise Unauthorized("this visitor no longer exists", code="session_revoked")
    profile = {k: claims.raw[k] for k in PROFILE_CLAIMS if k in claims.raw}
    fresh, fresh_claims = services.tokens.reissue(claims, ttl=services.settings.visitor_token_ttl)
    async with services.db.transaction() as tx:
        # The session may have been signed out since it was read: extending it decides.
        if not await sessions.extend_session(
            tx, claims.jti, expires_at=fresh_claims.expires_at * 1000
        ):
            raise Unauthorized("this session has been signed out", code="session_revoked")
    return VisitorSession(
        "JWT " + fresh,
        _user_json(claims.subject_id, profile, member["attributes"], role=member["role"]),
    )


async def check_signin_by_link(
    services: Services, token: str, context: SigninContext
) -> tuple[VisitorSession, str]:
    """Spend a continuity link (``actions.continuity``): a session for its visitor, and the
    request_id to open.

    Raises Unauthorized with ``link_invalid`` (unknown), ``link_used`` (spent before) or
    ``link_expired``; and the project's policy refusals. A refusal spends nothing.
    """
    token_hash = link_hash(token.strip())
    now = services.now_ms()
    async with services.db.transaction() as tx:
        link = await continuity_links.get_link(tx, token_hash)
        if link is None:
            raise Unauthorized("this link is not valid", code="link_invalid")
        if link["used_at"] is not None or not await continuity_links.spend_link(
            tx, token_hash, now=now
        ):
            raise Unauthorized("this link was used already", code="link_used")
        if link["expires_at"] <= now:
            raise Unauthorized("this link has expired", code="link_expired")
        if await requests.get_request(tx, link["project_id"], link["request_id"]) is None:
            raise Unauthorized("this conversation no longer exists", code="link_invalid")
        project = await load_project(services, link["project_id"])
        session = await do_signin_by_link(services, tx, project, link["visitor_id"], context)
        await audit.record(services, tx, link["project_id"], audit.AuditEvent(
            "continuity.link_used", actor=link["visitor_id"], subject=link["visitor_id"],
            ip=context.ip, details={"request": link["request_id"]},
        ))
    return session, link["request_id"]


async def do_signin_by_link(
    services: Services,
    tx: Transaction,
    project: ProjectRecord,
    visitor_id: str,
    context: SigninContext,
) -> VisitorSession:
    """A new session for ``visitor_id`` (as it is a member now), for a single-use link that was
    just spent within ``tx``: the same identity, the same kind of session, nobody else.

    Raises Unauthorized(link_invalid) when the visitor is gone, and the project's policy
    refusals (anonymous_not_allowed, origin_not_allowed).
    """
    policy = policy_of(project)
    check_origin(policy, context.origin)
    member = await project_users.get_membership(tx, project["id"], visitor_id)
    if member is None or member["role"] not in ("guest", "user"):
        raise Unauthorized("this link is not valid", code="link_invalid")
    if member["role"] == "guest":
        check_anonymous_allowed(policy)
    sub: Subject = "guest" if member["role"] == "guest" else "userexternal"
    profile = {k: v for k, v in member["profile"].items() if k in PROFILE_CLAIMS}
    token, claims = services.tokens.issue(
        sub=sub, subject_id=visitor_id, project_id=project["id"],
        ttl=services.settings.visitor_token_ttl, profile=profile,
    )
    lead = await leads.get_lead_by_visitor(tx, project["id"], visitor_id)
    known = lead["attributes"].get("senderAuthInfo") if lead is not None else None
    auth_info = known or anonymous_auth_info(visitor_id, claims.raw, services.now_ms())
    await _insert_session(tx, claims, kind=sub, auth_info=auth_info, ip=context.ip)
    return VisitorSession(
        "JWT " + token, _user_json(visitor_id, profile, member["attributes"], role=member["role"])
    )


async def _insert_session(
    tx: Transaction, claims: SessionClaims, *, kind: Subject, auth_info: dict[str, Any],
    ip: str | None,
) -> None:
    await sessions.insert_session(tx, _session_row(claims, kind=kind, auth_info=auth_info,
                                                   ip=ip))


def _session_row(
    claims: SessionClaims, *, kind: Subject, auth_info: dict[str, Any], ip: str | None
) -> NewRow:
    return sessions.new_session(
        jti=claims.jti,
        project_id=claims.project_id,
        subject_id=claims.subject_id,
        kind=kind,
        auth_info=auth_info,
        issued_at=claims.issued_at * 1000,
        expires_at=claims.expires_at * 1000,
        ip=ip,
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
