"""Trust tiers: how much a visitor's identity is proven, from nothing to a host-signed token.

    anonymous        nothing proven: a random id this server issued
    email_verified   the visitor read a one-time code sent to an e-mail address
    authenticated    the business's backend signed a token for this person

A tier is decided only from what the server verified itself (a session's senderAuthInfo, a
contact's e-mail provenance); nothing a client sends sets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

Tier = Literal["anonymous", "email_verified", "authenticated"]
TIERS: tuple[Tier, ...] = get_args(Tier)
# The provenance source of an e-mail address proven with a one-time code.
EMAIL_CODE_SOURCE = "email_code"


def tier_rank(tier: str) -> int:
    """0, 1 or 2; an unknown name ranks as anonymous."""
    return TIERS.index(tier) if tier in TIERS else 0


def tier_at_least(tier: str, minimum: str) -> bool:
    return tier_rank(tier) >= tier_rank(minimum)


def tier_of_auth_info(auth_info: Mapping[str, Any] | None) -> Tier:
    """The tier a senderAuthInfo records (built by ``auth.sender_auth_info``)."""
    if not auth_info:
        return "anonymous"
    provider = (auth_info.get("authVar") or {}).get("sign_in_provider")
    if provider == "custom" and auth_info.get("verified"):
        return "authenticated"
    if provider == EMAIL_CODE_SOURCE:
        return "email_verified"
    return "anonymous"


def proven_email(lead: Mapping[str, Any] | None) -> str | None:
    """The contact's e-mail address if a host token or a one-time code proved it, else None:
    an address a visitor only typed is never used to send conversation content."""
    if lead is None or not lead.get("email"):
        return None
    source = (lead.get("provenance") or {}).get("email", {}).get("source")
    return str(lead["email"]) if source in ("token", EMAIL_CODE_SOURCE) else None


def tier_of_visitor(is_authenticated: bool, lead: Mapping[str, Any] | None) -> Tier:
    """A visitor's tier: authenticated with a host token, else e-mail-verified when its own
    contact holds an address it proved with a code, else anonymous."""
    if is_authenticated:
        return "authenticated"
    source = ((lead or {}).get("provenance") or {}).get("email", {}).get("source")
    return "email_verified" if source == EMAIL_CODE_SOURCE else "anonymous"
