"""Users, projects, memberships, sessions, keys, departments, leads, requests, messages."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            firstname TEXT NOT NULL DEFAULT '',
            lastname TEXT NOT NULL DEFAULT '',
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )""",
        """CREATE TABLE projects (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            settings TEXT NOT NULL DEFAULT '{}',
            created_by TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )""",
        """CREATE TABLE project_users (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            role TEXT NOT NULL,
            user_available INTEGER NOT NULL DEFAULT 1,
            max_assigned_chat INTEGER,
            profile TEXT NOT NULL DEFAULT '{}',
            attributes TEXT NOT NULL DEFAULT '{}',
            invited_by TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE (project_id, user_id)
        )""",
        "CREATE INDEX project_users_by_role ON project_users (project_id, role)",
        """CREATE TABLE invites (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            email TEXT NOT NULL,
            role TEXT NOT NULL,
            invited_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            accepted_at BIGINT,
            UNIQUE (project_id, email)
        )""",
        "CREATE INDEX invites_by_email ON invites (email)",
        """CREATE TABLE sessions (
            jti TEXT PRIMARY KEY,
            project_id TEXT,
            subject_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            auth_info TEXT NOT NULL DEFAULT '{}',
            issued_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            revoked_at BIGINT,
            revoked_reason TEXT
        )""",
        "CREATE INDEX sessions_by_subject ON sessions (project_id, subject_id)",
        """CREATE TABLE project_keys (
            kid TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            secret_enc TEXT,
            public_key TEXT,
            created_at BIGINT NOT NULL,
            retired_at BIGINT,
            verify_until BIGINT
        )""",
        "CREATE INDEX project_keys_by_project ON project_keys (project_id, created_at)",
        """CREATE TABLE departments (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            is_default INTEGER NOT NULL DEFAULT 0,
            routing TEXT NOT NULL DEFAULT 'assigned',
            agents TEXT NOT NULL DEFAULT '[]',
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )""",
        "CREATE INDEX departments_by_project ON departments (project_id, is_default)",
        """CREATE TABLE leads (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            lead_id TEXT NOT NULL,
            fullname TEXT,
            email TEXT,
            phone TEXT,
            attributes TEXT NOT NULL DEFAULT '{}',
            tags TEXT NOT NULL DEFAULT '[]',
            provenance TEXT NOT NULL DEFAULT '{}',
            is_authenticated INTEGER NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE (project_id, lead_id)
        )""",
        "CREATE INDEX leads_by_recency ON leads (project_id, updated_at, id)",
        """CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            request_id TEXT NOT NULL UNIQUE,
            requester_id TEXT NOT NULL,
            requester_user_id TEXT NOT NULL,
            lead_ref TEXT REFERENCES leads(id) ON DELETE CASCADE,
            department_id TEXT,
            status INTEGER NOT NULL,
            participants TEXT NOT NULL DEFAULT '[]',
            first_text TEXT NOT NULL DEFAULT '',
            last_text TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '{}',
            tags TEXT NOT NULL DEFAULT '[]',
            is_authenticated INTEGER NOT NULL DEFAULT 0,
            channel TEXT NOT NULL DEFAULT 'chat21',
            source_page TEXT,
            language TEXT,
            user_agent TEXT,
            rating INTEGER,
            rating_message TEXT,
            closed_at BIGINT,
            closed_by TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )""",
        "CREATE INDEX requests_by_status ON requests (project_id, status, updated_at, id)",
        "CREATE INDEX requests_by_activity ON requests (project_id, updated_at, id)",
        "CREATE INDEX requests_by_requester"
        " ON requests (project_id, requester_user_id, created_at)",
        "CREATE INDEX requests_by_lead ON requests (lead_ref)",
        """CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            request_id TEXT NOT NULL,
            sender TEXT NOT NULL,
            sender_fullname TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            type TEXT NOT NULL DEFAULT 'text',
            attributes TEXT NOT NULL DEFAULT '{}',
            metadata TEXT,
            status INTEGER NOT NULL DEFAULT 150,
            created_at BIGINT NOT NULL
        )""",
        "CREATE INDEX messages_by_request ON messages (request_id, created_at, id)",
    ]
