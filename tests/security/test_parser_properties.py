"""Property tests: the parsers that see attacker-controlled text never fail in any way but the
documented one (Unauthorized for tokens, None/False for ids)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.auth.customer_tokens import (
    VerificationKey,
    unverified_parts,
    verify_customer_token,
)
from frontdesk.auth.tokens import SessionTokens
from frontdesk.clock import FakeClock
from frontdesk.errors import Unauthorized
from frontdesk.ids import is_object_id, is_visitor_id, parse_request_id

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
def test_unverified_parts_refuses_with_unauthorized_only(token: str) -> None:
    parts = _only_unauthorized(unverified_parts, token)
    if parts is not None:
        header, claims = parts
        assert isinstance(header, dict) and isinstance(claims, dict)


@given(tokens(), st.integers(min_value=0, max_value=300))
@settings(max_examples=300, deadline=None)
def test_verify_customer_token_refuses_with_unauthorized_only(token: str, leeway: int) -> None:
    verified = _only_unauthorized(
        verify_customer_token, token, project_id=PROJECT, keys=KEYS, now=NOW, leeway=leeway
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
