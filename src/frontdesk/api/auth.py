"""/auth: agents' sign-up and sign-in, visitors' sign-ins, logout."""

from __future__ import annotations

from typing import Any

from frontdesk import jsonutil
from frontdesk.actions import accounts, visitors
from frontdesk.actions.access import parse_authorization
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router, read_body
from frontdesk.errors import BadRequest, Unauthorized
from frontdesk.models.users import present_user

router = Router("auth")
ANONYMOUS_TOKEN_HEADER = "x-frontdesk-anonymous-token"  # noqa: S105 (a header name)


@router.route(
    "POST", "/auth/signup", summary="Create an agent account", body=s.SignupCreate,
    response=s.SignupPublic, allowed=("public",), extra_statuses=(503,),
)
async def signup(call: Call) -> s.SignupPublic:
    b: s.SignupCreate = call.body
    user = await accounts.do_signup(
        call.services, email=b.email, password=b.password, firstname=b.firstname,
        lastname=b.lastname,
    )
    return {"success": True, "user": present_user(user)}


@router.route(
    "POST", "/auth/signin", summary="Sign an agent in with email and password",
    body=s.SigninCreate, response=s.SigninPublic, allowed=("public",),
    extra_statuses=(401, 429, 503),
)
async def signin(call: Call) -> s.SigninPublic:
    b: s.SigninCreate = call.body
    signed = await accounts.do_signin(
        call.services, email=b.email, password=b.password, ip=call.client_ip
    )
    return {"success": True, "token": signed.token, "user": signed.user}


@router.route(
    "POST", "/auth/signinAnonymously", summary="Start an anonymous visitor session",
    body=s.AnonymousSigninCreate, response=s.VisitorSigninPublic,
    allowed=("public",), extra_statuses=(403, 429),
)
async def signin_anonymously(call: Call) -> dict[str, Any]:
    b: s.AnonymousSigninCreate = call.body
    session = await visitors.do_signin_anonymously(
        call.services, project_id=b.id_project, firstname=b.firstname, lastname=b.lastname,
        email=b.email, attributes=b.attributes, context=await _context(call),
    )
    return {"success": True, "token": session.token, "user": session.user}


@router.route(
    "POST", "/auth/signinWithCustomToken",
    summary="Exchange a customer-signed JWT (or refresh a visitor session token)",
    response=s.VisitorSigninPublic, allowed=("public",),
    extra_statuses=(401, 403, 429, 503),
)
async def signin_with_custom_token(call: Call) -> dict[str, Any]:
    parsed = parse_authorization(call.request.headers.get("authorization"))
    if parsed is None or parsed[0] not in ("jwt", "bearer"):
        raise Unauthorized(
            "send the customer token as Authorization: JWT <token>", code="missing_token"
        )
    session = await visitors.check_signin_with_token(
        call.services, parsed[1], await _context(call, with_anonymous_proof=True)
    )
    body = {"success": True, "token": session.token, "user": session.user}
    if session.merge is not None:
        body["merge"] = session.merge
    return body


async def _context(call: Call, *, with_anonymous_proof: bool = False) -> visitors.SigninContext:
    """IP, Origin and the anonymous session token that proves a merge: the header
    ``X-Frontdesk-Anonymous-Token``, or ``anonymous_token`` in a JSON body."""
    headers = call.request.headers
    anonymous = headers.get(ANONYMOUS_TOKEN_HEADER) if with_anonymous_proof else None
    if with_anonymous_proof and anonymous is None and "json" in headers.get("content-type", ""):
        raw = await read_body(call.request, call.services.settings.max_body_bytes)
        try:
            body = jsonutil.parse_body(raw)
        except BadRequest:  # the body is optional here; Tiledesk clients send anything
            body = None
        field = body.get("anonymous_token") if isinstance(body, dict) else None
        anonymous = field if isinstance(field, str) else None
    return visitors.SigninContext(ip=call.client_ip, origin=headers.get("origin"),
                                  anonymous_token=anonymous)


@router.route(
    "POST", "/auth/logout", summary="Revoke the calling session",
    response=s.SuccessPublic, allowed=("agent", "visitor"),
)
async def logout(call: Call) -> dict[str, Any]:
    revoked = await accounts.do_logout(call.services, call.caller)
    return {"success": True, "revoked": revoked}
