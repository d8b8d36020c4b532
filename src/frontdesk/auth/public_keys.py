"""Customers' public keys: PEM documents, JWKs and JWKS, and JWKS fetched from a URL.

Only the shapes the token verifier knows are accepted: RSA keys of 2048 bits or more (RS256)
and EC keys on P-256 (ES256). A symmetric JWK (``kty: oct``) is refused: a JWKS is public, a
shared secret in one would be a leak.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from frontdesk.auth.customer_tokens import ALGORITHMS_BY_KIND, KeyKind, VerificationKey
from frontdesk.auth.jwks_fetch import FetchPolicy, JwksFetchError, url_problem
from frontdesk.clock import Clock
from frontdesk.errors import ServiceUnavailable, ValidationFailed
from frontdesk.settings import Settings

MIN_RSA_BITS = 2048
MAX_JWKS_BYTES = 64 * 1024
MAX_JWKS_KEYS = 20

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
logger = logging.getLogger("frontdesk.jwks")


@dataclass(frozen=True)
class ParsedPublicKey:
    kid: str | None
    kind: KeyKind
    pem: str

    @property
    def alg(self) -> str:
        return ALGORITHMS_BY_KIND[self.kind][0]


def _invalid(message: str, code: str = "invalid_public_key") -> ValidationFailed:
    return ValidationFailed(message, code=code)


def _classify(key: Any) -> KeyKind:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise _invalid(f"RSA keys need {MIN_RSA_BITS} bits or more")
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise _invalid("EC keys must be on the P-256 curve (ES256)")
        return "ec"
    raise _invalid("only RSA (RS256) and EC P-256 (ES256) public keys are accepted")


def _to_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def parse_pem(pem: str) -> ParsedPublicKey:
    """A PEM public key; ValidationFailed(invalid_public_key) for anything else (private keys
    included: a customer's private key must never be sent here)."""
    if "PRIVATE KEY" in pem:
        raise _invalid("this is a private key: register the public key only", "private_key_sent")
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise _invalid("not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    kind = _classify(key)
    assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    return ParsedPublicKey(kid=None, kind=kind, pem=_to_pem(key))


def parse_jwk(jwk: Any) -> ParsedPublicKey | None:
    """One JWK as a public key; None for a key meant for encryption (``use: enc``)."""
    if not isinstance(jwk, dict):
        raise _invalid("each JWK must be a JSON object", "invalid_jwks")
    if jwk.get("use") == "enc":
        return None
    kty = jwk.get("kty")
    if kty == "oct":
        raise _invalid("a JWKS must not hold shared secrets (kty oct)", "invalid_jwks")
    if "d" in jwk:
        raise _invalid("this JWK holds a private key: publish the public part only",
                       "private_key_sent")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        raise _invalid("every JWK needs a kid (1 to 200 characters)", "invalid_jwks")
    try:
        if kty == "RSA":
            key: Any = RSAAlgorithm.from_jwk(jwk)
        elif kty == "EC":
            key = ECAlgorithm.from_jwk(jwk)
        else:
            raise _invalid(f"JWK {kid!r}: kty {kty!r} is not RSA or EC", "invalid_jwks")
    except (ValueError, TypeError, KeyError) as exc:
        raise _invalid(f"JWK {kid!r} is not a valid public key: {exc}", "invalid_jwks") from None
    kind = _classify(key)
    if "alg" in jwk and jwk["alg"] not in ALGORITHMS_BY_KIND[kind]:
        raise _invalid(f"JWK {kid!r}: alg {jwk['alg']!r} does not fit a {kind} key",
                       "invalid_jwks")
    return ParsedPublicKey(kid=kid, kind=kind, pem=_to_pem(key))


def parse_jwks(document: Any) -> list[ParsedPublicKey]:
    """The signing keys of a JWKS document ``{"keys": [...]}``."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise _invalid('a JWKS is a JSON object {"keys": [...]}', "invalid_jwks")
    if len(document["keys"]) > MAX_JWKS_KEYS:
        raise _invalid(f"a JWKS may hold at most {MAX_JWKS_KEYS} keys", "invalid_jwks")
    parsed = [p for p in (parse_jwk(k) for k in document["keys"]) if p is not None]
    if not parsed:
        raise _invalid("the JWKS holds no signing key", "invalid_jwks")
    return parsed


@functools.lru_cache(maxsize=512)
def verification_key(kid: str, kind: KeyKind, pem: str) -> VerificationKey:
    """A stored public key as the verifier wants it, made once per key (the PEM parsed, the
    key checked for its algorithm) and kept while it is in use; a key rotates to a new kid or
    PEM, so to a new entry."""
    return VerificationKey(kid=kid, kind=kind, material=serialization.load_pem_public_key(
        pem.encode()
    ))


def check_jwks_url(url: str) -> str:
    """``url`` when it is an https URL with a host and no credentials; ValidationFailed
    (invalid_jwks_url) otherwise. Where it leads is checked when it is fetched."""
    problem = url_problem(url)
    if problem is not None:
        raise _invalid(problem, "invalid_jwks_url")
    return url


Fetch = Callable[[str], Awaitable[bytes]]


def jwks_fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        deadline=settings.jwks_fetch_timeout,
        max_bytes=MAX_JWKS_BYTES,
        allow_private=settings.jwks_allow_private,
        ca_file=settings.jwks_ca_file,
    )

_UNAVAILABLE = "the project's key set (JWKS) cannot be fetched now; try again later"


@dataclass
class _Cached:
    keys: list[ParsedPublicKey]
    fetched_at: float


class JwksCache:
    """JWKS documents fetched from customers' URLs, kept ``ttl`` seconds.

    A token whose kid is not in a fresh document triggers a refetch (the customer may have just
    rotated), but at most once per ``min_refetch`` seconds per URL, so random kids cannot turn
    the server into a request amplifier. When a refetch fails, the last good document is used.

    Fetches are bounded so that one project's slow URL cannot hold up another's: one fetch per
    URL at a time (callers asking meanwhile wait for its result), at most ``per_project`` URLs
    of one project in flight, ``total`` in all; past a bound the fetch is not started and the
    cached keys (or jwks_unavailable) answer at once. Why a fetch failed goes to the log only.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        ttl: float,
        min_refetch: float,
        fetch: Fetch,
        per_project: int = 2,
        total: int = 32,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._fetch = fetch
        self._per_project = per_project
        self._total = total
        self._cache: dict[str, _Cached] = {}
        self._attempts: dict[str, float] = {}
        self._in_flight: dict[str, asyncio.Future[list[ParsedPublicKey]]] = {}
        self._project_fetches: dict[str, int] = {}

    async def keys(
        self, url: str, *, project_id: str, want_kid: str | None = None
    ) -> list[ParsedPublicKey]:
        """The keys at ``url``. Raises ServiceUnavailable(jwks_unavailable) when it was never
        fetched successfully and cannot be now."""
        now = self._clock.now()
        cached = self._cache.get(url)
        if cached is not None:
            fresh = now - cached.fetched_at < self._ttl
            known = want_kid is None or any(k.kid == want_kid for k in cached.keys)
            recently_tried = now - self._attempts.get(url, 0.0) < self._min_refetch
            if (fresh and known) or (recently_tried and url not in self._in_flight):
                return cached.keys
        elif url not in self._in_flight and (
            now - self._attempts.get(url, -1e18) < self._min_refetch
        ):
            raise ServiceUnavailable(_UNAVAILABLE, code="jwks_unavailable")
        return await self.refresh(url, project_id=project_id)

    async def refresh(self, url: str, *, project_id: str) -> list[ParsedPublicKey]:
        """Fetch ``url`` now (or join the fetch under way); the last good keys when it fails,
        ServiceUnavailable(jwks_unavailable) when there are none."""
        shared = self._in_flight.get(url)
        if shared is None:
            if not self._may_start(project_id):
                logger.warning("JWKS %s of project %s not fetched: too many fetches in flight",
                               url, project_id)
                return self._stale_or_unavailable(url)
            # Counted now, not when the task first runs: calls in the same tick see it.
            self._attempts[url] = self._clock.now()
            self._project_fetches[project_id] = self._project_fetches.get(project_id, 0) + 1
            shared = asyncio.ensure_future(self._fetch_and_keep(url, project_id))
            # Its callers may all be gone (clients hang up) by the time it fails.
            shared.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._in_flight[url] = shared
        try:
            return await asyncio.shield(shared)
        except (JwksFetchError, ValueError, RecursionError, ValidationFailed):
            return self._stale_or_unavailable(url)

    def _may_start(self, project_id: str) -> bool:
        running = self._project_fetches.get(project_id, 0)
        return running < self._per_project and len(self._in_flight) < self._total

    async def _fetch_and_keep(self, url: str, project_id: str) -> list[ParsedPublicKey]:
        try:
            keys = parse_jwks(json.loads(await self._fetch(url)))
        except (JwksFetchError, ValueError, RecursionError, ValidationFailed) as exc:
            logger.warning("JWKS %s of project %s not usable: %s", url, project_id, exc)
            raise
        finally:
            self._in_flight.pop(url, None)
            left = self._project_fetches.pop(project_id) - 1
            if left:
                self._project_fetches[project_id] = left
        self._cache[url] = _Cached(keys, self._clock.now())
        return keys

    def _stale_or_unavailable(self, url: str) -> list[ParsedPublicKey]:
        stale = self._cache.get(url)
        if stale is None:
            raise ServiceUnavailable(_UNAVAILABLE, code="jwks_unavailable")
        return stale.keys
