"""Property tests: the parsers that see attacker-controlled text never fail in any way but the
documented one (Unauthorized for tokens, None/False for ids)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.auth.customer_tokens import (
    VerificationKey,
    parse_token,
    verify_customer_token,
)
from frontdesk.auth.tokens import SessionTokens
from frontdesk.clock import FakeClock
from frontdesk.errors import Unauthorized
from frontdesk.ids import RandomIds, is_object_id, is_visitor_id, parse_request_id, uuid4_hex

SECRET = "s" * 64  # long enough for HS512 without a key-length warning
PROJECT = "0123456789abcdef01234567"
KEYS = [VerificationKey("k1", "hmac", SECRET)]
NOW = 1_800_000_000.0

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
claim_values = st.dictionaries(
    st.sampled_from(["_id", "external_id", "sub", "aud", "exp", "nbf", "iat", "jti", "iss", "x"]),
    json_values
    | st.sampled_from(["userexternal", "guest", "user", f"/projects/{PROJECT}", "frontdesk"]),
)
header_values = st.fixed_dictionaries(
    {"alg": st.sampled_from(["HS256", "HS384", "HS512", "none", "RS256", "hs256"]) | json_values},
    optional={"kid": st.sampled_from(["k1", "k2", "../x"]) | json_values, "typ": json_values},
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@st.composite
def tokens(draw: st.DrawFn) -> str:
    """Compact JWT-shaped strings: random segments, or real signatures over random JSON."""
    kind = draw(st.sampled_from(["text", "segments", "signed"]))
    if kind == "text":
        return draw(st.text(max_size=300))
    if kind == "segments":
        parts = draw(st.lists(st.binary(max_size=80), min_size=1, max_size=4))
        return ".".join(_b64(p) for p in parts)
    return _signed(draw(header_values), draw(claim_values))


def _signed(header: Any, claims: Any) -> str:
    """HS256 over any JSON, without PyJWT's own checks on what it is asked to encode."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _only_unauthorized(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Unauthorized as exc:
        assert exc.status == 401 and exc.code
        return None


@given(tokens())
@settings(max_examples=300, deadline=None)
def test_parse_token_refuses_with_unauthorized_only(token: str) -> None:
    parsed = _only_unauthorized(parse_token, token)
    if parsed is not None:
        assert isinstance(parsed.header, dict) and isinstance(parsed.claims, dict)


header_extras = st.fixed_dictionaries(
    {"alg": st.sampled_from(["HS256", "HS384", "HS512"])},
    optional={
        "kid": st.sampled_from(["k1"]) | json_values,
        "crit": st.sampled_from([["b64"], [], ["exp"], "b64", [1]]),
        "b64": st.sampled_from([True, False, "false"]),
        "typ": st.just("JWT"),
    },
)


@st.composite
def near_tokens(draw: st.DrawFn) -> str:
    """Signed tokens, some bent the ways a lax decoder lets pass: padding, a changed
    character (non-canonical base64, a bad signature), characters outside base64url, segments
    added or dropped, a duplicate member."""
    header = draw(header_extras)
    claims = draw(claim_values)
    token = _signed(header, claims)
    if draw(st.booleans()):
        token = _signed_raw(draw(st.sampled_from([
            '{"alg":"HS256","alg":"HS256"}', '{"alg":"HS256"}', '{"alg":"HS256","kid":null}',
        ])), draw(st.sampled_from(['{"_id":"a","_id":"b"}', '{"_id":"a"}', '[1]', '{"a":'])))
    segments = token.split(".")
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        i = draw(st.integers(min_value=0, max_value=len(segments) - 1))
        bend = draw(st.sampled_from(["pad", "tail", "char", "insert", "split", "drop"]))
        if bend == "pad":
            segments[i] += "=" * draw(st.integers(min_value=1, max_value=4))
        elif bend == "tail" and segments[i]:  # often the same bytes with unused bits set
            segments[i] = segments[i][:-1] + draw(st.sampled_from("ABCDEFGHQRSgwxyz"))
        elif bend == "char" and segments[i]:
            j = draw(st.integers(min_value=0, max_value=len(segments[i]) - 1))
            c = draw(st.sampled_from("AQgwBCDE_-9+/!= é"))
            segments[i] = segments[i][:j] + c + segments[i][j + 1 :]
        elif bend == "insert":
            segments[i] += draw(st.sampled_from(["A", "AA", "AAA", "AAAA", " "]))
        elif bend == "split":
            segments.insert(i, "")
        elif bend == "drop" and len(segments) > 1:
            segments.pop(i)
    return ".".join(segments)


def _signed_raw(header: str, claims: str) -> str:
    signing_input = f"{_b64(header.encode())}.{_b64(claims.encode())}"
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _duplicate_free(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    assert len(dict(pairs)) == len(pairs), "duplicate member"
    return dict(pairs)


@given(near_tokens())
@settings(max_examples=1000, deadline=None)
def test_parse_token_is_as_strict_as_pyjwt(token: str) -> None:
    """parse_token accepts what PyJWT's decoding accepts, with the same header and claims, and
    refuses in addition only what repeats a member name; with the right key, the signature
    verifies exactly when PyJWT's does."""
    try:
        expected: Any = (jwt.get_unverified_header(token),
                         jwt.decode(token, options={"verify_signature": False}))
    except jwt.PyJWTError:
        expected = None
    parsed = _only_unauthorized(parse_token, token)
    if parsed is None:
        if expected is not None:  # only a repeated member name may be refused beyond PyJWT
            with pytest.raises(AssertionError, match="duplicate member"):
                for segment in token.split(".")[:2]:
                    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
                    json.loads(raw, object_pairs_hook=_duplicate_free)
        return
    assert expected is not None
    assert json.dumps([parsed.header, parsed.claims]) == json.dumps(list(expected))
    alg = parsed.header.get("alg")
    if alg not in ("HS256", "HS384", "HS512"):  # a bent header may name another
        return
    try:
        jwt.decode(token, SECRET, algorithms=[alg], options={
            "verify_aud": False, "verify_exp": False, "verify_iat": False,
            "verify_nbf": False, "verify_iss": False, "verify_sub": False,
            "verify_jti": False,
        })
        pyjwt_verified = True
    except jwt.InvalidSignatureError:
        pyjwt_verified = False
    key = VerificationKey("k1", "hmac", SECRET)
    assert _signature_matches(parsed, key) == pyjwt_verified


def _signature_matches(parsed: Any, key: VerificationKey) -> bool:
    header = {k: v for k, v in parsed.header.items() if k != "kid"}
    stripped = type(parsed)(header, {"sub": "userexternal", "_id": "x",
                                     "aud": f"/projects/{PROJECT}"},
                            parsed.signing_input, parsed.signature)
    try:
        verify_customer_token(stripped, project_id=PROJECT, keys=[key], now=NOW, leeway=0)
    except Unauthorized as exc:
        assert exc.code == "bad_signature", exc.code
        return False
    return True


def _pyjwt_session_code(token: str) -> str | None:
    """The code SessionTokens.verify gave when it called PyJWT's decode (the reference)."""
    try:
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"], issuer="frontdesk",
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False, "require": ["exp", "iat", "jti", "sub", "_id"]},
        )
    except jwt.InvalidSignatureError:
        return "bad_signature"
    except jwt.InvalidAlgorithmError:
        return "unsupported_algorithm"
    except jwt.PyJWTError:
        return "invalid_token"
    # The one refusal beyond the reference, which crashed on it (reading iat as a number).
    if not isinstance(claims["iat"], int) or isinstance(claims["iat"], bool):
        return "invalid_token"
    if not isinstance(claims["exp"], int) or claims["exp"] <= int(NOW):
        return "token_expired"
    if claims["sub"] not in ("user", "guest", "userexternal"):
        return "invalid_token"
    return None


session_claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.sampled_from(["frontdesk", "other"]) | json_values,
        "sub": st.sampled_from(["guest", "userexternal", "user", "x"]) | json_values,
        "_id": st.just("v1") | json_values,
        "jti": st.just("j1") | json_values,
        "exp": st.sampled_from([int(NOW) + 60, int(NOW) - 1]) | json_values,
        "iat": st.just(int(NOW)) | json_values,
        "aud": st.just(f"frontdesk:projects/{PROJECT}"),
    },
)


@given(near_tokens(), session_claims, st.booleans())
@settings(max_examples=1000, deadline=None)
def test_session_token_refusals_are_pyjwts(bent: str, claims: Any, whole: bool) -> None:
    """SessionTokens.verify refuses what PyJWT's decode refused, with the same code, and
    accepts the rest: bent tokens, and tokens of our own shape with claims left out or
    of the wrong type."""
    header = {"alg": "HS256", "typ": "JWT"}
    token = _signed(header, claims) if whole else bent
    try:
        SessionTokens(SECRET, FakeClock(NOW)).verify(token)
        code = None
    except Unauthorized as exc:
        code = exc.code
    assert code == _pyjwt_session_code(token)


@given(tokens(), st.integers(min_value=0, max_value=300))
@settings(max_examples=300, deadline=None)
def test_verify_customer_token_refuses_with_unauthorized_only(token: str, leeway: int) -> None:
    verified = _only_unauthorized(
        lambda: verify_customer_token(
            parse_token(token), project_id=PROJECT, keys=KEYS, now=NOW, leeway=leeway
        )
    )
    if verified is not None:
        # Whatever got through is fully formed: right project, a usable visitor id.
        assert verified.project_id == PROJECT
        assert is_visitor_id(verified.visitor_id)
        assert verified.claims["sub"] == "userexternal"


@given(tokens())
@settings(max_examples=300, deadline=None)
def test_session_token_verification_refuses_with_unauthorized_only(token: str) -> None:
    verified = _only_unauthorized(SessionTokens(SECRET, FakeClock(NOW)).verify, token)
    if verified is not None:
        assert verified.sub in ("user", "guest", "userexternal")
        assert verified.expires_at > NOW


@given(claim_values)
@settings(max_examples=300, deadline=None)
def test_session_tokens_with_any_claims_under_our_secret_are_handled(claims: Any) -> None:
    # Even a token signed with the server's secret never crashes verification.
    token = _signed({"alg": "HS256", "typ": "JWT"}, {"iss": "frontdesk", **claims})
    _only_unauthorized(SessionTokens(SECRET, FakeClock(NOW)).verify, token)


@given(st.text(max_size=120))
def test_id_parsers_answer_for_any_text(text: str) -> None:
    assert isinstance(is_object_id(text), bool)
    assert isinstance(is_visitor_id(text), bool)
    project = parse_request_id(text)
    assert project is None or (is_object_id(project) and text.startswith("support-group-"))


@given(st.from_regex(r"[0-9a-f]{24}", fullmatch=True), st.uuids())
def test_well_formed_request_ids_name_their_project(project_id: str, suffix: uuid.UUID) -> None:
    assert parse_request_id(f"support-group-{project_id}-{suffix.hex}") == project_id


@pytest.mark.parametrize(
    "text",
    [
        f"support-group-{PROJECT}-{'0' * 32}\n",
        f"support-group-{PROJECT.upper()}-{'0' * 32}",
        f"support-group-{PROJECT}-{'0' * 31}",
        f"xsupport-group-{PROJECT}-{'0' * 32}",
    ],
)
def test_near_miss_request_ids_are_refused(text: str) -> None:
    assert parse_request_id(text) is None


def test_generated_uuids_are_version_4_as_uuid4_writes_them() -> None:
    ids = RandomIds()
    for _ in range(2_000):
        hexed = uuid4_hex()
        parsed = uuid.UUID(hex=hexed)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, hexed)
        visitor = ids.visitor_uuid()
        assert str(uuid.UUID(visitor)) == visitor and uuid.UUID(visitor).version == 4
    # Random where uuid4 is: 122 bits, so no two of many repeat.
    assert len({uuid4_hex() for _ in range(10_000)}) == 10_000
