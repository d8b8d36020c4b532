"""The e-mail-verified tier: an anonymous visitor proves an address with a one-time code.

A code is 6 random digits, valid ``email_code_ttl`` seconds, spent by the first right guess,
and locked after ``email_code_attempts`` wrong ones; only the newest code of a visitor counts.
Only an HMAC of it (keyed with the server secret) is stored, compared in constant time, so a
database dump does not reveal it; the e-mail carrying it keeps it sealed until it is sent.
Codes are limited per address, per client address and per project. The code and the address
travel in POST bodies only, never in a URL.

Once proven, the address is the contact's e-mail with provenance ``email_code``; the
session's senderAuthInfo says ``sign_in_provider: "email_code"``; the visitor's open
conversations are upgraded (``actions.verification``); the audit log records it. An address
a visitor only typed is never proven by this and merges nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess
from frontdesk.actions.credentials import normalise_email
from frontdesk.actions.leads import do_prove_email
from frontdesk.actions.outbox import do_enqueue
from frontdesk.actions.verification import do_upgrade_conversations
from frontdesk.auth.principals import Visitor
from frontdesk.auth.sender_auth_info import email_code_auth_info
from frontdesk.clock import iso
from frontdesk.errors import BadRequest, Conflict, ServiceUnavailable
from frontdesk.models.trust import EmailCodeSentPublic, EmailVerifiedPublic
from frontdesk.services import Services
from frontdesk.storage import email_codes, sessions
from frontdesk.storage.database import Transaction
from frontdesk.storage.email_codes import EmailCodeRecord

CODE_LENGTH = 6
KIND = "email_code"


def _visitor(access: ProjectAccess) -> Visitor:
    visitor = access.principal
    assert isinstance(visitor, Visitor)  # the route admits visitors only
    if visitor.is_authenticated:
        raise Conflict(
            "this visitor is signed in with a token already: a code proves nothing more",
            code="already_authenticated",
        )
    return visitor


def _code_hash(services: Services, code_id: str, code: str) -> str:
    key = hashlib.sha256(("frontdesk email codes\x00" + services.settings.secret).encode())
    return hmac.new(key.digest(), f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


async def check_send_email_code(
    services: Services, access: ProjectAccess, *, email: str, ip: str
) -> EmailCodeSentPublic:
    """Send a fresh code to ``email`` for the calling anonymous visitor.

    Raises Conflict(already_authenticated), ServiceUnavailable(email_unavailable) when no SMTP
    server is configured, RateLimited(rate_limited) past a limit.
    """
    visitor = _visitor(access)
    if not services.mailer.configured:
        raise ServiceUnavailable(
            "this server sends no e-mail (no SMTP server is configured)", code="email_unavailable"
        )
    email = normalise_email(email)
    project_id = access.project["id"]
    await services.limits.check_email_code(ip, project_id, email)
    now = services.now_ms()
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))
    record: EmailCodeRecord = {
        "id": services.ids.object_id(), "project_id": project_id,
        "visitor_id": visitor.visitor_id, "email": email, "code_hash": "", "attempts": 0,
        "created_at": now, "expires_at": now + services.settings.email_code_ttl * 1000,
        "used_at": None, "locked_at": None,
    }
    record["code_hash"] = _code_hash(services, record["id"], code)
    minutes = max(1, services.settings.email_code_ttl // 60)
    async with services.db.transaction() as tx:
        await email_codes.supersede_codes(tx, project_id, visitor.visitor_id, now=now)
        await email_codes.insert_code(tx, record)
        await do_enqueue(
            services, tx, project_id=project_id, kind=KIND, to=email,
            subject=f"Your code for {access.project['name']}",
            body=(
                "Your verification code is {code}.\n\n"
                f"Type it in the chat window within {minutes} minutes. If you did not ask"
                " for it, ignore this e-mail: nothing happens without the code.\n"
            ),
            payload={"code_id": record["id"]}, sealed={"code": code},
        )
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "email.code_sent", actor=visitor.visitor_id, subject=visitor.visitor_id, ip=ip,
            details={"email": email},
        ))
    return {
        "success": True, "email": email, "expiresAt": iso(record["expires_at"]),
        "codeLength": CODE_LENGTH, "attempts": services.settings.email_code_attempts,
    }


@dataclass(frozen=True)
class _Refusal:
    code: str
    message: str
    attempts_left: int | None = None


async def check_confirm_email_code(
    services: Services, access: ProjectAccess, *, email: str, code: str, ip: str
) -> EmailVerifiedPublic:
    """Prove ``email`` with ``code`` for the calling anonymous visitor.

    Raises Conflict(already_authenticated) and BadRequest with one of these codes:
    ``no_pending_code`` (none sent to this address for this visitor), ``invalid_code`` (wrong;
    ``details`` say how many attempts are left), ``code_locked`` (too many wrong guesses, or
    replaced by a newer code), ``code_expired``, ``code_used`` (spent already).
    """
    visitor = _visitor(access)
    email = normalise_email(email)
    project_id = access.project["id"]
    now = services.now_ms()
    refusal: _Refusal | None = None
    async with services.db.transaction() as tx:
        record = await email_codes.latest_code(
            tx, project_id, visitor.visitor_id, email, lock=True
        )
        refusal = await _check_code(services, tx, record, code, now)
        if refusal is None:
            assert record is not None
            await email_codes.spend_code(tx, record["id"], now=now)
            session = await sessions.get_session(tx, visitor.jti)
            claims = session["auth_info"].get("authVar", {}).get("token", {}) if session else {}
            auth_info = email_code_auth_info(visitor.visitor_id, claims, email, now)
            await sessions.set_auth_info(tx, visitor.jti, auth_info)
            await do_prove_email(services, tx, visitor, email, auth_info)
            upgraded = await do_upgrade_conversations(
                services, tx, project_id, visitor.visitor_id, auth_info,
                text=f"The visitor proved the e-mail address {email}.",
            )
            await audit.record(services, tx, project_id, audit.AuditEvent(
                "email.verified", actor=visitor.visitor_id, subject=visitor.visitor_id, ip=ip,
                details={"email": email, "method": "email_code", "requests": upgraded},
            ))
        elif refusal.code == "code_locked" and record is not None and record["locked_at"] == now:
            await audit.record(services, tx, project_id, audit.AuditEvent(
                "email.code_failed", actor=visitor.visitor_id, subject=visitor.visitor_id,
                ip=ip, code=refusal.code, details={"email": email},
            ))
    if refusal is not None:
        details = None
        if refusal.attempts_left is not None:
            details = [{"loc": ["body", "code"], "msg": refusal.message,
                        "attemptsLeft": refusal.attempts_left}]
        raise BadRequest(refusal.message, code=refusal.code, details=details)
    # This process's cached principal carries the old senderAuthInfo; other processes' expire.
    services.session_cache.evict(visitor.jti)
    return {
        "success": True, "tier": "email_verified", "email": email, "verifiedAt": iso(now),
        "senderAuthInfo": auth_info, "requests": upgraded,
    }


async def _check_code(
    services: Services, tx: Transaction, record: EmailCodeRecord | None, code: str,
    now: int,
) -> _Refusal | None:
    """None when ``code`` is right for ``record``; otherwise why not, with a wrong guess
    counted (and the code locked at the last one allowed) within ``tx``."""
    if record is None:
        return _Refusal("no_pending_code", "no code was sent to this address: ask for one")
    if record["used_at"] is not None:
        return _Refusal("code_used", "this code was used already: ask for a new one")
    if record["locked_at"] is not None:
        return _Refusal("code_locked", "this code is locked: ask for a new one")
    if record["expires_at"] <= now:
        return _Refusal("code_expired", "this code has expired: ask for a new one")
    expected = record["code_hash"]
    if hmac.compare_digest(expected, _code_hash(services, record["id"], code.strip())):
        return None
    allowed = services.settings.email_code_attempts
    attempts = record["attempts"] + 1
    if attempts >= allowed:
        await email_codes.count_attempt(tx, record["id"], locked_at=now)
        record["locked_at"] = now
        return _Refusal("code_locked", "too many wrong codes: this one is locked, ask for a"
                        " new one")
    await email_codes.count_attempt(tx, record["id"], locked_at=None)
    return _Refusal("invalid_code", "this code is not right", attempts_left=allowed - attempts)
