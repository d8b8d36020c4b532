"""Seen ``jti`` values of single-use customer tokens, kept until the token expires."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE used_token_ids (
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            jti TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (project_id, jti)
        )""",
        "CREATE INDEX used_token_ids_by_expiry ON used_token_ids (expires_at)",
    ]
