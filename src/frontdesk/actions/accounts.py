"""Agent accounts: sign-up, sign-in, sign-out."""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.actions import audit
from frontdesk.actions.credentials import check_credentials, normalise_email
from frontdesk.auth.principals import Agent, Principal
from frontdesk.errors import Conflict
from frontdesk.models.users import UserPublic, present_user
from frontdesk.services import Services
from frontdesk.storage import sessions, users
from frontdesk.storage.users import UserRecord


@dataclass(frozen=True)
class SignedIn:
    token: str
    user: UserPublic


async def do_signup(
    services: Services, *, email: str, password: str, firstname: str, lastname: str
) -> UserRecord:
    """Create an agent account; the public sign-up, which tells nobody who has an account.

    An email that already has an account gets the same answer as a new one (an account that
    does not exist, with a fresh id) after the same work, and nothing is created or changed.
    Sign-up joins no project: invitations are accepted only with their token.
    """
    row, _created = await _insert_account(
        services, email=email, password=password, firstname=firstname, lastname=lastname
    )
    return row


async def do_create_account(
    services: Services, *, email: str, password: str, firstname: str, lastname: str
) -> UserRecord:
    """Create an agent account for an operator (command line, demo), who may be told why not.

    Raises Conflict(email_taken) when the email already has an account.
    """
    row, created = await _insert_account(
        services, email=email, password=password, firstname=firstname, lastname=lastname
    )
    if not created:
        raise Conflict("an account with this email already exists", code="email_taken")
    return row


async def _insert_account(
    services: Services, *, email: str, password: str, firstname: str, lastname: str
) -> tuple[UserRecord, bool]:
    """The account as it was (or would have been) written, and whether it was written.

    Both outcomes hash the password and run the same insert, so they take the same time.
    """
    email = normalise_email(email)
    password_hash = await services.passwords.hash(password)
    now = services.now_ms()
    user_id = services.ids.object_id()
    async with services.db.transaction() as tx:
        created = await users.insert_user_if_new(
            tx,
            id=user_id,
            email=email,
            password_hash=password_hash,
            firstname=firstname,
            lastname=lastname,
            now=now,
        )
    row: UserRecord = {
        "id": user_id,
        "email": email,
        "password_hash": password_hash,
        "firstname": firstname,
        "lastname": lastname,
        "created_at": now,
        "updated_at": now,
    }
    return row, created


async def do_signin(services: Services, *, email: str, password: str, ip: str) -> SignedIn:
    """A session for the agent; raises as ``check_credentials`` does."""
    user = await check_credentials(services, email=email, password=password, ip=ip)
    token, claims = services.tokens.issue(
        sub="user",
        subject_id=user["id"],
        project_id=None,
        ttl=services.settings.agent_token_ttl,
        profile={
            "email": user["email"],
            "firstname": user["firstname"],
            "lastname": user["lastname"],
        },
    )
    async with services.db.transaction() as tx:
        await sessions.insert_session(tx, sessions.new_session(
            jti=claims.jti,
            project_id=None,
            subject_id=user["id"],
            kind="agent",
            auth_info={},
            issued_at=claims.issued_at * 1000,
            expires_at=claims.expires_at * 1000,
            ip=ip,
        ))
    return SignedIn(token="JWT " + token, user=present_user(user))


async def do_logout(services: Services, principal: Principal) -> bool:
    """Revoke the calling session. False when there was none to revoke (HTTP Basic)."""
    jti = principal.jti
    if jti is None:
        return False
    async with services.db.transaction() as tx:
        revoked = await sessions.revoke_session(tx, jti, now=services.now_ms(), reason="logout")
        if revoked:
            services.publish_session_revoked(tx, principal, jti)
        if revoked and not isinstance(principal, Agent):
            await audit.record(services, tx, principal.project_id, audit.AuditEvent(
                "session.revoked", actor=principal.visitor_id, subject=principal.visitor_id,
                details={"sessions": [jti], "reason": "logout"},
            ))
    return bool(revoked)
