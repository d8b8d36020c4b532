"""Helpers shared by the security tests: hand-built JWTs and row counts."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from starlette.testclient import TestClient

from frontdesk.services import Services

TABLES = ("users", "project_users", "sessions", "leads", "requests", "messages")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw_jwt(header_json: str, claims_json: str, secret: str | bytes | None) -> str:
    """A compact JWT from literal JSON text (so names can repeat), HMAC-SHA256 signed or not."""
    signing_input = f"{b64url(header_json.encode())}.{b64url(claims_json.encode())}"
    if secret is None:
        return signing_input + "."
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def row_counts(client: TestClient) -> dict[str, int]:
    """How many rows each table holds, read through the running app's database."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def count() -> dict[str, int]:
        # Table names come from the constant above, never from input.
        sql = "SELECT COUNT(*) FROM {}"
        return {t: int(await services.db.fetch_value(sql.format(t))) for t in TABLES}

    assert client.portal is not None
    counts: dict[str, int] = client.portal.call(count)
    return counts


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
