"""The server's own session tokens: HS256 JWTs with ``exp`` and ``jti``, one session row each.

The token carries who (``_id``, ``sub``) and for which project (``aud``); the session row, keyed
by ``jti``, says whether it was revoked. Agent tokens have ``sub: user``; visitor tokens
``sub: guest`` (anonymous) or ``sub: userexternal`` (authenticated by a customer token).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from jwt.algorithms import HMACAlgorithm

from frontdesk.clock import Clock
from frontdesk.errors import Unauthorized

ISSUER = "frontdesk"
SESSION_ALGORITHM = "HS256"
_AGENT_AUDIENCE = "frontdesk:agents"
_PROJECT_AUDIENCE_PREFIX = "frontdesk:projects/"
# Ours stay far below this; anything longer is refused before any parsing.
MAX_TOKEN_LENGTH = 8192

Subject = Literal["user", "guest", "userexternal"]


@dataclass(frozen=True)
class SessionClaims:
    jti: str
    subject_id: str
    sub: Subject
    project_id: str | None
    issued_at: int
    expires_at: int
    raw: dict[str, Any]


class _PreparedHMAC(HMACAlgorithm):
    """HS256 with the server's secret checked and converted once, not on every signature.

    PyJWT prepares an HMAC key on every call (it refuses keys that look asymmetric, which
    takes parsing attempts); the server's secret is checked here once, at start-up.
    """

    def __init__(self, secret: str) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._secret = secret
        self._prepared = super().prepare_key(secret)

    def prepare_key(self, key: str | bytes) -> bytes:
        if key is self._secret:
            return self._prepared
        return super().prepare_key(key)


class SessionTokens:
    def __init__(self, secret: str, clock: Clock) -> None:
        self._secret = secret
        self._clock = clock
        # A signer that knows HS256 only, its key prepared once.
        self._signer = jwt.PyJWS(algorithms=[])
        self._signer.register_algorithm(SESSION_ALGORITHM, _PreparedHMAC(secret))

    def _sign(self, claims: dict[str, Any]) -> str:
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return self._signer.encode(payload, self._secret, algorithm=SESSION_ALGORITHM)

    def issue(
        self,
        *,
        sub: Subject,
        subject_id: str,
        project_id: str | None,
        ttl: int,
        profile: dict[str, Any] | None = None,
    ) -> tuple[str, SessionClaims]:
        now = int(self._clock.now())
        claims: dict[str, Any] = {
            **(profile or {}),
            "_id": subject_id,
            "sub": sub,
            "iss": ISSUER,
            "aud": _AGENT_AUDIENCE if project_id is None else _PROJECT_AUDIENCE_PREFIX + project_id,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return self._sign(claims), _to_session(claims)

    def reissue(self, claims: SessionClaims, *, ttl: int) -> tuple[str, SessionClaims]:
        """The same session (same ``jti`` and identity) with a new ``iat`` and ``exp``."""
        now = int(self._clock.now())
        fresh = {**claims.raw, "iat": now, "exp": now + ttl}
        return self._sign(fresh), _to_session(fresh)

    def verify(self, token: str) -> SessionClaims:
        """The claims of a token this server issued; Unauthorized with a precise code otherwise.

        The signature is checked by the HS256-only signer with its key prepared once (PyJWT's
        ``jwt.decode`` would prepare the key again on every call); the claims are then checked
        as ``jwt.decode`` with ``issuer`` and ``require`` would. Does not consult revocation:
        callers check the session row.
        """
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("the token is too long", code="malformed_token")
        try:
            payload = self._signer.decode_complete(
                token, self._secret, algorithms=[SESSION_ALGORITHM]
            )["payload"]
        except jwt.InvalidSignatureError:
            raise Unauthorized("the token's signature is not valid", code="bad_signature") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthorized(
                "the token's algorithm is not accepted", code="unsupported_algorithm"
            ) from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from None
        claims = _checked_claims(payload)
        # Times are checked against the injected clock, not PyJWT's wall clock.
        if not isinstance(claims["exp"], int) or claims["exp"] <= int(self._clock.now()):
            raise Unauthorized("the session token has expired", code="token_expired")
        if claims["sub"] not in ("user", "guest", "userexternal"):
            raise Unauthorized("unknown token subject", code="invalid_token")
        return _to_session(claims)


_REQUIRED_CLAIMS = ("exp", "iat", "jti", "sub", "_id")


def _checked_claims(payload: bytes) -> dict[str, Any]:
    """A verified token's claims: a JSON object with the claims a session token needs and
    this server as its issuer; Unauthorized(invalid_token) otherwise."""
    try:
        claims = json.loads(payload)
    except ValueError:
        raise Unauthorized("invalid token: its payload is not JSON", code="invalid_token") from None
    if not isinstance(claims, dict):
        raise Unauthorized("invalid token: its payload is not an object", code="invalid_token")
    for name in _REQUIRED_CLAIMS:
        if name not in claims:
            raise Unauthorized(f'invalid token: it has no "{name}" claim', code="invalid_token")
    if claims.get("iss") != ISSUER:
        raise Unauthorized("invalid token: not issued by this server", code="invalid_token")
    if not isinstance(claims["jti"], str) or not isinstance(claims["sub"], str):
        raise Unauthorized("invalid token: malformed jti or sub", code="invalid_token")
    return claims


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
