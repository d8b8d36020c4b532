"""The identity audit log: one row per sign-in, failure, rotation, merge, revocation, erasure."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE audit_events (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            at BIGINT NOT NULL,
            actor TEXT,
            subject TEXT,
            kid TEXT,
            code TEXT,
            ip TEXT,
            suspicious INTEGER NOT NULL DEFAULT 0,
            details TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX audit_events_by_time ON audit_events (project_id, at, id)",
        "CREATE INDEX audit_events_by_type ON audit_events (project_id, type, at)",
    ]
