"""Authentication and authorisation in one place.

``authenticate`` turns an Authorization header into a principal; ``access_project`` and
``access_request`` are the only places that decide who may see what. Handlers never check
roles themselves.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from typing import Any

import orjson

from frontdesk.actions.credentials import check_credentials
from frontdesk.auth.permissions import can_see_request, role_at_least
from frontdesk.auth.policy import check_anonymous_allowed, check_origin, policy_of
from frontdesk.auth.principals import (
    ROLE_RANK,
    Agent,
    AgentRole,
    AnonymousVisitor,
    AuthenticatedVisitor,
    Principal,
)
from frontdesk.auth.tokens import SessionClaims
from frontdesk.errors import Forbidden, NotFound, Unauthorized
from frontdesk.ids import is_object_id
from frontdesk.services import Services
from frontdesk.storage import project_users, projects, requests, sessions, users
from frontdesk.storage.database import Transaction
from frontdesk.storage.project_users import ProjectUserRecord
from frontdesk.storage.projects import ProjectRecord
from frontdesk.storage.requests import RequestRecord
from frontdesk.storage.sessions import SessionRecord
from frontdesk.storage.users import UserRecord


def parse_authorization(header: str | None) -> tuple[str, str] | None:
    """(scheme, credentials) with the scheme lower-cased, or None for an absent header."""
    if not header or not header.strip():
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if not credentials.strip():
        raise Unauthorized("the Authorization header has no credentials", code="malformed_token")
    return scheme.lower(), credentials.strip()


async def authenticate(
    services: Services, header: str | None, *, origin: str | None = None, ip: str = "unknown"
) -> Principal | None:
    """The principal an Authorization header proves, None without one; Unauthorized if bad.

    A visitor carries the call's ``origin``, which ``access_project`` checks against the
    project's allowed origins. HTTP Basic counts failed passwords against the caller's
    address ``ip`` and raises as ``accounts.check_credentials`` does.
    """
    parsed = parse_authorization(header)
    if parsed is None:
        return None
    scheme, credentials = parsed
    if scheme in ("jwt", "bearer"):
        return await authenticate_session_token(services, credentials, origin=origin)
    if scheme == "basic":
        return await _authenticate_basic(services, credentials, ip)
    raise Unauthorized(
        "use the Authorization schemes JWT, Bearer or Basic", code="unsupported_auth_scheme"
    )


async def authenticate_session_token(
    services: Services, token: str, *, origin: str | None = None
) -> Principal:
    principal = services.session_cache.get(token)
    if principal is None:
        principal, expires_at = await _verify_session_token(services, token)
        services.session_cache.put(token, principal, expires_at)
    # Cached without an origin: a visitor carries this call's.
    if isinstance(principal, Agent) or principal.origin == origin:
        return principal
    return dataclasses.replace(principal, origin=origin)


async def _verify_session_token(services: Services, token: str) -> tuple[Principal, int]:
    """The principal a session token proves and when the token expires (epoch seconds)."""
    claims = services.tokens.verify(token)
    session = await _live_session(services, claims.jti)
    if claims.sub == "user":
        user = await _live_user(services, claims.subject_id)
        agent = Agent(
            user_id=user["id"],
            email=user["email"],
            firstname=user["firstname"],
            lastname=user["lastname"],
            jti=claims.jti,
        )
        return agent, claims.expires_at
    if claims.project_id is None:
        raise Unauthorized("a visitor token must name its project", code="invalid_token")
    return _visitor(claims, claims.project_id, session["auth_info"]), claims.expires_at


def _visitor(
    claims: SessionClaims, project_id: str, auth_info: dict[str, Any]
) -> AnonymousVisitor | AuthenticatedVisitor:
    visitor_class: type[AnonymousVisitor] | type[AuthenticatedVisitor] = (
        AnonymousVisitor if claims.sub == "guest" else AuthenticatedVisitor
    )
    raw = claims.raw
    return visitor_class(
        visitor_id=claims.subject_id,
        project_id=project_id,
        jti=claims.jti,
        firstname=str(raw.get("firstname") or ""),
        lastname=str(raw.get("lastname") or ""),
        email=raw.get("email") if isinstance(raw.get("email"), str) else None,
        auth_info=auth_info,
    )


def remember_new_session(
    services: Services, tx: Transaction, token: str, claims: SessionClaims,
    auth_info: dict[str, Any],
) -> None:
    """Once ``tx`` (which stores the session) commits, cache the visitor the new token proves,
    as verifying the token would make it: the visitor's first calls with it, usually right
    after signing in, then skip the signature check and the session read."""
    assert claims.project_id is not None
    # Its own copy, as a verified token's visitor has the one decoded from the session row.
    visitor = _visitor(claims, claims.project_id, orjson.loads(orjson.dumps(auth_info)))
    tx.on_commit(lambda: services.session_cache.put(token, visitor, claims.expires_at))


async def check_session_live(services: Services, principal: Principal) -> None:
    """Check again, against the database, that ``principal``'s session still stands.

    For a principal verified earlier (an open socket): raises Unauthorized(session_revoked)
    when the session was signed out, revoked or erased, or the agent's account deleted since.
    """
    if principal.jti is not None:
        await _live_session(services, principal.jti)
    if isinstance(principal, Agent):
        await _live_user(services, principal.user_id)


async def _live_session(services: Services, jti: str) -> SessionRecord:
    session = await sessions.get_session(services.db, jti)
    if session is None or session["revoked_at"] is not None:
        raise Unauthorized("this session has been signed out", code="session_revoked")
    return session


async def _live_user(services: Services, user_id: str) -> UserRecord:
    user = await users.get_user(services.db, user_id)
    if user is None:
        raise Unauthorized("this account no longer exists", code="session_revoked")
    return user


async def _authenticate_basic(services: Services, credentials: str, ip: str) -> Agent:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("malformed Basic credentials", code="malformed_token") from None
    email, sep, password = decoded.partition(":")
    if not sep or "\x00" in decoded:
        raise Unauthorized("Basic credentials must be email:password", code="malformed_token")
    user = await check_credentials(
        services, email=email, password=password, ip=ip, remember=True
    )
    return Agent(
        user_id=user["id"],
        email=user["email"],
        firstname=user["firstname"],
        lastname=user["lastname"],
        jti=None,
    )


def require_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("sign in first: send Authorization: JWT <token>", code="unauthorized")
    return principal


def require_agent(principal: Principal | None) -> Agent:
    principal = require_principal(principal)
    if not isinstance(principal, Agent):
        raise Forbidden("only agents may do this", code="agents_only")
    return principal


@dataclass(frozen=True)
class ProjectAccess:
    project: ProjectRecord
    principal: Principal
    # The agent's or visitor's project_user; None for a new visitor.
    membership: ProjectUserRecord | None

    @property
    def role(self) -> str:
        if isinstance(self.principal, Agent):
            assert self.membership is not None
            return str(self.membership["role"])
        return self.principal.role

    @property
    def agent(self) -> Agent:
        assert isinstance(self.principal, Agent)
        return self.principal


async def load_project(services: Services, project_id: str) -> ProjectRecord:
    """The project, from this process's cache when it holds it; NotFound(unknown_project).

    A read outside any transaction: a command decides on the row it reads, locked, inside its
    own (``auth.project_cache`` says how long a cached row may lag)."""
    cache = services.project_cache
    project = cache.project(project_id)
    if project is not None:
        return project
    generation = cache.generation
    project = await projects.get_project(services.db, project_id) if is_object_id(
        project_id
    ) else None
    if project is None:
        raise NotFound(f"no project {project_id!r}", code="unknown_project")
    cache.put_project(project, generation=generation)
    return project


async def _agent_membership(
    services: Services, project_id: str, user_id: str
) -> ProjectUserRecord | None:
    cache = services.project_cache
    membership = cache.membership(project_id, user_id)
    if membership is None:
        generation = cache.generation
        membership = await project_users.get_membership(services.db, project_id, user_id)
        if membership is not None:
            cache.put_membership(membership, generation=generation)
    return membership


async def access_project(
    services: Services,
    principal: Principal | None,
    project_id: str,
    *,
    min_role: AgentRole | None = "agent",
    visitors: bool = False,
) -> ProjectAccess:
    """The project, if ``principal`` may act in it.

    Agents need a membership of at least ``min_role``; visitors are let in only where
    ``visitors`` is true, only into the project their token names, and only as the project's
    policy allows (Forbidden(anonymous_not_allowed), Forbidden(origin_not_allowed)).
    """
    principal = require_principal(principal)
    project = await load_project(services, project_id)
    if isinstance(principal, Agent):
        membership = await _agent_membership(services, project_id, principal.user_id)
        if membership is None or membership["role"] not in ROLE_RANK:
            raise Forbidden("you are not a member of this project", code="not_a_member")
        if min_role is not None and not role_at_least(membership["role"], min_role):
            raise Forbidden(f"this needs the {min_role} role or higher", code="insufficient_role")
        return ProjectAccess(project, principal, membership)
    if principal.project_id != project_id:
        raise Forbidden("this token belongs to another project", code="wrong_project")
    if not visitors:
        raise Forbidden("only agents may do this", code="agents_only")
    policy = policy_of(project)
    check_origin(policy, principal.origin)
    if not principal.is_authenticated:
        check_anonymous_allowed(policy)
    return ProjectAccess(project, principal, None)


async def access_request(
    services: Services,
    access: ProjectAccess,
    request_id: str,
    *,
    tx: Transaction | None = None,
    lock: bool = False,
) -> RequestRecord:
    """The request with its requester and lead, if the caller may see it.

    Agents of the project see all of its requests; a visitor sees only those it started.
    A command passes its transaction and ``lock``: the row it decides on is then the one it
    changes, locked against every other writer until the commit.
    Raises NotFound when it does not exist in this project, Forbidden for another's.
    """
    row = await requests.get_request(
        tx or services.db, access.project["id"], request_id, lock=lock
    )
    # A conversation held back from agents until its visitor verifies is, to them, not there.
    if row is None or (isinstance(access.principal, Agent) and row["held_tier"]):
        raise NotFound(f"no request {request_id!r} in this project", code="request_not_found")
    if can_see_request(access.principal, row):
        return row
    raise Forbidden("this conversation belongs to someone else", code="not_your_request")
