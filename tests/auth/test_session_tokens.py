"""Session tokens: the prepared-key signer writes what PyJWT's own encode writes, with the
claims' text beyond ASCII as UTF-8 rather than escaped."""

from __future__ import annotations

import base64
import re
from typing import Any

import jwt
import pytest

from frontdesk.auth.tokens import SessionTokens
from frontdesk.clock import FakeClock
from frontdesk.errors import Unauthorized

SECRET = "s" * 64
NOW = 1_800_000_000.0


def _as_pyjwt_decodes(token: str, raw: dict[str, Any]) -> None:
    """PyJWT reads ``token`` as signed with SECRET and holding ``raw``, with PyJWT's header."""
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert token.split(".")[0] == jwt.encode(raw, SECRET, algorithm="HS256").split(".")[0]
    assert jwt.decode(token, SECRET, algorithms=["HS256"], audience=raw["aud"],
                      options={"verify_exp": False, "verify_iat": False}) == raw


def test_issued_token_is_what_pyjwt_encodes() -> None:
    tokens = SessionTokens(SECRET, FakeClock(NOW))
    token, claims = tokens.issue(
        sub="guest", subject_id="v1", project_id="p1", ttl=60, profile={"firstname": "Zo"}
    )
    # ASCII claims: byte for byte what PyJWT writes.
    assert token == jwt.encode(claims.raw, SECRET, algorithm="HS256")
    assert tokens.verify(token).subject_id == "v1"
    again, again_claims = tokens.reissue(claims, ttl=120)
    assert again == jwt.encode(again_claims.raw, SECRET, algorithm="HS256")
    assert tokens.verify(again).jti == claims.jti
    # Beyond ASCII: UTF-8 instead of PyJWT's escapes, read alike.
    wide, wide_claims = tokens.issue(
        sub="guest", subject_id="v2", project_id="p1", ttl=60,
        profile={"firstname": "Zoë", "lastname": "中村 😀"},
    )
    assert "Zoë".encode() in base64.urlsafe_b64decode(wide.split(".")[1] + "==")
    _as_pyjwt_decodes(wide, wide_claims.raw)
    assert tokens.verify(wide).raw == wide_claims.raw


def test_token_signed_with_another_secret_is_refused() -> None:
    mine = SessionTokens(SECRET, FakeClock(NOW))
    other, _ = SessionTokens("t" * 64, FakeClock(NOW)).issue(
        sub="guest", subject_id="v1", project_id="p1", ttl=60
    )
    with pytest.raises(Unauthorized, match="signature"):
        mine.verify(other)


def test_a_secret_that_is_an_asymmetric_key_is_still_refused() -> None:
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
        "-----END PUBLIC KEY-----"
    )
    with pytest.raises(jwt.InvalidKeyError):
        SessionTokens(pem, FakeClock(NOW))


def test_session_ids_sort_by_issue_time_and_stay_unique() -> None:
    """A session's jti is 32 hex digits led by its millisecond, so the sessions' key index
    grows at its end; the 80 random bits after it keep those of one millisecond apart."""
    clock = FakeClock(NOW)
    tokens = SessionTokens(SECRET, clock)
    issued, milliseconds = [], []
    for _ in range(50):
        for _ in range(20):  # several in the same millisecond
            _, claims = tokens.issue(sub="guest", subject_id="v1", project_id="p1", ttl=60)
            issued.append(claims.jti)
            milliseconds.append(int(clock.now() * 1000))
        clock.advance(0.001)
    assert all(re.fullmatch("[0-9a-f]{32}", jti) for jti in issued), issued[:3]
    assert len(set(issued)) == len(issued)
    by_millisecond = [jti[:12] for jti in issued]
    assert by_millisecond == sorted(by_millisecond)
    assert int(issued[0][:12], 16) == int(NOW * 1000)
    # Each led by the clock's millisecond when it was issued, not one read once.
    assert [int(prefix, 16) for prefix in by_millisecond] == milliseconds
