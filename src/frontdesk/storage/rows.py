"""Row helpers shared by the storage modules: JSON columns in and out, rows as records."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, TypeVar, cast

from frontdesk import jsonutil
from frontdesk.storage.database import Queries, Row

R = TypeVar("R")


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


class NewRow(NamedTuple):
    """A row to insert: ``into`` names the table and its columns (``"t (a, b)"``), ``values``
    gives theirs in that order."""

    into: str
    values: tuple[Any, ...]

    def insert(self) -> str:
        """The ``INSERT`` of this row, its values as ``$1``, ``$2``…"""
        return _insert_text(self.into, len(self.values))


@functools.lru_cache(maxsize=64)
def _insert_text(into: str, count: int) -> str:
    values = ", ".join(f"${i}" for i in range(1, count + 1))
    return f"INSERT INTO {into} VALUES ({values})"  # noqa: S608 - names from this package


async def fetch_record(
    q: Queries, record: type[R], sql: str, *args: Any, json: Iterable[str] = ()
) -> R | None:
    """The row ``sql`` selects, its ``json`` columns decoded, typed as ``record``."""
    return cast("R | None", decode(await q.fetch_one(sql, *args), json))


async def fetch_records(
    q: Queries, record: type[R], sql: str, *args: Any, json: Iterable[str] = ()
) -> list[R]:
    """The rows ``sql`` selects, their ``json`` columns decoded, typed as ``record``."""
    return cast("list[R]", decode_all(await q.fetch_all(sql, *args), json))


async def count_matching(q: Queries, matching: str, args: Sequence[Any], cap: int) -> int:
    """How many rows ``matching`` (a ``SELECT 1 …``) yields; with ``cap`` above 0 counting
    stops past ``cap`` (an answer of ``cap + 1`` means "more than ``cap``")."""
    if cap > 0:
        matching += f" LIMIT {cap + 1:d}"
    total = await q.fetch_value(f"SELECT COUNT(*) FROM ({matching}) AS matching", *args)  # noqa: S608
    return int(total)
