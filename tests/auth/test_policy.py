"""Which widget origins a project's policy lets in."""

from __future__ import annotations

import pytest

from frontdesk.auth.policy import origin_allowed

ALLOWED = ("https://shop.example.com", "https://*.example.org")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.example.com", True),
        ("https://SHOP.example.com/", True),
        ("https://eu.example.org", True),
        ("https://a.b.example.org", True),
        (None, True),  # not a browser's cross-site call
        ("http://shop.example.com", False),  # another scheme is another origin
        ("https://shop.example.com.evil.test", False),
        ("https://example.org", False),  # the wildcard names subdomains only
        ("https://evilexample.org", False),
        ("null", False),
    ],
)
def test_origin_allowed(origin: str | None, allowed: bool) -> None:
    assert origin_allowed(ALLOWED, origin) is allowed


def test_no_list_allows_every_origin() -> None:
    assert origin_allowed((), "https://anywhere.test")
