"""A consistent copy of a SQLite database while it serves, with SQLite's online backup API.

The copy is read in one step, inside one read transaction: in WAL mode (frontdesk's) writers go
on meanwhile and the copy is the database as of that transaction's start — every commit before
it, none after. It is written next to its destination and renamed into place once complete and
checked, so an interrupted backup never leaves a half-written file under the chosen name.
PostgreSQL is backed up with its own tools (pg_dump), not here.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from frontdesk.errors import ConfigurationError
from frontdesk.storage.database import is_postgresql, sqlite_path


def backup_database(database_url: str, destination: Path) -> int:
    """Copy the SQLite database of ``database_url`` to ``destination``; returns its page count.

    Raises ConfigurationError for a PostgreSQL URL, a database file that does not exist, or a
    copy that fails SQLite's integrity check.
    """
    if is_postgresql(database_url):
        raise ConfigurationError(
            "the database is PostgreSQL: back it up with pg_dump (pg_dump --format=custom"
            " --file=FILE DATABASE_URL) and restore with pg_restore"
        )
    source = sqlite_path(database_url)
    if source == ":memory:" or not Path(source).is_file():
        raise ConfigurationError(f"no SQLite database at {source}; check FRONTDESK_DATABASE_URL"
                                 " and FRONTDESK_DATA_DIR")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        pages = _copy(source, partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return pages


def _copy(source: str, target: Path) -> int:
    with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, contextlib.closing(
        sqlite3.connect(target)
    ) as dst:
        src.backup(dst)  # all pages in one step: one consistent read transaction
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise ConfigurationError(f"the copy failed SQLite's integrity check: {check}")
        pages: int = dst.execute("PRAGMA page_count").fetchone()[0]
    with target.open("rb") as written:
        os.fsync(written.fileno())
    return pages
