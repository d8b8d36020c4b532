"""Verification of the JWTs a customer's backend signs for its logged-in users.

Each key kind carries its own algorithm allow-list, and a key is only ever used with an
algorithm of its own kind: a shared secret verifies HS256/384/512, an RSA public key RS256, an
EC P-256 public key ES256. So an HMAC token "signed" with a public key as the secret is refused
before any signature is computed (``algorithm_mismatch`` when its kid names the public key,
``unsupported_algorithm`` when the project has no shared secret at all): algorithm confusion is
impossible by construction, not by a library's check.

The project is named by ``aud`` (any URL or string ending in ``/projects/<pid>``); the key by
the ``kid`` header, or every live key of the right kind when the header has none. Each refusal
raises Unauthorized with a ``code`` the host site's developer can act on.

A token is split and decoded once (``parse_token``), as strictly as PyJWT decodes it; its
signature is then checked by PyJWT's algorithm of the token's ``alg`` with a key prepared once
per key (``VerificationKey.prepared``). PyJWT's ``decode`` would parse the token again and
prepare the key again on every call: most of a sign-in's cost.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from jwt.algorithms import Algorithm, HMACAlgorithm, get_default_algorithms

from frontdesk.auth import jws
from frontdesk.errors import Unauthorized
from frontdesk.ids import is_visitor_id

KeyKind = Literal["hmac", "rsa", "ec"]
ALGORITHMS_BY_KIND: dict[str, tuple[str, ...]] = {
    "hmac": ("HS256", "HS384", "HS512"),
    "rsa": ("RS256",),
    "ec": ("ES256",),
}
ACCEPTED_ALGORITHMS = tuple(alg for algs in ALGORITHMS_BY_KIND.values() for alg in algs)
REQUIRED_SUBJECT = "userexternal"
_AUDIENCE_RE = re.compile(r"/projects/([0-9a-f]{24})/?$")
MAX_TOKEN_LENGTH = 8192
MAX_KID_LENGTH = 200
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**64 - 1
# A kid is a printable name: control characters (NUL above all) never name a stored key.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
# Digits as zeros: 19 zeros in a row in a translated text are 19 digits in a row.
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19
# Only the accepted algorithms exist here: no other name can even be looked up.
_ALGORITHMS: dict[str, Algorithm] = {
    name: algorithm
    for name, algorithm in get_default_algorithms().items()
    if name in ACCEPTED_ALGORITHMS
}
# The accepted HMAC algorithms, by hashlib's name of the hash PyJWT's object uses.
_HMAC_DIGESTS = {
    name: algorithm.hash_alg().name
    for name, algorithm in _ALGORITHMS.items()
    if isinstance(algorithm, HMACAlgorithm)
}


@dataclass(frozen=True)
class VerificationKey:
    """A live key of one project. ``material`` is the shared secret (``hmac``) or a
    cryptography public key object (``rsa``, ``ec``)."""

    kid: str
    kind: KeyKind
    material: Any

    @property
    def algorithms(self) -> tuple[str, ...]:
        return ALGORITHMS_BY_KIND[self.kind]

    @functools.cached_property
    def prepared(self) -> Any:
        """``material`` as PyJWT's algorithms of this kind verify with, checked and converted
        once per key (PyJWT would do it on every token: for a shared secret, whether it looks
        like a PEM, SSH, DER or JWK key). Raises jwt.InvalidKeyError for material no
        algorithm of the kind accepts."""
        return _ALGORITHMS[self.algorithms[0]].prepare_key(self.material)


@dataclass(frozen=True)
class TokenPolicy:
    """A project's demands on customer tokens beyond a valid signature."""

    require_exp: bool = False
    max_age: int | None = None  # seconds since iat; None accepts any age
    require_jti: bool = False


@dataclass(frozen=True)
class VerifiedCustomerToken:
    project_id: str
    visitor_id: str
    claims: dict[str, Any]
    kid: str
    alg: str


@dataclass(frozen=True)
class ParsedToken:
    """A compact JWS split and decoded; nothing about it is verified yet."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    # The claims' text holds nothing that could make a claim unstorable (_check_storable).
    plain_claims: bool = False


def parse_token(token: str) -> ParsedToken:
    """Header, claims and signature of a compact JWT, unverified; Unauthorized(malformed_token)
    if it is not one (``auth.jws``: as strict as PyJWT's decoding). A header or claims object
    that repeats a member name is refused too: parsers disagree on which value wins, so the
    customer's backend and this server could read different identities.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("the token is too long", code="malformed_token")
    try:
        segments = jws.split(token, jws.UNIQUE_MEMBERS)
        text = jws.json_text(segments.payload)
        claims = jws.text_object(text, jws.UNIQUE_MEMBERS)
    except jws.MalformedJWS as exc:
        raise Unauthorized(str(exc), code="malformed_token") from None
    return ParsedToken(segments.header, claims, segments.signing_input, segments.signature,
                       plain_claims=_plain(text))


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


def token_kid(header: dict[str, Any]) -> str | None:
    """The ``kid`` of a token's ``header`` (from ``parse_token``), None without one;
    Unauthorized(unknown_kid) when it is not a string, is longer than MAX_KID_LENGTH or holds
    a control character (no key is named so, and such a value is never looked up)."""
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise Unauthorized("the kid header must be a string", code="unknown_kid")
    if kid is not None and (len(kid) > MAX_KID_LENGTH or _CONTROL_RE.search(kid)):
        raise Unauthorized("no live key of this project has this kid", code="unknown_kid")
    return kid


def verify_customer_token(
    token: ParsedToken,
    *,
    project_id: str,
    keys: list[VerificationKey],
    now: float,
    leeway: int,
    policy: TokenPolicy | None = None,
) -> VerifiedCustomerToken:
    """Verify ``token`` against the project's live keys. Raises Unauthorized with the reason."""
    policy = policy or TokenPolicy()
    alg = token.header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise Unauthorized(
            f"algorithm {alg!r} is not accepted; sign with one of {', '.join(ACCEPTED_ALGORITHMS)}",
            code="unsupported_algorithm",
        )
    used_kid = _verify_with_any(token, alg, _candidates(token_kid(token.header), alg, keys))
    claims = token.claims
    _check_claim_types(claims)
    _check_times(claims, now, leeway, policy)
    if not token.plain_claims:
        _check_storable(claims)
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
    jti = claims.get("jti")
    if policy.require_jti and not (
        isinstance(jti, str) and 0 < len(jti) <= MAX_KID_LENGTH and not _CONTROL_RE.search(jti)
    ):
        raise Unauthorized(
            "this project accepts single-use tokens only: add a unique jti claim"
            f" (1 to {MAX_KID_LENGTH} printable characters)",
            code="missing_jti",
        )
    return VerifiedCustomerToken(
        project_id=project_id, visitor_id=visitor_id, claims=claims, kid=used_kid, alg=alg
    )


def _candidates(kid: str | None, alg: str, keys: list[VerificationKey]) -> list[VerificationKey]:
    """The keys that may verify a token with this ``kid`` and ``alg``: only keys of the kind
    whose allow-list holds ``alg``."""
    if kid is not None:
        named = [k for k in keys if k.kid == kid]
        if not named:
            raise Unauthorized(f"no live key of this project has kid {kid!r}", code="unknown_kid")
        usable = [k for k in named if alg in k.algorithms]
        if not usable:
            raise Unauthorized(
                f"key {kid!r} is a {named[0].kind} key and verifies only "
                f"{', '.join(named[0].algorithms)}, not {alg}",
                code="algorithm_mismatch",
            )
        return usable
    if not keys:
        raise Unauthorized(
            "this project has no key yet: generate or register one first", code="no_project_key"
        )
    usable = [k for k in keys if alg in k.algorithms]
    if not usable:
        kinds = sorted({k.kind for k in keys})
        raise Unauthorized(
            f"this project has no live key that verifies {alg} (its keys are of kind "
            f"{', '.join(kinds)}): sign with the algorithm of a registered key",
            code="unsupported_algorithm",
        )
    return usable


def _verify_with_any(token: ParsedToken, alg: str, keys: list[VerificationKey]) -> str:
    """The kid of the first of ``keys`` whose signature ``token`` carries."""
    algorithm = _ALGORITHMS[alg]
    digest = _HMAC_DIGESTS.get(alg)
    for key in keys:
        assert alg in key.algorithms  # guaranteed by _candidates; never loosen this
        try:
            prepared = key.prepared
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from None
        if digest is not None:
            matches = jws.hmac_matches(token.signature, prepared, token.signing_input, digest)
        else:
            matches = algorithm.verify(token.signing_input, prepared, token.signature)
        if matches:
            return key.kid
    raise Unauthorized(
        "the signature does not match any live key of this project", code="bad_signature"
    )


def _check_claim_types(claims: dict[str, Any]) -> None:
    """The registered claims PyJWT checks the type of once a signature matched."""
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise Unauthorized("invalid token: Subject must be a string", code="invalid_token")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise Unauthorized("invalid token: JWT ID must be a string", code="invalid_token")


def _plain(text: str) -> bool:
    """Whether a claims text shows nothing that could make a claim unstorable: no character
    beyond ASCII (a surrogate is one), no \\u escape (which may write one) and no 19 digits in
    a row (an integer of 18 digits or fewer always fits in 64 bits). Several times cheaper
    than ``_check_storable``'s walk of every name and value, which the usual token skips."""
    return text.isascii() and "\\u" not in text and _NINETEEN_DIGITS not in text.encode(
        "ascii").translate(_DIGITS_AS_ZEROS)


def _check_storable(claims: dict[str, Any]) -> None:
    """Unauthorized(invalid_token) when the claims hold what cannot be kept with the session:
    an integer beyond 64 bits, or a lone surrogate (no UTF-8 form) in a name or a text."""
    pending: list[Any] = [claims]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and _SURROGATE_RE.search(value):
            raise Unauthorized("the token holds text that is not valid Unicode",
                               code="invalid_token")
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not MIN_INTEGER <= value <= MAX_INTEGER
        ):
            raise Unauthorized(
                "the token holds an integer outside the 64-bit range", code="invalid_token"
            )


def _check_times(claims: dict[str, Any], now: float, leeway: int, policy: TokenPolicy) -> None:
    for name in ("exp", "nbf", "iat"):
        if name in claims and (
            not isinstance(claims[name], int | float)
            or isinstance(claims[name], bool)
            or (isinstance(claims[name], float) and not math.isfinite(claims[name]))
        ):
            raise Unauthorized(f"the {name} claim must be a number", code="invalid_token")
    if "exp" not in claims and policy.require_exp:
        raise Unauthorized("this project requires an exp claim", code="missing_exp")
    if "exp" in claims and claims["exp"] <= now - leeway:
        raise Unauthorized("the token has expired", code="token_expired")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise Unauthorized("the token is not valid yet (nbf)", code="token_not_yet_valid")
    if "iat" in claims and claims["iat"] > now + leeway:
        raise Unauthorized("the token was issued in the future (iat)", code="token_not_yet_valid")
    if policy.max_age is not None:
        if "iat" not in claims:
            raise Unauthorized(
                "this project limits token age: add an iat claim", code="missing_iat"
            )
        if claims["iat"] < now - policy.max_age - leeway:
            raise Unauthorized(
                f"the token was issued more than {policy.max_age} s ago (iat)",
                code="token_too_old",
            )
