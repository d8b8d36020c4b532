"""Record who wrote what, from the server's own knowledge, never from a display name.

``messages.sender_kind`` is ``visitor`` or ``agent``, set when the message is stored; clients
draw a message's side from it. Existing messages are backfilled: a sender that is an agent
account (a row of ``users``) is an agent, anyone else a visitor.

``requests.visitor_attribute_keys`` lists the attribute keys whose current value the visitor
wrote; only those (and its own ``senderAuthInfo``) are in a visitor's view of the
conversation. Existing conversations start with none: nobody can tell any more who wrote
their attributes, so none is shown to the visitor rather than an agent's note.

``merges.anonymous_erased_at`` says when the anonymous contact of a live merge was erased: its
conversations stay with the surviving contact, and the merge can no longer be reverted.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        "ALTER TABLE messages ADD COLUMN sender_kind TEXT NOT NULL DEFAULT 'visitor'",
        "UPDATE messages SET sender_kind = 'agent'"
        " WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = messages.sender)",
        "ALTER TABLE requests ADD COLUMN visitor_attribute_keys TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE merges ADD COLUMN anonymous_erased_at BIGINT",
    ]
