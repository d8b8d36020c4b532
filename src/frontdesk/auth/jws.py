"""Compact JWS tokens split and decoded as strictly as PyJWT decodes them.

PyJWT (2.15) checks every character of every base64url segment in a Python loop and parses a
token again on each call; a sign-in read a customer's token four times. Here a token is read
once: three base64url segments in canonical form (unused bits zero, at most two "=" of
padding), a JSON object as header, a string ``kid``, a ``crit`` only with the extensions
PyJWT knows (``b64``, present in the header), and no unencoded payload (``b64: false``).
Signatures are not checked here: callers use PyJWT's algorithm objects with keys they
prepared once, or, for HMAC, ``hmac_matches``.
"""

from __future__ import annotations

import binascii
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

# A base64url segment without its padding: the alphabet PyJWT accepts.
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_-]*")
_B64URL_VALUES = {
    c: i for i, c in enumerate(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
# By a segment's length modulo 4, the bits of its last character past the data's end.
_UNUSED_BITS = {2: 0b1111, 3: 0b11}
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


class MalformedJWS(ValueError):
    """Not a compact JWS this server reads; the message says why, for the caller's error."""


@dataclass(frozen=True)
class Segments:
    header: dict[str, Any]
    payload: bytes  # decoded from base64url, not parsed
    signing_input: bytes
    signature: bytes


class _DuplicateMember(ValueError):
    pass


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _DuplicateMember
    return members


# json.loads with a hook would build a decoder per call; these are built once.
PLAIN = json.JSONDecoder()
UNIQUE_MEMBERS = json.JSONDecoder(object_pairs_hook=_unique_members)
"""Refuses an object that repeats a member name: parsers disagree on which value wins."""


def split(token: str, decoder: json.JSONDecoder = PLAIN) -> Segments:
    """The header (read with ``decoder``), payload bytes and signature of ``token``; raises
    MalformedJWS."""
    segments = token.split(".")
    if len(segments) != 3:
        raise MalformedJWS("the token is not a well-formed JWT")
    header = json_object(decode_base64url(segments[0]), decoder)
    payload = decode_base64url(segments[1])
    signature = decode_base64url(segments[2])
    _check_header(header)
    return Segments(header, payload, f"{segments[0]}.{segments[1]}".encode(), signature)


def hmac_matches(signature: bytes, key: bytes, signing_input: bytes, digest: str) -> bool:
    """PyJWT's HMAC verification (``hmac.new(key, input, hash).digest()`` compared in
    constant time), in one call to hashlib's C HMAC rather than through a Python HMAC
    object; ``digest`` is hashlib's name of the hash."""
    return hmac.compare_digest(signature, hmac.digest(key, signing_input, digest))


def decode_base64url(segment: str) -> bytes:
    """A segment's bytes; MalformedJWS unless it is base64url in canonical form, optionally
    padded to a multiple of four with at most two "="."""
    data = segment.rstrip("=")
    padding = len(segment) - len(data)
    if (
        padding > 2
        or (padding and len(segment) % 4)
        or len(data) % 4 == 1
        or not _SEGMENT_RE.fullmatch(data)
    ):
        raise MalformedJWS("the token is not a well-formed JWT")
    # Canonical: a last character that carries bits past the data's end carries zeros
    # there, so that encoding the bytes again gives the segment back.
    if len(data) % 4 and _B64URL_VALUES[data[-1]] & _UNUSED_BITS[len(data) % 4]:
        raise MalformedJWS("the token is not a well-formed JWT")
    try:
        return binascii.a2b_base64(
            data.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(data) % 4)
        )
    except (binascii.Error, ValueError):
        raise MalformedJWS("the token is not a well-formed JWT") from None


def json_object(raw: bytes, decoder: json.JSONDecoder = PLAIN) -> dict[str, Any]:
    """``raw`` read as json.loads reads bytes (UTF-8, -16 or -32, told apart by the first
    bytes); MalformedJWS unless it is a JSON object."""
    return text_object(json_text(raw), decoder)


def json_text(raw: bytes) -> str:
    """JSON bytes as text, as json.loads decodes them; MalformedJWS when they cannot be."""
    try:
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except ValueError:  # UnicodeDecodeError
        raise MalformedJWS("the token is not a well-formed JWT") from None


def text_object(text: str, decoder: json.JSONDecoder = PLAIN) -> dict[str, Any]:
    """``text`` (from ``json_text``) read with ``decoder``; MalformedJWS unless it is a JSON
    object."""
    try:
        value = decoder.decode(text)
    except _DuplicateMember:
        raise MalformedJWS("the token repeats a header or claim name") from None
    except (ValueError, RecursionError):
        raise MalformedJWS("the token is not a well-formed JWT") from None
    if not isinstance(value, dict):
        raise MalformedJWS("the token's header and claims must be JSON objects")
    return value


def _check_header(header: dict[str, Any]) -> None:
    if "kid" in header and not isinstance(header["kid"], str):
        raise MalformedJWS("the kid header must be a string")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or any(
            ext != "b64" or ext not in header for ext in crit
        ):
            raise MalformedJWS("the token's crit header is not supported")
    if header.get("b64", True) is False:
        raise MalformedJWS("an unencoded payload (b64: false) is not accepted")
