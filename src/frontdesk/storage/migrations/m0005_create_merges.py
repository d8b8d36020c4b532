"""Proof-based merges of an anonymous visitor's conversations into an authenticated contact.

``request_ids`` lists exactly the conversations moved, so an admin can undo the merge.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE merges (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            anonymous_visitor_id TEXT NOT NULL,
            anonymous_lead_ref TEXT,
            visitor_id TEXT NOT NULL,
            lead_ref TEXT NOT NULL,
            request_ids TEXT NOT NULL DEFAULT '[]',
            merged_at BIGINT NOT NULL,
            reverted_at BIGINT,
            reverted_by TEXT
        )""",
        "CREATE INDEX merges_by_lead ON merges (project_id, lead_ref)",
        "CREATE INDEX merges_by_anonymous ON merges (project_id, anonymous_visitor_id)",
    ]
