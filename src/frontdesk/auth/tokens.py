"""The server's own session tokens: HS256 JWTs with ``exp`` and ``jti``, one session row each.

The token carries who (``_id``, ``sub``) and for which project (``aud``); the session row, keyed
by ``jti``, says whether it was revoked. Agent tokens have ``sub: user``; visitor tokens
``sub: guest`` (anonymous) or ``sub: userexternal`` (authenticated by a customer token).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from jwt.algorithms import HMACAlgorithm
from jwt.utils import base64url_encode

from frontdesk.auth import jws
from frontdesk.clock import Clock
from frontdesk.errors import Unauthorized
from frontdesk.ids import ordered_hex

ISSUER = "frontdesk"
SESSION_ALGORITHM = "HS256"
_AGENT_AUDIENCE = "frontdesk:agents"
_PROJECT_AUDIENCE_PREFIX = "frontdesk:projects/"
# Ours stay far below this; anything longer is refused before any parsing.
MAX_TOKEN_LENGTH = 8192

Subject = Literal["user", "guest", "userexternal"]
_REQUIRED_CLAIMS = ("exp", "iat", "jti", "sub", "_id")


@dataclass(frozen=True)
class SessionClaims:
    jti: str
    subject_id: str
    sub: Subject
    project_id: str | None
    issued_at: int
    expires_at: int
    raw: dict[str, Any]


# Every session token has this header: PyJWT writes {"alg":"HS256","typ":"JWT"} the same way.
_HEADER_SEGMENT = base64url_encode(b'{"alg":"HS256","typ":"JWT"}')


class SessionTokens:
    def __init__(self, secret: str, clock: Clock) -> None:
        self._secret = secret
        self._clock = clock
        # PyJWT's HS256 with the server's secret checked and converted once, at start-up:
        # PyJWT would check the key on every call (is it PEM, SSH, DER, a JWK?). A secret that
        # is an asymmetric key is refused here (jwt.InvalidKeyError).
        # Signatures are then PyJWT's (hmac.new(key, input, sha256).digest()), made in one
        # call to hashlib's C HMAC rather than through a Python HMAC object.
        self._key: bytes = HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret)

    def _sign(self, claims: dict[str, Any]) -> str:
        """The compact JWS of ``claims``, signed HS256 with PyJWT's header, without rebuilding
        the constant header and re-checking the key each time. The claims are written by
        orjson rather than the json module PyJWT uses (issuing a token: 10.8 → 7.3 µs): the
        same JSON, except that text beyond ASCII is written as UTF-8 where PyJWT writes
        ``\\u`` escapes; any JWT library reads both alike (RFC 7519 claims are UTF-8 JSON)."""
        payload = orjson.dumps(claims)
        signing_input = _HEADER_SEGMENT + b"." + base64url_encode(payload)
        signature = hmac.digest(self._key, signing_input, "sha256")
        return (signing_input + b"." + base64url_encode(signature)).decode()

    def issue(
        self,
        *,
        sub: Subject,
        subject_id: str,
        project_id: str | None,
        ttl: int,
        profile: dict[str, Any] | None = None,
    ) -> tuple[str, SessionClaims]:
        clock_now = self._clock.now()
        now = int(clock_now)
        claims: dict[str, Any] = {
            **(profile or {}),
            "_id": subject_id,
            "sub": sub,
            "iss": ISSUER,
            "aud": _AGENT_AUDIENCE if project_id is None else _PROJECT_AUDIENCE_PREFIX + project_id,
            "iat": now,
            "exp": now + ttl,
            # Sorted by time: the sessions' key index grows at its end (ids.ordered_hex).
            "jti": ordered_hex(int(clock_now * 1000)),
        }
        return self._sign(claims), _to_session(claims)

    def reissue(self, claims: SessionClaims, *, ttl: int) -> tuple[str, SessionClaims]:
        """The same session (same ``jti`` and identity) with a new ``iat`` and ``exp``."""
        now = int(self._clock.now())
        fresh = {**claims.raw, "iat": now, "exp": now + ttl}
        return self._sign(fresh), _to_session(fresh)

    def verify(self, token: str) -> SessionClaims:
        """The claims of a token this server issued; Unauthorized with a precise code otherwise.

        Does not consult revocation: callers check the session row.
        """
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("the token is too long", code="malformed_token")
        # The refusals and their order are PyJWT's decode with algorithms=["HS256"],
        # issuer=ISSUER and the claims below required: a token it cannot read, then its
        # algorithm, then its signature, then its claims.
        try:
            segments = jws.split(token)
        except jws.MalformedJWS as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from None
        if segments.header.get("alg") != SESSION_ALGORITHM:
            raise Unauthorized(
                "the token's algorithm is not accepted", code="unsupported_algorithm"
            )
        if not jws.hmac_matches(segments.signature, self._key, segments.signing_input, "sha256"):
            raise Unauthorized("the token's signature is not valid", code="bad_signature")
        try:
            claims = jws.json_object(segments.payload)
        except jws.MalformedJWS as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from None
        _check_registered_claims(claims)
        # Times are checked against the injected clock, not PyJWT's wall clock.
        if not isinstance(claims["exp"], int) or claims["exp"] <= int(self._clock.now()):
            raise Unauthorized("the session token has expired", code="token_expired")
        if claims["sub"] not in ("user", "guest", "userexternal"):
            raise Unauthorized("unknown token subject", code="invalid_token")
        return _to_session(claims)


def _check_registered_claims(claims: dict[str, Any]) -> None:
    """Unauthorized(invalid_token) unless the claims every session token carries are there,
    with PyJWT's type checks of ``iss``, ``sub`` and ``jti``."""
    for name in _REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise Unauthorized(f"invalid token: the {name} claim is missing",
                               code="invalid_token")
    if claims.get("iss") != ISSUER:
        raise Unauthorized("invalid token: not issued here", code="invalid_token")
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise Unauthorized("invalid token: sub and jti must be strings", code="invalid_token")
    # PyJWT leaves iat unchecked here (verify_iat off); a session's start must be a number
    # of seconds, or reading it would fail later.
    if not isinstance(claims["iat"], int) or isinstance(claims["iat"], bool):
        raise Unauthorized("invalid token: iat must be an integer", code="invalid_token")


def is_session_token(unverified_claims: dict[str, Any]) -> bool:
    return unverified_claims.get("iss") == ISSUER


def _to_session(claims: dict[str, Any]) -> SessionClaims:
    aud = claims.get("aud", "")
    project_id = (
        aud[len(_PROJECT_AUDIENCE_PREFIX) :]
        if isinstance(aud, str) and aud.startswith(_PROJECT_AUDIENCE_PREFIX)
        else None
    )
    return SessionClaims(
        jti=str(claims["jti"]),
        subject_id=str(claims["_id"]),
        sub=claims["sub"],
        project_id=project_id,
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        raw=claims,
    )
