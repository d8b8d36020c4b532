"""Keep each request's first participant in an indexed column, so routing counts an agent's
open conversations from the index instead of reading every open conversation."""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    # The JSON text of ``participants`` starts with '["<24 hex>"' when it has a first element.
    first = (
        "substr(participants, 3, 24)"
        if dialect == "sqlite"
        else "substring(participants from 3 for 24)"
    )
    return [
        "ALTER TABLE requests ADD COLUMN assignee TEXT",
        f"UPDATE requests SET assignee = {first} WHERE participants LIKE '[\"%'",  # noqa: S608
        "CREATE INDEX requests_by_assignee ON requests (project_id, assignee, status)",
    ]
