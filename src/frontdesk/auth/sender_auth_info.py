"""senderAuthInfo: how a visitor was authenticated, derived only from a verified token.

Shape (docs/identity.md): ``{"authType": "USER", "authVar": {"uid", "sign_in_provider", "token"},
"verified", "verifiedAt", "kid", "alg"}``. Built at sign-in, kept on the session, copied onto
every request the session creates and onto the visitor's lead. An anonymous visitor who proves
an e-mail address with a one-time code gets ``sign_in_provider: "email_code"`` and
``emailVerified``; ``verified`` stays false, as no host token vouches for the person.
"""

from __future__ import annotations

from typing import Any

from frontdesk.clock import iso

# Keys a client may never set: they are derived from verified tokens only.
RESERVED_ATTRIBUTE_KEYS = frozenset(
    {
        "senderauthinfo",
        "isauthenticated",
        "role",
        "verified",
        "verifiedat",
        "authtype",
        "authvar",
        "mergedfrom",
        "mergedinto",
        "emailverified",
        "verificationrequest",
        "tierhold",
    }
)


def anonymous_auth_info(
    visitor_id: str, session_claims: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    return {
        "authType": "USER",
        "authVar": {
            "uid": visitor_id,
            "sign_in_provider": "anonymous",
            "token": _public_claims(session_claims),
        },
        "verified": False,
        "verifiedAt": iso(now_ms),
        "kid": None,
        "alg": None,
    }


def custom_auth_info(
    visitor_id: str, claims: dict[str, Any], *, kid: str, alg: str, now_ms: int
) -> dict[str, Any]:
    return {
        "authType": "USER",
        "authVar": {
            "uid": visitor_id,
            "sign_in_provider": "custom",
            "token": _public_claims(claims),
        },
        "verified": True,
        "verifiedAt": iso(now_ms),
        "kid": kid,
        "alg": alg,
    }


def email_code_auth_info(
    visitor_id: str, session_claims: dict[str, Any], email: str, now_ms: int
) -> dict[str, Any]:
    """An anonymous session whose visitor just proved ``email`` with a one-time code."""
    return {
        "authType": "USER",
        "authVar": {
            "uid": visitor_id,
            "sign_in_provider": "email_code",
            "token": _public_claims(session_claims),
        },
        "verified": False,
        "verifiedAt": iso(now_ms),
        "kid": None,
        "alg": None,
        "emailVerified": {"email": email, "method": "email_code", "verifiedAt": iso(now_ms)},
    }


def strip_reserved(attributes: dict[str, Any]) -> dict[str, Any]:
    """``attributes`` without the keys only the server may set (compared case-insensitively)."""
    return {k: v for k, v in attributes.items() if k.lower() not in RESERVED_ATTRIBUTE_KEYS}


def _public_claims(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if not k.startswith("__")}
