"""Project keys gain public keys (RS256/ES256), JWKS sources, and per-project key ids.

A key id is chosen by the customer for public keys, so it is unique per project, not across
the server: the table is rebuilt with the primary key (project_id, kid). ``alg`` pins the
algorithm a public key verifies; ``jwks_url`` marks a row that stands for a JWKS document
fetched from the customer's server (its keys live in a cache, not here); ``label`` is the
admin's note on what the key is for.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE project_keys_v2 (
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            kid TEXT NOT NULL,
            kind TEXT NOT NULL,
            alg TEXT,
            label TEXT NOT NULL DEFAULT '',
            secret_enc TEXT,
            public_key TEXT,
            jwks_url TEXT,
            created_at BIGINT NOT NULL,
            retired_at BIGINT,
            verify_until BIGINT,
            PRIMARY KEY (project_id, kid)
        )""",
        "INSERT INTO project_keys_v2 (project_id, kid, kind, secret_enc, public_key, created_at,"
        " retired_at, verify_until) SELECT project_id, kid, kind, secret_enc, public_key,"
        " created_at, retired_at, verify_until FROM project_keys",
        "DROP TABLE project_keys",
        "ALTER TABLE project_keys_v2 RENAME TO project_keys",
        "CREATE INDEX project_keys_by_project ON project_keys (project_id, created_at)",
    ]
