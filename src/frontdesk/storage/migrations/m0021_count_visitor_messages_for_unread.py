"""Unread counts without reading the conversation's messages.

``requests.visitor_messages`` counts the visitor's messages in the conversation (written by the
statement that records each new one), and ``read_markers.visitor_seen`` how many of them were
at or before the reader's marker when it moved. A list row's unread count is then the
difference, read from the two rows the list joins anyway, however long the conversation: it
used to count the visitor's messages after the marker, one index entry and one table row per
message, for every row of every list page. Both are backfilled from the messages.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        "ALTER TABLE requests ADD COLUMN visitor_messages INTEGER NOT NULL DEFAULT 0",
        "UPDATE requests SET visitor_messages = (SELECT COUNT(*) FROM messages m"
        " WHERE m.request_id = requests.request_id AND m.sender_kind = 'visitor')",
        "ALTER TABLE read_markers ADD COLUMN visitor_seen INTEGER NOT NULL DEFAULT 0",
        "UPDATE read_markers SET visitor_seen = (SELECT COUNT(*) FROM messages m"
        " WHERE m.request_id = read_markers.request_id AND m.sender_kind = 'visitor'"
        " AND (m.created_at < read_markers.message_at OR (m.created_at = read_markers.message_at"
        " AND m.id <= read_markers.message_id)))",
    ]
