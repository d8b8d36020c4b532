"""Trust tiers and e-mail: one-time e-mail codes (hashes only), the e-mail outbox, single-use
continuity links, each department's minimum tier and hours, and conversations held back from
a department until their visitor reaches its tier."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE email_codes (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            visitor_id TEXT NOT NULL,
            email TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            used_at BIGINT,
            locked_at BIGINT
        )""",
        "CREATE INDEX email_codes_by_visitor ON email_codes (project_id, visitor_id, email)",
        """CREATE TABLE outbox (
            id TEXT PRIMARY KEY,
            project_id TEXT REFERENCES projects(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            dedupe_key TEXT UNIQUE,
            to_address TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            created_at BIGINT NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            claimed_until BIGINT,
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at BIGINT,
            failed_at BIGINT,
            last_error TEXT
        )""",
        "CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL"
        " AND failed_at IS NULL",
        """CREATE TABLE continuity_links (
            token_hash TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            visitor_id TEXT NOT NULL,
            request_id TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            used_at BIGINT
        )""",
        "CREATE INDEX continuity_links_by_visitor ON continuity_links (project_id, visitor_id)",
        "ALTER TABLE departments ADD COLUMN min_tier TEXT NOT NULL DEFAULT 'anonymous'",
        "ALTER TABLE departments ADD COLUMN operating_hours TEXT",
        "ALTER TABLE departments ADD COLUMN off_hours_message TEXT",
        "ALTER TABLE requests ADD COLUMN held_tier TEXT",
    ]
