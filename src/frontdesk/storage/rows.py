"""Row helpers shared by the storage modules: JSON columns in and out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from frontdesk import jsonutil
from frontdesk.storage.database import Row


def decode(row: Row | None, json_columns: Iterable[str]) -> Row | None:
    if row is None:
        return None
    for column in json_columns:
        if column in row and isinstance(row[column], str):
            row[column] = jsonutil.loads(row[column])
    return row


def decode_all(rows: list[Row], json_columns: Iterable[str]) -> list[Row]:
    columns = tuple(json_columns)
    for row in rows:
        decode(row, columns)
    return rows


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode(value: Any) -> str:
    return jsonutil.dumps(value)
