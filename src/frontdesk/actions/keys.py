"""Project keys: the shared secrets customers sign visitor tokens with, and their rotation.

Generating a key retires the active ones with a grace period during which they still verify,
so a rotation never signs anybody out. Secrets are sealed at rest and shown only once.
"""

from __future__ import annotations

import secrets
from typing import Any

from frontdesk.actions.access import ProjectAccess
from frontdesk.auth.customer_tokens import VerificationKey
from frontdesk.clock import iso
from frontdesk.services import Services
from frontdesk.storage import keys

HMAC_KIND = "hmac"


def _context(project_id: str, kid: str) -> str:
    return f"{project_id}/{kid}"


def grace_period(services: Services, project: dict[str, Any]) -> int:
    configured = project["settings"].get("key_grace_period")
    return int(configured) if configured is not None else services.settings.key_grace_period


async def do_generate_key(services: Services, access: ProjectAccess) -> dict[str, Any]:
    """A new shared secret for the project; active keys keep verifying for the grace period."""
    project_id = access.project["id"]
    # 64 characters: long enough for HS512 (RFC 7518 wants a key as long as the hash).
    secret = secrets.token_urlsafe(48)
    kid = "k" + secrets.token_hex(8)
    now = services.now_ms()
    grace_ms = grace_period(services, access.project) * 1000
    async with services.db.transaction() as tx:
        await keys.retire_active_keys(tx, project_id, now=now, verify_until=now + grace_ms)
        await keys.insert_key(
            tx,
            kid=kid,
            project_id=project_id,
            kind=HMAC_KIND,
            secret_enc=services.secret_box.seal(secret, context=_context(project_id, kid)),
            now=now,
        )
        listed = await keys.all_keys(tx, project_id)
    return {
        "jwtSecret": secret,
        "kid": kid,
        "alg": "HS256",
        "algorithms": ["HS256", "HS384", "HS512"],
        "createdAt": iso(now),
        "keys": [present_key(k, now) for k in listed],
    }


async def do_list_keys(services: Services, access: ProjectAccess) -> list[dict[str, Any]]:
    now = services.now_ms()
    return [present_key(k, now) for k in await keys.all_keys(services.db, access.project["id"])]


async def verification_keys(services: Services, project_id: str) -> list[VerificationKey]:
    rows = await keys.live_keys(services.db, project_id, services.now_ms())
    return [
        VerificationKey(
            kid=row["kid"],
            secret=services.secret_box.open(
                row["secret_enc"], context=_context(project_id, row["kid"])
            ),
        )
        for row in rows
        if row["kind"] == HMAC_KIND
    ]


def present_key(row: dict[str, Any], now: int) -> dict[str, Any]:
    """A key without its secret."""
    if row["retired_at"] is None:
        state = "active"
    elif row["verify_until"] is not None and row["verify_until"] > now:
        state = "grace"
    else:
        state = "retired"
    return {
        "kid": row["kid"],
        "kind": row["kind"],
        "state": state,
        "createdAt": iso(row["created_at"]),
        "retiredAt": iso(row["retired_at"]),
        "verifyUntil": iso(row["verify_until"]),
    }
