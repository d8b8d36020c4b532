"""Invitations that are accepted only with a single-use token, never by a matching email.

The old ``invites`` table joined whoever signed up with the invited address. Its pending rows
move to ``invitations`` with no token hash: they stay listed (status ``unsent``) until an admin
invites again, which issues a token, or withdraws them. Nothing accepts them as they are.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE invitations (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            email TEXT NOT NULL,
            role TEXT NOT NULL,
            invited_by TEXT NOT NULL,
            token_hash TEXT UNIQUE,
            status TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            closed_at BIGINT,
            closed_by TEXT
        )""",
        "CREATE UNIQUE INDEX invitations_one_pending ON invitations (project_id, email)"
        " WHERE status = 'pending'",
        "INSERT INTO invitations (id, project_id, email, role, invited_by, token_hash, status,"
        " created_at, expires_at)"
        " SELECT id, project_id, email, role, invited_by, NULL, 'pending', created_at, created_at"
        " FROM invites WHERE accepted_at IS NULL",
        "DROP TABLE invites",
    ]
