"""The customer-token verifier on its own: every refusal has its code, and the key kinds
never mix."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from typing import Any

import pytest

from frontdesk.auth import jws
from frontdesk.auth.customer_tokens import (
    TokenPolicy,
    VerificationKey,
    parse_token,
    verify_customer_token,
)
from frontdesk.errors import Unauthorized
from tests.identity_helpers import (
    claims_for,
    ec_private_key,
    forge_hs256,
    public_pem,
    rsa_private_key,
    sign,
)

PID = "0123456789abcdef01234567"
NOW = 1_800_000_000.0
SECRET = "s3cret-" + "x" * 60


def shared(kid: str = "k1", secret: str = SECRET) -> VerificationKey:
    return VerificationKey(kid=kid, kind="hmac", material=secret)


def rsa_key(kid: str = "r1") -> VerificationKey:
    return VerificationKey(kid=kid, kind="rsa", material=rsa_private_key().public_key())


def ec_key(kid: str = "e1") -> VerificationKey:
    return VerificationKey(kid=kid, kind="ec", material=ec_private_key().public_key())


def verify(token: str, keys: list[VerificationKey], **policy: Any) -> Any:
    return verify_customer_token(parse_token(token), project_id=PID, keys=keys, now=NOW,
                                 leeway=60, policy=TokenPolicy(**policy))


def refusal(token: str, keys: list[VerificationKey], **policy: Any) -> str:
    with pytest.raises(Unauthorized) as caught:
        verify(token, keys, **policy)
    return caught.value.code


def test_each_kind_verifies_its_own_algorithm() -> None:
    claims = claims_for(PID, NOW)
    keys = [shared(), rsa_key(), ec_key()]
    assert verify(sign(claims, SECRET, "HS384", "k1"), keys).alg == "HS384"
    assert verify(sign(claims, rsa_private_key(), "RS256", "r1"), keys).kid == "r1"
    assert verify(sign(claims, ec_private_key(), "ES256"), keys).kid == "e1"


@pytest.mark.parametrize(("kid", "code"), [("r1", "algorithm_mismatch"),
                                           (None, "unsupported_algorithm")])
def test_hmac_token_forged_with_the_public_key_as_secret_is_refused(
    kid: str | None, code: str
) -> None:
    pem = public_pem(rsa_private_key()).encode()
    forged = forge_hs256(claims_for(PID, NOW), pem, kid)
    assert refusal(forged, [rsa_key()]) == code


def test_rsa_token_against_a_shared_secret_kid_is_refused() -> None:
    token = sign(claims_for(PID, NOW), rsa_private_key(), "RS256", "k1")
    assert refusal(token, [shared()]) == "algorithm_mismatch"


def test_unsigned_and_unknown_algorithms_are_refused() -> None:
    unsigned = sign(claims_for(PID, NOW), None, "none")
    assert refusal(unsigned, [shared()]) == "unsupported_algorithm"
    ps256 = sign(claims_for(PID, NOW), rsa_private_key(), "PS256", "r1")
    assert refusal(ps256, [rsa_key()]) == "unsupported_algorithm"


def test_kid_picks_the_key_and_an_unknown_kid_is_named() -> None:
    token = sign(claims_for(PID, NOW), "another-secret-" + "y" * 40, "HS256", "k2")
    keys = [shared("k1"), shared("k2", "another-secret-" + "y" * 40)]
    assert verify(token, keys).kid == "k2"
    assert refusal(sign(claims_for(PID, NOW), SECRET, "HS256", "k9"), keys) == "unknown_kid"


def test_bad_signature_and_no_key() -> None:
    token = sign(claims_for(PID, NOW), "wrong-" + "z" * 40, "HS256")
    assert refusal(token, [shared()]) == "bad_signature"
    assert refusal(token, []) == "no_project_key"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"exp": int(NOW) - 61}, "token_expired"),
        ({"nbf": int(NOW) + 61}, "token_not_yet_valid"),
        ({"iat": int(NOW) + 61}, "token_not_yet_valid"),
        ({"aud": "https://tiledesk.com/projects/ffffffffffffffffffffffff"}, "wrong_audience"),
        ({"sub": "guest"}, "wrong_subject"),
        ({"_id": None}, "missing_claim"),
        ({"exp": "tomorrow"}, "invalid_token"),
    ],
)
def test_claim_refusals_have_their_code(extra: dict[str, Any], code: str) -> None:
    token = sign(claims_for(PID, NOW, **extra), SECRET, "HS256")
    assert refusal(token, [shared()]) == code


def test_leeway_tolerates_small_clock_skew() -> None:
    token = sign(claims_for(PID, NOW, exp=int(NOW) - 30, nbf=int(NOW) + 30), SECRET, "HS256")
    assert verify(token, [shared()]).visitor_id == "customer-42"


def test_policy_exp_age_and_jti() -> None:
    no_exp = sign(claims_for(PID, NOW, exp=None), SECRET, "HS256")
    assert verify(no_exp, [shared()]).visitor_id == "customer-42"
    assert refusal(no_exp, [shared()], require_exp=True) == "missing_exp"
    old = sign(claims_for(PID, NOW, iat=int(NOW) - 400), SECRET, "HS256")
    assert refusal(old, [shared()], max_age=300) == "token_too_old"
    assert verify(old, [shared()], max_age=600).claims["iat"] == int(NOW) - 400
    no_iat = sign(claims_for(PID, NOW, iat=None), SECRET, "HS256")
    assert refusal(no_iat, [shared()], max_age=300) == "missing_iat"
    assert refusal(sign(claims_for(PID, NOW), SECRET, "HS256"), [shared()],
                   require_jti=True) == "missing_jti"


def _hs256(payload: bytes, secret: str = SECRET) -> str:
    """A token over literal claim bytes (a surrogate can be written as UTF-8 only so)."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64(payload)}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def _claims_bytes(extra: bytes) -> bytes:
    return json.dumps(claims_for(PID, NOW)).encode()[:-1] + b", " + extra + b"}"


@pytest.mark.parametrize(("extra", "storable"), [
    (b'"n": 18446744073709551615', True),  # 2**64 - 1, 20 digits
    (b'"n": -9223372036854775808', True),  # -(2**63)
    (b'"n": 1000000000000000000', True),  # 19 digits
    (b'"name": "\\u00e9\\u4e2d"', True),
    (b'"n": 18446744073709551616', False),  # 2**64
    (b'"n": -9223372036854775809', False),
    (b'"deep": [{"n": 99999999999999999999}]', False),
    (b'"name": "\\ud800"', False),
    (b'"\\udfff": 1', False),
    (b'"name": "\xed\xa0\x80"', False),  # a surrogate written as UTF-8 bytes
])
def test_claims_that_cannot_be_kept_are_refused_however_they_are_written(
    extra: bytes, storable: bool
) -> None:
    token = _hs256(_claims_bytes(extra))
    parsed = parse_token(token)
    # The shortcut skips the claims' walk only for a text that shows nothing to find.
    if not storable:
        assert not parsed.plain_claims
    if storable:
        assert verify(token, [shared()]).visitor_id == "customer-42"
    else:
        assert refusal(token, [shared()]) == "invalid_token"
    plain = parse_token(_hs256(_claims_bytes(b'"plan": "gold", "seats": 12')))
    assert plain.plain_claims


def test_a_segment_decodes_exactly_when_it_is_the_canonical_base64url_of_its_bytes() -> None:
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    samples = [bytes(range(n, n + size)) for size in range(7) for n in (0, 97, 250 - size)]
    checked = 0
    for raw in samples:
        segment = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        assert jws.decode_base64url(segment) == raw
        if not segment:
            continue
        for last in alphabet:  # every spelling of the last character
            candidate = segment[:-1] + last
            decoded = base64.urlsafe_b64decode(candidate + "=" * (-len(candidate) % 4))
            canonical = base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() == candidate
            if canonical:
                assert jws.decode_base64url(candidate) == decoded, candidate
            else:
                with pytest.raises(jws.MalformedJWS):
                    jws.decode_base64url(candidate)
            checked += 1
    assert checked > 1000
