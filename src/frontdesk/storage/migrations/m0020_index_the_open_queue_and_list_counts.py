"""The conversation list reads no more history than it shows.

- ``requests_open_queue``: the open conversations agents may see, newest activity first. The
  open-queue page and its count read this small index alone, however many closed
  conversations the project keeps (without it, the page walked the whole activity order,
  closed conversations included, until 40 open ones turned up).
- ``requests_by_status`` and ``requests_by_activity`` end with ``held_tier``, which every agent
  list filters on: a bounded count (``LIMIT cap + 1``) is then a range of index entries, not
  one table row read per entry. Same columns otherwise, so no query loses its index.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    return [
        "DROP INDEX requests_by_status",
        "CREATE INDEX requests_by_status ON requests (project_id, status, updated_at, id,"
        " held_tier)",
        "DROP INDEX requests_by_activity",
        "CREATE INDEX requests_by_activity ON requests (project_id, updated_at, id, held_tier)",
        # The literal 1000 is RequestStatus.CLOSED: a partial index's condition must be
        # spelled the way queries spell it (see storage/requests.py, the open filter).
        "CREATE INDEX requests_open_queue ON requests (project_id, updated_at, id)"
        " WHERE status < 1000 AND held_tier IS NULL",
    ]
