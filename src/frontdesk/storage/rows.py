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


def unchanged(
    dialect: str, alias: str, columns: Sequence[str], first: int,
    nullable: frozenset[str] = frozenset(),
) -> str:
    """The condition that row ``alias`` still holds in ``columns`` the values of parameters
    ``$first``, ``$first + 1``…: ``IS`` (``IS NOT DISTINCT FROM`` on PostgreSQL) for the
    ``nullable`` ones, ``=`` for the others."""
    same = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"
    return " AND ".join(
        f"{alias}.{column} {same if column in nullable else '='} ${first + i}"
        for i, column in enumerate(columns)
    )


class RowChange(NamedTuple):
    """Columns to set in one row: ``table``'s ``columns`` to the first values, in the row
    whose ``key`` column holds the last."""

    table: str
    columns: tuple[str, ...]
    key: str
    values: tuple[Any, ...]

    def update(self) -> str:
        """The ``UPDATE`` of this change, its values as ``$1``, ``$2``…"""
        return _update_text(self.table, self.columns, self.key, 1)


@functools.lru_cache(maxsize=64)
def _update_text(table: str, columns: tuple[str, ...], key: str, first: int) -> str:
    assignments = ", ".join(f"{c} = ${first + i}" for i, c in enumerate(columns))
    return (f"UPDATE {table} SET {assignments}"  # noqa: S608 - names from this package
            f" WHERE {key} = ${first + len(columns)}")


async def update_then_insert(
    q: Queries, update: str, args: Sequence[Any], rows: Sequence[NewRow | RowChange]
) -> Any:
    """The value ``update`` (an ``UPDATE … RETURNING`` one column) returns, with ``rows``
    inserted (or, a ``RowChange``, changed) only if it updated a row: None, and nothing
    written, if it did not.

    The transaction's last statement (``Queries.write_last``): on PostgreSQL the update and
    the other writes, which read its row, are one statement without ``BEGIN``.
    """
    if q.dialect == "postgresql":
        shapes = tuple(
            (row.into, len(row.values)) if isinstance(row, NewRow)
            else (row.table, row.columns, row.key)
            for row in rows
        )
        values = [value for row in rows for value in row.values]
        return await q.write_last(_then_written(update, len(args), shapes), *args, *values)
    value = await q.write_returning(update, *args)
    if value is not None:
        for row in rows:
            sql = row.insert() if isinstance(row, NewRow) else row.update()
            await q.execute_later(sql, *row.values)
    return value


@functools.lru_cache(maxsize=256)
def _then_written(update: str, count: int, shapes: tuple[tuple[Any, ...], ...]) -> str:
    """``update`` (``count`` arguments) and, after it, inserts of rows shaped ``(into,
    count of values)`` and changes shaped ``(table, columns, key)``, as one statement: each
    writes only if ``update`` updated its row."""
    parts = [f"updated AS ({update})"]
    first = count + 1
    for i, shape in enumerate(shapes):
        if len(shape) == 2:
            into, values = shape
            numbered = ", ".join(f"${first + k}" for k in range(values))
            insert = f"INSERT INTO {into} SELECT {numbered} FROM updated"  # noqa: S608
            parts.append(f"inserted_{i} AS ({insert})")
            first += values
        else:
            table, columns, key = shape
            change = _update_text(table, columns, key, first)
            guarded = f"{change} AND EXISTS (SELECT 1 FROM updated)"  # noqa: S608
            parts.append(f"changed_{i} AS ({guarded})")
            first += len(columns) + 1
    return f"WITH {', '.join(parts)} SELECT * FROM updated"  # noqa: S608 - text of this package


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
