"""Read markers, presence and notification preferences of agents.

``read_markers`` keeps, per agent and conversation, the last message the agent has read (its
id and time, the (created_at, id) cursor of ``messages``): unread counts are the visitor's
messages after it, the same in every browser.

``requests.last_message_id``, ``last_message_at`` and ``last_sender_kind`` describe the
conversation's newest message, so a client hearing a request event knows whether a visitor
just wrote. Existing conversations start without (null).

``project_users.presence_away`` is 1 while the server holds an agent unavailable because its
last dashboard connection closed; the agent's return makes it available again only then.
``project_users.notifications`` holds the agent's notification choices (desktop, sound, title
count), JSON, empty for the defaults.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE read_markers (
            request_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            message_id TEXT NOT NULL,
            message_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (request_id, user_id)
        )""",
        "ALTER TABLE requests ADD COLUMN last_message_id TEXT",
        "ALTER TABLE requests ADD COLUMN last_message_at BIGINT",
        "ALTER TABLE requests ADD COLUMN last_sender_kind TEXT",
        "ALTER TABLE project_users ADD COLUMN presence_away INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE project_users ADD COLUMN notifications TEXT NOT NULL DEFAULT '{}'",
    ]
