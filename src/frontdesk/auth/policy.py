"""A project's visitor-identity policy, read from ``projects.settings``.

    allow_anonymous      false: only visitors signed in with a customer token (default true)
    require_exp          customer tokens must carry exp (default false, as in Tiledesk)
    max_token_age        seconds; customer tokens whose iat is older are refused (0: any age)
    single_use_tokens    a customer token's jti may be exchanged once (default false)
    allowed_origins      widget origins, e.g. "https://shop.example.com" or
                         "https://*.example.com"; empty: any origin

Pure functions, no I/O: the refusals raise Forbidden with their code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from frontdesk.auth.customer_tokens import TokenPolicy
from frontdesk.errors import Forbidden

POLICY_KEYS = (
    "allow_anonymous",
    "require_exp",
    "max_token_age",
    "single_use_tokens",
    "allowed_origins",
    "anonymous_retention_days",
)


@dataclass(frozen=True)
class VisitorPolicy:
    allow_anonymous: bool = True
    require_exp: bool = False
    max_token_age: int = 0
    single_use_tokens: bool = False
    allowed_origins: tuple[str, ...] = ()

    @property
    def tokens(self) -> TokenPolicy:
        return TokenPolicy(
            require_exp=self.require_exp,
            max_age=self.max_token_age or None,
            require_jti=self.single_use_tokens,
        )


def policy_of(project: Mapping[str, Any]) -> VisitorPolicy:
    settings = project["settings"]
    return VisitorPolicy(
        allow_anonymous=bool(settings.get("allow_anonymous", True)),
        require_exp=bool(settings.get("require_exp", False)),
        max_token_age=int(settings.get("max_token_age") or 0),
        single_use_tokens=bool(settings.get("single_use_tokens", False)),
        allowed_origins=tuple(settings.get("allowed_origins") or ()),
    )


def origin_allowed(allowed: tuple[str, ...], origin: str | None) -> bool:
    """Whether a browser at ``origin`` may use the widget. No list: any origin. No Origin
    header: not a browser's cross-site call (browsers always send it then), so allowed; a
    non-browser client could forge any Origin anyway."""
    if not allowed or origin is None:
        return True
    origin = origin.rstrip("/").lower()
    for pattern in (p.rstrip("/").lower() for p in allowed):
        if pattern == origin:
            return True
        scheme, sep, host = pattern.partition("://*.")
        if sep and origin.startswith(scheme + "://") and origin.endswith("." + host):
            return True
    return False


def check_origin(policy: VisitorPolicy, origin: str | None) -> None:
    if not origin_allowed(policy.allowed_origins, origin):
        raise Forbidden(
            f"the widget is not allowed on {origin}: add it to the project's allowed_origins",
            code="origin_not_allowed",
        )


def check_anonymous_allowed(policy: VisitorPolicy) -> None:
    if not policy.allow_anonymous:
        raise Forbidden(
            "this project requires visitors to sign in with a token from its website",
            code="anonymous_not_allowed",
        )
