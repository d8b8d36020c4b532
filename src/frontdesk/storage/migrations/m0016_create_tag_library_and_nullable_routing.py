"""The project's tag library (name and colour), and departments whose routing may be null.

Tiledesk's clients create departments with ``routing: null`` and read that null back; such a
department routes as ``assigned`` does. SQLite cannot drop a NOT NULL constraint in place, so
there the table is rebuilt (nothing references it by foreign key).
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    tags = [
        """CREATE TABLE tags (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            color TEXT,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE (project_id, tag)
        )""",
    ]
    if dialect == "postgresql":
        return [*tags, "ALTER TABLE departments ALTER COLUMN routing DROP NOT NULL"]
    return [
        *tags,
        """CREATE TABLE departments_rebuilt (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            is_default INTEGER NOT NULL DEFAULT 0,
            routing TEXT DEFAULT 'assigned',
            agents TEXT NOT NULL DEFAULT '[]',
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )""",
        "INSERT INTO departments_rebuilt SELECT id, project_id, name, is_default, routing,"
        " agents, created_at, updated_at FROM departments",
        "DROP TABLE departments",
        "ALTER TABLE departments_rebuilt RENAME TO departments",
        "CREATE INDEX departments_by_project ON departments (project_id, is_default)",
    ]
