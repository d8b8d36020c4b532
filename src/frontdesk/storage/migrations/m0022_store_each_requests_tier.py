"""The trust tier a conversation's senderAuthInfo records, in a column of its own.

``requests.auth_tier`` is ``auth.tiers.tier_of_auth_info(attributes.senderAuthInfo)``, written
by the statements that write ``attributes`` (``storage.requests``). The agents' list draws a
tier on every row: it used to take senderAuthInfo out of the attributes JSON for each row
(SQLite parses the whole document for that, several hundred bytes per visitor), and now reads
a short text; the e-mail proof is read only for the rows whose tier needs one. Backfilled from
the attributes, as the function decides: a verified ``custom`` sign-in is ``authenticated``, an
``email_code`` one ``email_verified``, anything else ``anonymous``.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        provider = "attributes::json #>> '{senderAuthInfo,authVar,sign_in_provider}'"
        verified = "attributes::json #>> '{senderAuthInfo,verified}' = 'true'"
    else:
        provider = "json_extract(attributes, '$.senderAuthInfo.authVar.sign_in_provider')"
        verified = "json_extract(attributes, '$.senderAuthInfo.verified') = 1"
    return [
        "ALTER TABLE requests ADD COLUMN auth_tier TEXT NOT NULL DEFAULT 'anonymous'",
        f"UPDATE requests SET auth_tier = CASE WHEN {provider} = 'custom' AND {verified}"  # noqa: S608
        f" THEN 'authenticated' WHEN {provider} = 'email_code' THEN 'email_verified'"
        " ELSE 'anonymous' END",
    ]
