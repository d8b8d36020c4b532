"""Migration m0022 on a database that already holds conversations: each one's ``auth_tier``
is backfilled from its attributes exactly as ``auth.tiers.tier_of_auth_info`` decides."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from frontdesk.auth.tiers import tier_of_auth_info
from frontdesk.storage import migrate as migrations
from frontdesk.storage.database import open_database
from tests.storage.schema import add_project, migrate_before

M0022 = "m0022_store_each_requests_tier"
PID = "p" * 24

ATTRIBUTES: dict[str, dict[str, Any]] = {
    "none": {},
    "null": {"senderAuthInfo": None},
    "agent-wrote": {"plan": "gold", "nested": {"senderAuthInfo": "not this one"}},
    "anonymous": {"senderAuthInfo": {"authVar": {"sign_in_provider": "anonymous"},
                                     "verified": False}},
    "custom": {"senderAuthInfo": {"authVar": {"sign_in_provider": "custom"}, "verified": True},
               "cart": "x" * 300},
    "custom-unverified": {"senderAuthInfo": {"authVar": {"sign_in_provider": "custom"},
                                             "verified": False}},
    "email": {"senderAuthInfo": {"authVar": {"sign_in_provider": "email_code"},
                                 "verified": False,
                                 "emailVerified": {"email": "a@x.test", "verifiedAt": "t"}}},
    "no-authvar": {"senderAuthInfo": {"verified": True}},
}


def test_tiers_are_backfilled_from_the_attributes(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> dict[str, str]:
        db = await open_database(database_url)
        try:
            left = await migrate_before(db, monkeypatch, M0022)
            async with db.transaction() as tx:
                await add_project(tx, PID)
                for n, (rid, attributes) in enumerate(ATTRIBUTES.items()):
                    await tx.execute(
                        "INSERT INTO requests (id, project_id, request_id, requester_id,"
                        " requester_user_id, status, attributes, created_at, updated_at)"
                        " VALUES ($1, $2, $3, 'm', 'v', 100, $4, 0, 0)",
                        f"{n:024d}", PID, rid, orjson.dumps(attributes).decode())
            assert await migrations.migrate(db) == left
            rows = await db.fetch_all("SELECT request_id, auth_tier FROM requests")
            return {r["request_id"]: r["auth_tier"] for r in rows}
        finally:
            await db.close()

    tiers = asyncio.run(scenario())
    assert tiers == {rid: tier_of_auth_info(attributes.get("senderAuthInfo"))
                     for rid, attributes in ATTRIBUTES.items()}
    assert set(tiers.values()) == {"anonymous", "authenticated", "email_verified"}
