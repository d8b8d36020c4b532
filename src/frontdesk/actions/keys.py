"""Project keys: what customers' backends sign visitor tokens with, and their rotation.

Three kinds of key verify tokens, each with its own algorithms (see auth.customer_tokens):
shared secrets (``hmac``: generated here, sealed at rest, shown once), public keys (``rsa``,
``ec``: registered as PEM or pasted JWKS, so the private key never leaves the customer's
backend) and JWKS sources (``jwks``: a URL whose keys are fetched and cached).

A project may have several live keys; a token's ``kid`` header picks one. Generating a shared
secret retires the active ones with a grace period during which they still verify, so a
rotation never signs anybody out; retiring a key can keep a grace period or end it at once.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any, Literal

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess
from frontdesk.auth.customer_tokens import ALGORITHMS_BY_KIND, VerificationKey
from frontdesk.auth.public_keys import (
    MAX_JWKS_BYTES,
    ParsedPublicKey,
    check_jwks_url,
    parse_jwks,
    parse_pem,
    verification_key,
)
from frontdesk.auth.secret_box import SecretBox
from frontdesk.clock import iso
from frontdesk.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from frontdesk.models.keys import KeyPublic, present_key
from frontdesk.services import Services
from frontdesk.storage import keys, projects
from frontdesk.storage.database import Transaction
from frontdesk.storage.keys import KeyRecord
from frontdesk.storage.projects import ProjectRecord

HMAC_KIND = "hmac"
JWKS_KIND = "jwks"


def _context(project_id: str, kid: str) -> str:
    return f"{project_id}/{kid}"


def _new_kid(prefix: str = "k") -> str:
    return prefix + secrets.token_hex(8)


def _actor(access: ProjectAccess) -> str:
    return access.agent.user_id


def grace_period(services: Services, project: ProjectRecord) -> int:
    configured = project["settings"].get("key_grace_period")
    return int(configured) if configured is not None else services.settings.key_grace_period


async def do_generate_key(services: Services, access: ProjectAccess) -> dict[str, Any]:
    """A new shared secret; the active ones keep verifying for the grace period."""
    project_id = access.project["id"]
    now = services.now_ms()
    async with services.db.transaction() as tx:
        # Rotations of one project take turns: the second retires the key the first made.
        project = await projects.get_project(tx, project_id, lock=True)
        assert project is not None
        grace_ms = grace_period(services, project) * 1000
        retired = await keys.retire_active_keys(
            tx, project_id, kind=HMAC_KIND, now=now, verify_until=now + grace_ms
        )
        services.project_changed_on_commit(tx, project_id)
        created = await _insert_shared(services, tx, project_id, kid=_new_kid(), label="",
                                       now=now)
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "key.rotated" if retired else "key.created", actor=_actor(access),
            subject=created["kid"], kid=created["kid"],
            details={"kind": HMAC_KIND, "retired": retired, "graceSeconds": grace_ms // 1000},
        ))
        listed = await keys.all_keys(tx, project_id)
    return {**created, "keys": [present_key(k, now) for k in listed]}


async def do_create_key(
    services: Services,
    access: ProjectAccess,
    *,
    kind: Literal["shared", "public"],
    kid: str | None,
    public_key: str | None,
    label: str,
) -> dict[str, Any]:
    """Add a live key next to the others. A shared secret is returned once, in this answer.

    Raises ValidationFailed(invalid_public_key, private_key_sent) for a bad PEM and
    Conflict(kid_taken) when the project already has the kid.
    """
    project_id = access.project["id"]
    now = services.now_ms()
    kid = kid or _new_kid()
    parsed = None
    if kind == "public":
        if not public_key:
            raise ValidationFailed("a public key needs publicKey (PEM)", code="missing_public_key")
        parsed = parse_pem(public_key)
    async with services.db.transaction() as tx:
        if parsed is None:
            created = await _insert_shared(services, tx, project_id, kid=kid, label=label,
                                           now=now)
        else:
            await _insert_public(services, tx, project_id, parsed, kid=kid, label=label,
                                 now=now)
            created = {"kid": kid, "kind": parsed.kind, "alg": parsed.alg,
                       "algorithms": list(ALGORITHMS_BY_KIND[parsed.kind]),
                       "createdAt": iso(now)}
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "key.created", actor=_actor(access), subject=kid, kid=kid,
            details={"kind": created["kind"], "label": label},
        ))
        row = await keys.get_key(tx, project_id, kid)
    assert row is not None
    return {**present_key(row, now), **created}


async def do_add_jwks(
    services: Services,
    access: ProjectAccess,
    *,
    jwks: dict[str, Any] | None,
    url: str | None,
    label: str,
) -> list[KeyPublic]:
    """Register a pasted JWKS (each of its keys becomes a public key, kid from the JWK) or a
    JWKS URL (fetched now to check it, then cached and refetched as it rotates).

    Raises ValidationFailed(invalid_jwks, invalid_jwks_url, jwks_unreachable) and
    Conflict(kid_taken); nothing is registered when any key is refused.
    """
    if (jwks is None) == (url is None):
        raise ValidationFailed("send either jwks (the document) or url", code="invalid_jwks")
    project_id = access.project["id"]
    now = services.now_ms()
    if url is not None:
        check_jwks_url(url)
        try:
            await services.jwks.refresh(url, project_id=project_id)
        except ServiceUnavailable:
            # Why it failed stays in the server log: the answer must not relay what an
            # internal or hostile server said.
            raise ValidationFailed(
                "the JWKS URL could not be fetched: it must answer 200 with a JWKS of at most"
                f" {MAX_JWKS_BYTES // 1024} KiB within {services.settings.jwks_fetch_timeout:g} s,"
                " from a public address, without redirects",
                code="jwks_unreachable",
            ) from None
        parsed: list[ParsedPublicKey] = []
    else:
        parsed = parse_jwks(jwks)
    async with services.db.transaction() as tx:
        if url is not None:
            kid = _new_kid("jwks-")
            await keys.insert_key(tx, project_id=project_id, kid=kid, kind=JWKS_KIND,
                                  jwks_url=url, label=label, now=now)
            services.project_changed_on_commit(tx, project_id)
            kids = [kid]
        else:
            kids = []
            for key in parsed:
                assert key.kid is not None
                await _insert_public(services, tx, project_id, key, kid=key.kid, label=label,
                                     now=now)
                kids.append(key.kid)
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "key.created", actor=_actor(access), subject=",".join(kids),
            details={"kind": JWKS_KIND if url else "jwks-pasted", "kids": kids, "url": url},
        ))
        rows = [await keys.get_key(tx, project_id, kid) for kid in kids]
    return [present_key(row, now) for row in rows if row is not None]


async def do_retire_key(
    services: Services, access: ProjectAccess, kid: str, *, grace_seconds: int | None
) -> KeyPublic:
    """Retire a key: it verifies for ``grace_seconds`` more (None: the project's grace period;
    0: stops at once). Raises NotFound(unknown_kid)."""
    project_id = access.project["id"]
    now = services.now_ms()
    grace = grace_period(services, access.project) if grace_seconds is None else grace_seconds
    async with services.db.transaction() as tx:
        changed = await keys.retire_key(tx, project_id, kid, now=now,
                                        verify_until=now + grace * 1000)
        services.project_changed_on_commit(tx, project_id)
        if not changed:
            raise NotFound(f"this project has no key {kid!r}", code="unknown_kid")
        await audit.record(services, tx, project_id, audit.AuditEvent(
            "key.retired", actor=_actor(access), subject=kid, kid=kid,
            details={"graceSeconds": grace},
        ))
        row = await keys.get_key(tx, project_id, kid)
    assert row is not None
    return present_key(row, now)


async def do_list_keys(services: Services, access: ProjectAccess) -> list[KeyPublic]:
    now = services.now_ms()
    return [present_key(k, now) for k in await keys.all_keys(services.db, access.project["id"])]


async def _insert_shared(
    services: Services, tx: Transaction, project_id: str, *, kid: str, label: str, now: int
) -> dict[str, Any]:
    # 64 characters: long enough for HS512 (RFC 7518 wants a key as long as the hash).
    secret = secrets.token_urlsafe(48)
    inserted = await keys.insert_key(
        tx, project_id=project_id, kid=kid, kind=HMAC_KIND, label=label, now=now,
        secret_enc=services.secret_box.seal(secret, context=_context(project_id, kid)),
    )
    services.project_changed_on_commit(tx, project_id)
    if not inserted:
        raise Conflict(f"this project already has a key {kid!r}", code="kid_taken")
    return {
        "jwtSecret": secret,
        "kid": kid,
        "kind": HMAC_KIND,
        "alg": "HS256",
        "algorithms": list(ALGORITHMS_BY_KIND[HMAC_KIND]),
        "createdAt": iso(now),
    }


async def _insert_public(
    services: Services, tx: Transaction, project_id: str, key: ParsedPublicKey, *, kid: str,
    label: str, now: int,
) -> None:
    inserted = await keys.insert_key(
        tx, project_id=project_id, kid=kid, kind=key.kind, alg=key.alg, label=label,
        public_key=key.pem, now=now,
    )
    services.project_changed_on_commit(tx, project_id)
    if not inserted:
        raise Conflict(f"this project already has a key {kid!r}", code="kid_taken")


async def verification_keys(
    services: Services, project_id: str, *, kid: str | None = None
) -> list[VerificationKey]:
    """The project's live keys as the verifier wants them.

    JWKS sources are consulted only when ``kid`` is absent or names no stored key; a source
    that cannot be fetched fails the sign-in (ServiceUnavailable(jwks_unavailable)) only when
    the token names a kid that nothing else can verify.
    """
    rows = await _live_key_rows(services, project_id)
    found = [_stored_key(services, project_id, r) for r in rows if r["kind"] != JWKS_KIND]
    if kid is not None and any(k.kid == kid for k in found):
        return found
    for source in (r for r in rows if r["kind"] == JWKS_KIND):
        try:
            url = source["jwks_url"]
            assert url is not None  # a JWKS source is its URL
            fetched = await services.jwks.keys(url, project_id=project_id, want_kid=kid)
        except ServiceUnavailable:
            if kid is None:
                continue
            raise
        found += [verification_key(k.kid, k.kind, k.pem) for k in fetched if k.kid is not None]
    return found


async def _live_key_rows(services: Services, project_id: str) -> list[KeyRecord]:
    """The project's live key rows, from the project cache when it has them: every write of
    a key evicts them (``project_changed_on_commit``), and a retired key's grace is checked
    against the clock on every call, cached or not."""
    now = services.now_ms()
    rows = await services.project_cache.read_keys(
        project_id, lambda: keys.live_keys(services.db, project_id, now))
    return [row for row in rows if keys.verifies_at(row, now)]


def _stored_key(services: Services, project_id: str, row: KeyRecord) -> VerificationKey:
    kind, sealed, pem = row["kind"], row["secret_enc"], row["public_key"]
    if kind == "hmac":
        assert sealed is not None  # a shared key is its sealed secret
        return _shared_key(services.secret_box, project_id, row["kid"], sealed)
    assert kind != "jwks" and pem is not None  # JWKS sources are read apart
    return verification_key(row["kid"], kind, pem)


@functools.lru_cache(maxsize=1024)
def _shared_key(box: SecretBox, project_id: str, kid: str, sealed: str) -> VerificationKey:
    """A shared secret opened and prepared once, not at every sign-in. Whether the key may
    still verify is decided by the row read at each sign-in: a retired key is no longer
    asked for, and a new secret is a new kid and a new sealed value, so a new entry."""
    secret = box.open(sealed, context=_context(project_id, kid))
    return VerificationKey(kid=kid, kind="hmac", material=secret)
