"""Verification of the JWTs a customer's backend signs for its logged-in users.

The algorithm allow-list is fixed per key kind: a shared secret verifies only HS256/384/512.
The project is named by ``aud`` (any URL or string ending in ``/projects/<pid>``); the key by the
``kid`` header, or every live key of the project when the header has none. Each refusal raises
Unauthorized with a ``code`` the host site's developer can act on.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import jwt

from frontdesk.errors import Unauthorized
from frontdesk.ids import is_visitor_id

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
REQUIRED_SUBJECT = "userexternal"
_AUDIENCE_RE = re.compile(r"/projects/([0-9a-f]{24})/?$")
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    secret: str


@dataclass(frozen=True)
class VerifiedCustomerToken:
    project_id: str
    visitor_id: str
    claims: dict[str, Any]
    kid: str
    alg: str


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWT, unverified; Unauthorized(malformed_token) if not one.

    A header or claims object that repeats a member name is refused: parsers disagree on which
    value wins, so the customer's backend and this server could read different identities.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("the token is too long", code="malformed_token")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthorized("the token is not a well-formed JWT", code="malformed_token") from None
    if not isinstance(claims, dict):
        raise Unauthorized("the token's claims are not a JSON object", code="malformed_token")
    for segment in token.split(".")[:2]:
        _reject_duplicate_members(segment)
    return header, claims


class _DuplicateMember(ValueError):
    pass


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _DuplicateMember
    return members


def _reject_duplicate_members(segment: str) -> None:
    """Unauthorized(malformed_token) when a base64url JSON segment repeats a member name."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        json.loads(raw, object_pairs_hook=_unique_members)
    except _DuplicateMember:
        raise Unauthorized(
            "the token repeats a header or claim name", code="malformed_token"
        ) from None
    except (binascii.Error, ValueError):
        raise Unauthorized("the token is not a well-formed JWT", code="malformed_token") from None


def audience_project(claims: dict[str, Any]) -> str:
    """The project id that ``aud`` names; Unauthorized(wrong_audience) when it names none."""
    aud = claims.get("aud")
    candidates = aud if isinstance(aud, list) else [aud]
    for candidate in candidates:
        if isinstance(candidate, str):
            match = _AUDIENCE_RE.search(candidate)
            if match:
                return match.group(1)
    raise Unauthorized(
        "the token's aud must end with /projects/<project id>", code="wrong_audience"
    )


def verify_customer_token(
    token: str,
    *,
    project_id: str,
    keys: list[VerificationKey],
    now: float,
    leeway: int,
) -> VerifiedCustomerToken:
    """Verify ``token`` against the project's live keys. Raises Unauthorized with the reason."""
    header, _ = unverified_parts(token)
    alg = header.get("alg")
    if alg not in HMAC_ALGORITHMS:
        raise Unauthorized(
            f"algorithm {alg!r} is not accepted; sign with one of {', '.join(HMAC_ALGORITHMS)}",
            code="unsupported_algorithm",
        )
    kid = header.get("kid")
    if kid is not None:
        if not isinstance(kid, str):
            raise Unauthorized("the kid header must be a string", code="unknown_kid")
        candidates = [k for k in keys if k.kid == kid]
        if not candidates:
            raise Unauthorized(f"no live key of this project has kid {kid!r}", code="unknown_kid")
    else:
        candidates = keys
    if not candidates:
        raise Unauthorized(
            "this project has no secret yet: generate one first", code="no_project_key"
        )
    claims, used_kid = _decode_with_any(token, alg, candidates)
    _check_times(claims, now, leeway)
    if audience_project(claims) != project_id:
        raise Unauthorized("the token names another project", code="wrong_audience")
    if claims.get("sub") != REQUIRED_SUBJECT:
        raise Unauthorized(
            f"the token's sub must be {REQUIRED_SUBJECT!r}", code="wrong_subject"
        )
    visitor_id = claims.get("_id", claims.get("external_id"))
    if not isinstance(visitor_id, str) or not is_visitor_id(visitor_id):
        raise Unauthorized(
            "the token must carry _id (or external_id): the customer's id for this person",
            code="missing_claim",
        )
    return VerifiedCustomerToken(
        project_id=project_id, visitor_id=visitor_id, claims=claims, kid=used_kid, alg=alg
    )


def _decode_with_any(
    token: str, alg: str, keys: list[VerificationKey]
) -> tuple[dict[str, Any], str]:
    for key in keys:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.secret,
                algorithms=[alg],
                options={
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from None
        return claims, key.kid
    raise Unauthorized(
        "the signature does not match any live secret of this project", code="bad_signature"
    )


def _check_times(claims: dict[str, Any], now: float, leeway: int) -> None:
    for name in ("exp", "nbf", "iat"):
        if name in claims and not isinstance(claims[name], int | float):
            raise Unauthorized(f"the {name} claim must be a number", code="invalid_token")
    if "exp" in claims and claims["exp"] <= now - leeway:
        raise Unauthorized("the token has expired", code="token_expired")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise Unauthorized("the token is not valid yet (nbf)", code="token_not_yet_valid")
    if "iat" in claims and claims["iat"] > now + leeway:
        raise Unauthorized("the token was issued in the future (iat)", code="token_not_yet_valid")
