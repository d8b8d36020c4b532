"""Session tokens: the prepared-key signer writes exactly what PyJWT's own encode writes."""

from __future__ import annotations

import jwt
import pytest

from frontdesk.auth.tokens import SessionTokens
from frontdesk.clock import FakeClock
from frontdesk.errors import Unauthorized

SECRET = "s" * 64
NOW = 1_800_000_000.0


def test_issued_token_is_byte_for_byte_pyjwt_encode() -> None:
    tokens = SessionTokens(SECRET, FakeClock(NOW))
    token, claims = tokens.issue(
        sub="guest", subject_id="v1", project_id="p1", ttl=60, profile={"firstname": "Zoë"}
    )
    assert token == jwt.encode(claims.raw, SECRET, algorithm="HS256")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert tokens.verify(token).subject_id == "v1"
    again, again_claims = tokens.reissue(claims, ttl=120)
    assert again == jwt.encode(again_claims.raw, SECRET, algorithm="HS256")
    assert tokens.verify(again).jti == claims.jti


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
