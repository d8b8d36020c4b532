"""Failed sign-ins are summarised: one audit row counts the repeats of one refusal."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        "ALTER TABLE audit_events ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE audit_events ADD COLUMN last_at BIGINT",
        "UPDATE audit_events SET last_at = at",
        "CREATE INDEX audit_events_by_last ON audit_events (project_id, type, last_at)",
    ]
