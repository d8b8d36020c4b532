"""Keys and tokens as a customer's backend makes them, for the identity tests."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@functools.cache
def rsa_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def jwk_of(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    algorithm: Any = jwt.algorithms.RSAAlgorithm if isinstance(
        private, rsa.RSAPrivateKey
    ) else jwt.algorithms.ECAlgorithm
    jwk: dict[str, Any] = algorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


def claims_for(project_id: str, now: float, *, ttl: int = 600, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sub": "userexternal",
        "aud": f"https://tiledesk.com/projects/{project_id}",
        "iat": int(now),
        "exp": int(now) + ttl,
        "_id": "customer-42",
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def sign(claims: dict[str, Any], key: Any, algorithm: str, kid: str | None = None) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_hs256(claims: dict[str, Any], secret: bytes, kid: str | None) -> str:
    """An HS256 token made by hand, as an attacker would, with any bytes as the secret."""
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"
