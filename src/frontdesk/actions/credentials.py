"""Checking an agent's email and password: failure limits first, then the password hash."""

from __future__ import annotations

from frontdesk.errors import Unauthorized
from frontdesk.services import Services
from frontdesk.storage import users
from frontdesk.storage.database import Row


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def check_credentials(
    services: Services, *, email: str, password: str, ip: str, remember: bool = False
) -> Row:
    """The agent account these credentials prove.

    Raises, in this order: RateLimited(too_many_failed_signins) while the address ``ip`` or
    the account has used up its failed attempts, before any hashing;
    ServiceUnavailable(password_checks_busy) when too many checks are waiting to hash;
    Unauthorized(bad_credentials) for any mismatch, after the same hash work for unknown
    emails as for known ones. With ``remember`` (HTTP Basic, re-sent on every call), a
    success is remembered and a repeat skips the hash while the account's password is
    unchanged.
    """
    email = normalise_email(email)
    services.limits.take_password_attempt(ip, email)
    try:
        user = await _user_if_password_matches(services, email, password, remember=remember)
    except Unauthorized:
        raise  # a wrong password keeps the attempt it took
    except BaseException:
        services.limits.return_password_attempt(ip, email)  # never judged: busy, gone
        raise
    services.limits.return_password_attempt(ip, email)
    return user


async def _user_if_password_matches(
    services: Services, email: str, password: str, *, remember: bool
) -> Row:
    user = await users.get_user_by_email(services.db, email)
    if remember and user is not None and services.basic_cache.matches(
        email, password, user["id"], user["password_hash"]
    ):
        return user
    if not await services.passwords.verify(user["password_hash"] if user else None, password):
        raise Unauthorized("wrong email or password", code="bad_credentials")
    assert user is not None
    if remember:
        services.basic_cache.remember(email, password, user["id"], user["password_hash"])
    return user
