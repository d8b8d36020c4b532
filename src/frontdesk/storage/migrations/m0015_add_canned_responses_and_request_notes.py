"""Agents' workspace: canned responses, and private notes on conversations.

``canned_responses`` holds each agent's own replies and the project's shared ones.
``requests.notes`` holds a conversation's private notes as one JSON list (Tiledesk keeps them
on the request the same way): they are read with the request, and go with it when it is erased.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE canned_responses (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            shared INTEGER NOT NULL DEFAULT 0,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )""",
        "CREATE INDEX canned_responses_by_project ON canned_responses (project_id, created_by)",
        "ALTER TABLE requests ADD COLUMN notes TEXT NOT NULL DEFAULT '[]'",
    ]
