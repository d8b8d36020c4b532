"""Trust tiers: availability for the widget, e-mail codes, agents' step-up, continuity links."""

from __future__ import annotations

from typing import Any

from frontdesk.actions import availability, email_codes, verification, visitors
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, Router
from frontdesk.models.trust import (
    AvailabilityPublic,
    EmailCodeSentPublic,
    EmailVerifiedPublic,
    VerificationRequestCreatedPublic,
)

router = Router("trust")


@router.route("GET", "/projects/{pid}/availability",
              summary="Open or closed, agents available, expected reply time, e-mail delivery",
              query=s.AvailabilityQuery, response=AvailabilityPublic, allowed=("public",))
async def availability_now(call: Call) -> AvailabilityPublic:
    q: s.AvailabilityQuery = call.query
    return await availability.check_availability(call.services, call.params["pid"], q.department)


@router.route("POST", "/{pid}/verifications/email",
              summary="Send a one-time code to an e-mail address (anonymous visitors)",
              body=s.EmailCodeCreate, response=EmailCodeSentPublic, allowed=("visitor",),
              extra_statuses=(503,))
async def send_email_code(call: Call) -> EmailCodeSentPublic:
    b: s.EmailCodeCreate = call.body
    return await email_codes.check_send_email_code(
        call.services, call.access, email=b.email, ip=call.client_ip
    )


@router.route("POST", "/{pid}/verifications/email/confirm",
              summary="Prove an e-mail address with its one-time code (anonymous visitors)",
              body=s.EmailCodeConfirm, response=EmailVerifiedPublic, allowed=("visitor",))
async def confirm_email_code(call: Call) -> EmailVerifiedPublic:
    b: s.EmailCodeConfirm = call.body
    return await email_codes.check_confirm_email_code(
        call.services, call.access, email=b.email, code=b.code, ip=call.client_ip
    )


@router.route("POST", "/{pid}/requests/{rid}/verification_requests",
              summary="Ask the conversation's visitor to verify its identity",
              body=s.VerificationRequestCreate, response=VerificationRequestCreatedPublic)
async def request_verification(call: Call) -> VerificationRequestCreatedPublic:
    b: s.VerificationRequestCreate = call.body
    return await verification.check_request_verification(
        call.services, call.access, call.params["rid"], b.tier
    )


@router.route("POST", "/auth/continue",
              summary="Reopen a conversation with the single-use link of a reply e-mail",
              body=s.ContinueCreate, response=s.ContinuePublic, allowed=("public",),
              extra_statuses=(401, 403))
async def continue_by_link(call: Call) -> dict[str, Any]:
    b: s.ContinueCreate = call.body
    context = visitors.SigninContext(ip=call.client_ip, origin=call.request.headers.get("origin"))
    session, request_id = await visitors.check_signin_by_link(call.services, b.token, context)
    return {"success": True, "token": session.token, "user": session.user,
            "request_id": request_id}
