"""One async database interface over SQLite (sqlite3) and PostgreSQL (asyncpg).

SQL is written once, in the subset both dialects share, with ``$1``-style parameters; for
SQLite they are rewritten to ``?1``. JSON is kept as text, booleans as 0/1 integers (sqlite3
binds ``True`` as 1 itself) and times as epoch milliseconds, so every statement reads the same
on both.

All writes go through ``transaction()``: it owns commit and rollback, and runs the callbacks
registered with ``on_commit`` only after the commit succeeded (realtime events leave then).
SQLite has one writer connection, serialised by a lock, whose transactions that run while a
commit is pending share it (``_GroupCommit``), and one reader connection, which refuses
writes; WAL mode lets the reader see every committed write without waiting. Their statements
run on the event loop's thread: on this schema each takes microseconds (indexed lookups),
less than a hop to a worker thread and back costs, so a thread per connection made every
request slower (see docs/performance.md). Queries must therefore stay index-bound. What waits
on the disk or on another process runs on the writer's own thread instead, once per group of
transactions: the commit, whose writes to the WAL can wait for the disk, and a ``BEGIN`` that
finds another process holding the write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, Protocol, get_args
from urllib.parse import urlparse

from frontdesk.extras import import_extra

log = logging.getLogger("frontdesk.storage")

Row = dict[str, Any]
Dialect = Literal["sqlite", "postgresql"]
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)
CommitHook = Callable[[], Awaitable[None] | None]


class Queries(Protocol):
    """What both a database and an open transaction can run."""

    dialect: Dialect

    async def fetch_one(self, sql: str, *args: Any) -> Row | None: ...

    async def fetch_ahead(self, sql: str, *args: Any) -> Row | None:
        """A read that locks nothing. In a PostgreSQL transaction that has sent nothing yet
        it is sent before ``BEGIN``, on the transaction's connection: it sees what is
        committed then, not the snapshot of what follows. Elsewhere ``fetch_one`` (in a
        SQLite transaction the write lock is held already)."""
        ...

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetch_tuples(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        """Rows as sequences in the SELECT's column order: for a hot path that unpacks them
        itself instead of building a dict per row."""
        ...

    async def fetch_value(self, sql: str, *args: Any) -> Any: ...

    async def execute(self, sql: str, *args: Any) -> int: ...

    async def execute_later(self, sql: str, *args: Any) -> None:
        """A write whose outcome the caller does not read (no row count, no error it would
        handle): in a PostgreSQL transaction it is queued and sent, with the writes queued
        beside it, as one statement before the transaction's next statement or at its
        commit; everywhere else it runs at once. Queued writes must not touch the same rows
        as each other: PostgreSQL runs the parts of one statement on one snapshot."""
        ...

    async def write_returning(self, sql: str, *args: Any) -> Any:
        """The value a write's ``RETURNING`` gives. In a PostgreSQL transaction the writes
        queued before it join it as one statement, so it must neither read nor write rows
        they add or change; elsewhere it is ``fetch_value``."""
        ...

    async def write_last(self, sql: str, *args: Any) -> Any:
        """``write_returning`` for a transaction's last statement. In a PostgreSQL
        transaction that has sent nothing before it, it leaves with the writes queued before
        it as one statement, atomic on its own, with neither ``BEGIN`` nor ``COMMIT``; a
        statement after it in that transaction is an error."""
        ...

    async def write_last_guard(self, sql: str, *args: Any) -> Any:
        """``write_last`` for a write whose ``RETURNING`` may give no row (an insert that
        finds its row there already), the guard of the inserts queued before it.

        In a PostgreSQL transaction that has sent nothing before it, and whose queued writes
        are all ``INSERT … VALUES`` of one row, they land only if the guard gives a row, all
        as one statement with neither ``BEGIN`` nor ``COMMIT``; with no row, nothing at all
        was written, the transaction is over and ``NothingWritten`` is raised. Elsewhere
        (begun, another shape queued, SQLite) it is ``write_returning``: the queued writes
        land either way, the transaction goes on, and the answer may be None.
        """
        ...


class Transaction(Queries, Protocol):
    def on_commit(self, hook: CommitHook) -> None: ...

    @property
    def ended(self) -> bool:
        """Whether its last statement ran (``write_last`` on PostgreSQL): nothing more can be
        sent in it. A SQLite transaction never ends before its commit."""
        ...


class NothingWritten(Exception):
    """``write_last_guard``'s guard gave no row: its transaction wrote nothing and is over."""


def row_lock(q: Queries, alias: str, lock: bool = True) -> str:
    """The clause that makes a SELECT lock the rows it reads of ``alias`` until the
    transaction ends, against every other locking read and update of them.

    On PostgreSQL ``FOR NO KEY UPDATE``: keys are never changed, and unlike ``FOR UPDATE`` it
    lets other transactions insert rows that refer to the locked one (a message into a locked
    project). Nothing on SQLite, where a write transaction (``BEGIN IMMEDIATE``) already shuts
    every other writer out until it ends; nothing either when ``lock`` is false.
    """
    return f" FOR NO KEY UPDATE OF {alias}" if lock and q.dialect == "postgresql" else ""


def indexed(dialect: Dialect, source: str, index: str) -> str:
    """``source`` (a table and its alias) told to use ``index`` on SQLite, as it is on
    PostgreSQL.

    Without being told, SQLite chooses between an index and a scan of the table by its
    statistics, if any: statistics taken while a table was nearly empty (an ``ANALYZE`` run
    by hand on a young deployment) made it scan every contact and membership for each
    conversation it read and for each row of the agents' list, every session for each first
    message, every conversation of the project for a visitor's own list
    (docs/performance.md). frontdesk itself never runs ``ANALYZE``; PostgreSQL keeps its
    statistics up to date by itself.
    """
    return f"{source} INDEXED BY {index}" if dialect == "sqlite" else source


def by_key(dialect: Dialect, table: str, alias: str, constraint: int = 1) -> str:
    """``table alias`` for a lookup by the key of ``table``'s ``constraint``-th PRIMARY KEY
    or UNIQUE constraint, as its ``CREATE TABLE`` lists them (``indexed``): SQLite names
    those indexes ``sqlite_autoindex_<table>_<constraint>``."""
    return indexed(dialect, f"{table} {alias}", f"sqlite_autoindex_{table}_{constraint}")


async def _run_hooks(hooks: list[CommitHook]) -> None:
    for hook in hooks:
        result = hook()
        if result is not None:
            await result


async def _run_hooks_logged(hooks: list[CommitHook]) -> None:
    """The hooks of a transaction whose caller no longer waits: an error is logged."""
    try:
        await _run_hooks(hooks)
    except Exception:
        log.exception("a commit hook failed")


@functools.lru_cache(maxsize=2048)
def _sqlite_sql(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class _SQLiteConnection:
    """A sqlite3 connection used from the event loop's thread, opened on first use; the
    writer's also from a thread of its own (``call_off_loop``)."""

    def __init__(self, path: str, name: str, *, read_only: bool = False) -> None:
        self._conn: sqlite3.Connection | None = None
        self._path = path
        self.name = name
        self._read_only = read_only
        self._thread: ThreadPoolExecutor | None = None

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        # The writer never sleeps in SQLite's busy handler on the event loop's thread: a
        # BEGIN that finds the write lock taken waits on its own thread (_begin_waiting).
        conn.execute(f"PRAGMA busy_timeout={_LOCK_WAIT_MS if self._read_only else 0}")
        if self._read_only:
            # Every write goes through the writer: one here would wait for the writer's
            # open group transaction on the event loop's own thread.
            conn.execute("PRAGMA query_only=ON")
        else:
            # The undo copies of a savepoint (every transaction of a group but its first) and
            # of a statement (each write that could fail midway: foreign keys, unique
            # indexes) are kept in memory rather than in temporary files: SQLite otherwise
            # writes them to a file it creates and deletes, 18 of a sign-in's 32 pwrite
            # calls (docs/performance.md). They hold a few pages each; the reader, whose
            # sorts could be large, keeps the default.
            conn.execute("PRAGMA temp_store=MEMORY")
            # Its commits never copy the WAL back into the database file, which ends with an
            # fsync: on the event loop's thread that stalled every request and socket for as
            # long as the disk took. The group commit has a thread do it (_Checkpointer).
            conn.execute("PRAGMA wal_autocheckpoint=0")
        self._conn = conn
        return conn

    def call(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """``fn(connection)``, at once, on the event loop's thread."""
        return fn(self._conn or self._open())

    async def call_off_loop(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """``fn(connection)`` on the connection's own thread while the event loop goes on,
        for a call that may wait on the disk or on another process. The caller keeps
        everyone else off the connection until it returns (the group commit's lock)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        conn = self._conn or self._open()
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, conn)

    async def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _as_dicts(rows: list[sqlite3.Row]) -> list[Row]:
    """Rows as dicts: the names zipped with the values, several times faster for wide rows
    than ``dict(row)``, which looks up every column by its name."""
    if not rows:
        return []
    names = rows[0].keys()
    if len(set(names)) != len(names):
        return [dict(r) for r in rows]  # a repeated name keeps its first column's value
    return [dict(zip(names, r, strict=True)) for r in rows]


def _fetch_all(sql: str, args: Sequence[Any]) -> Callable[[sqlite3.Connection], list[Row]]:
    def run(conn: sqlite3.Connection) -> list[Row]:
        return _as_dicts(conn.execute(_sqlite_sql(sql), args).fetchall())

    return run


def _fetch_tuples(
    sql: str, args: Sequence[Any]
) -> Callable[[sqlite3.Connection], list[Sequence[Any]]]:
    def run(conn: sqlite3.Connection) -> list[Sequence[Any]]:
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples, not the connection's sqlite3.Row
        rows: list[Sequence[Any]] = cursor.execute(_sqlite_sql(sql), args).fetchall()
        return rows

    return run


def _fetch_one(sql: str, args: Sequence[Any]) -> Callable[[sqlite3.Connection], Row | None]:
    def run(conn: sqlite3.Connection) -> Row | None:
        row = conn.execute(_sqlite_sql(sql), args).fetchone()
        return _as_dicts([row])[0] if row is not None else None

    return run


def _fetch_value(sql: str, args: Sequence[Any]) -> Callable[[sqlite3.Connection], Any]:
    def run(conn: sqlite3.Connection) -> Any:
        row = conn.execute(_sqlite_sql(sql), args).fetchone()
        return None if row is None else row[0]  # without making the row a dict first

    return run


def _execute(sql: str, args: Sequence[Any]) -> Callable[[sqlite3.Connection], int]:
    def run(conn: sqlite3.Connection) -> int:
        return conn.execute(_sqlite_sql(sql), args).rowcount

    return run


class _SQLiteQueries:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: _SQLiteConnection) -> None:
        self._conn = conn

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = self._conn.call(_fetch_all(sql, args))
        return rows

    async def fetch_tuples(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = self._conn.call(_fetch_tuples(sql, args))
        return rows

    async def fetch_one(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = self._conn.call(_fetch_one(sql, args))
        return row

    async def fetch_ahead(self, sql: str, *args: Any) -> Row | None:
        return await self.fetch_one(sql, *args)

    async def fetch_value(self, sql: str, *args: Any) -> Any:
        return self._conn.call(_fetch_value(sql, args))

    async def execute(self, sql: str, *args: Any) -> int:
        count: int = self._conn.call(_execute(sql, args))
        return count

    async def execute_later(self, sql: str, *args: Any) -> None:
        # On the event loop's thread a statement costs no round trip: nothing to save.
        self._conn.call(_execute(sql, args))

    async def write_returning(self, sql: str, *args: Any) -> Any:
        return await self.fetch_value(sql, *args)

    write_last = write_returning  # a SQLite transaction has no round trip to save
    write_last_guard = write_returning


class _SQLiteTransaction(_SQLiteQueries):
    ended = False  # its write lock is held to the commit: it can always go on

    def __init__(self, conn: _SQLiteConnection) -> None:
        super().__init__(conn)
        self.hooks: list[CommitHook] = []

    def on_commit(self, hook: CommitHook) -> None:
        self.hooks.append(hook)


class _SQLiteWrite:
    """One write transaction on the writer connection, ``async with``-ed: the write lock and
    a savepoint in the open group transaction (``_GroupCommit``), then, once the group has
    committed, the commit hooks; on an error the savepoint is rolled back and nothing else.
    A class rather than a generator-based context manager, as every write passes here."""

    def __init__(self, group: _GroupCommit) -> None:
        self._group = group
        self._tx = _SQLiteTransaction(group.writer)

    async def __aenter__(self) -> _SQLiteTransaction:
        await self._group.enter()
        return self._tx

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        committed = self._group.leave(failed=exc_type is not None, hooks=self._tx.hooks)
        if committed is None:
            return
        await committed
        await _run_hooks(self._tx.hooks)


class _Checkpointer:
    """Copies the WAL back into the database file on a thread, with a connection of its own.

    SQLite's own checkpoint runs inside a commit every 1,000 WAL pages and ends with an fsync
    of the database file; on the event loop's thread it held every request and socket for as
    long as the disk took (hundreds of milliseconds on a busy disk: docs/performance.md).
    ``passive`` copies what it can and waits for nobody, while the writer goes on. The WAL
    starts over from its beginning only when a write begins after it was copied whole, which
    steady writes never let a passive checkpoint see; ``restart`` copies it whole and waits
    for readers still on it, and is run by the group commit between two transactions.
    """

    def __init__(self, path: str, past_limit: Callable[[], None]) -> None:
        self._path = path
        self._past_limit = past_limit  # called when a passive one finds _WAL_PAGES or more
        self._conn: sqlite3.Connection | None = None
        self._running: asyncio.Task[int] | None = None

    def passive(self) -> asyncio.Task[int] | None:
        """Start a passive checkpoint unless one is running; its task (None if one was)."""
        if self._running is not None and not self._running.done():
            return None
        self._running = asyncio.get_running_loop().create_task(self._checkpoint("PASSIVE"))
        return self._running

    async def restart(self) -> None:
        await self.settle()
        await self._checkpoint("RESTART")

    async def _checkpoint(self, mode: Literal["PASSIVE", "RESTART"]) -> int:
        """The pages the WAL held (0 after an error, which is logged: the next retries)."""
        try:
            pages = await asyncio.to_thread(self._run, mode)
        except sqlite3.Error:
            log.exception("a WAL checkpoint failed")
            return 0
        if mode == "PASSIVE" and pages >= _WAL_PAGES:
            self._past_limit()
        return pages

    def _run(self, mode: Literal["PASSIVE", "RESTART"]) -> int:
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # How long RESTART waits for readers (passive never waits): this process's
            # writes wait as long; should one still read, the WAL starts over another time.
            self._conn.execute("PRAGMA busy_timeout=200")
        [(_, pages, _)] = self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        return int(pages)

    async def settle(self) -> None:
        """Wait for a running checkpoint to end."""
        if self._running is not None:
            await self._running

    async def close(self) -> None:
        await self.settle()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# Commits between passive checkpoints: with the few pages a commit writes, about SQLite's own
# 1,000 WAL pages. Past _WAL_PAGES (40 MB) the WAL is copied whole and started over.
_COMMITS_PER_CHECKPOINT = 100
_WAL_PAGES = 10_000
# How long a write waits for another process's write lock (and a read for a WAL being
# recovered) before it fails with "database is locked".
_LOCK_WAIT_MS = 10_000


class _GroupCommit:
    """Group commit for the writer connection: the write transactions that run while one
    commit is pending share it.

    The first write transaction opens a SQLite transaction (``BEGIN IMMEDIATE``) and every
    later one runs in a savepoint of it, one at a time under the lock. A write
    transaction that ends well releases its savepoint and waits for the commit, which a task
    started by the first one runs once the coroutines already ready to run have had their
    turn: with many requests at once, the writes of those that reached their transaction in
    the meantime leave in one commit, and a page they share (the last leaf of a table, of a
    time-ordered index) is written to the WAL once instead of once each. A write transaction
    that fails rolls back to its savepoint, which undoes its writes alone (the group's first,
    which has none, rolls the SQLite transaction back: it holds nothing else). Nobody learns of a
    write before its commit: its caller waits for it, and its commit hooks (realtime events,
    cache updates) run after it. When the commit itself fails, every write transaction of the
    group fails with its error.

    The database file's write lock is held from the first ``BEGIN IMMEDIATE`` to the commit,
    for one turn of the event loop (a lone transaction used to hold it for its own statements
    only): another process's writer waits that long. Reads on the reader connection never
    wait for it (WAL)."""

    def __init__(self, writer: _SQLiteConnection, path: str) -> None:
        self.writer = writer
        self.checkpointer = _Checkpointer(path, self._restart_soon)
        self._commits = 0  # since the last passive checkpoint began
        self._restart_due = False
        self._lock = asyncio.Lock()
        self._waiting: list[tuple[asyncio.Future[None], list[CommitHook]]] = []
        self._pending = False  # a commit is on its way
        self._committers: set[asyncio.Task[None]] = set()
        self._in_savepoint = False  # the running transaction is a savepoint of the group's

    async def enter(self) -> None:
        await self._lock.acquire()
        try:
            self._in_savepoint = await self._begin()
        except BaseException:
            self._lock.release()
            raise

    async def _begin(self) -> bool:
        """A savepoint in the open group transaction, or its ``BEGIN IMMEDIATE``: whether it
        was a savepoint. The group's first transaction needs none: it fails alone, and then
        the whole SQLite transaction is rolled back."""
        try:
            return bool(self.writer.call(_begin_or_savepoint))
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
        # Another process holds the write lock: wait for it off the event loop.
        return bool(await self.writer.call_off_loop(_begin_waiting))

    def leave(self, *, failed: bool, hooks: list[CommitHook]) -> asyncio.Future[None] | None:
        """End the current write transaction: the future its commit resolves, or None when
        it failed and was undone."""
        committed: asyncio.Future[None] | None = None
        try:
            if failed:
                self.writer.call(
                    _undo_savepoint if self._in_savepoint else _rollback_if_open
                )
            else:
                if self._in_savepoint:
                    self.writer.call(_release_savepoint)
                committed = asyncio.get_running_loop().create_future()
                self._waiting.append((committed, hooks))
            if not self._pending and self.writer.call(_in_transaction):
                self._pending = True
                task = asyncio.get_running_loop().create_task(self._commit_group())
                self._committers.add(task)
                task.add_done_callback(self._committers.discard)
        finally:
            self._lock.release()
        return committed

    async def _commit_group(self) -> None:
        async with self._lock:
            self._pending = False
            waiting, self._waiting = self._waiting, []
            try:
                if waiting:
                    # Writing the WAL can wait for the disk (a page the kernel is writing
                    # back, the WAL's header synced when it starts over): off the event loop.
                    await self.writer.call_off_loop(_commit)
                else:  # no write left to keep (every one failed): the transaction is dropped
                    self.writer.call(_rollback_if_open)
            except Exception as error:
                with contextlib.suppress(sqlite3.Error):  # whatever it answers, all fail
                    self.writer.call(_rollback_if_open)
                for committed, _ in waiting:
                    if not committed.done():
                        committed.set_exception(error)
                return
        self._commits += 1
        if self._commits >= _COMMITS_PER_CHECKPOINT:
            self._commits = 0
            self.checkpointer.passive()
        for committed, hooks in waiting:
            if not committed.done():
                committed.set_result(None)
            elif hooks:  # its caller was cancelled while waiting: its events still leave
                await _run_hooks_logged(hooks)
        if self._restart_due:
            await self._restart_wal()

    def _restart_soon(self) -> None:
        self._restart_due = True

    async def _restart_wal(self) -> None:
        """Copy the WAL whole between two transactions (this process's writes wait, the
        event loop does not), so that the next write starts it over."""
        async with self._lock:
            if self._restart_due and not self.writer.call(_in_transaction):
                self._restart_due = False
                await self.checkpointer.restart()

    async def close(self) -> None:
        """Commit what waits for a commit, run the hooks nobody waits for, and let a running
        checkpoint end."""
        while self._committers:
            await asyncio.gather(*self._committers)
        await self.checkpointer.close()


def _begin_or_savepoint(conn: sqlite3.Connection) -> bool:
    """``BEGIN IMMEDIATE``, or a savepoint when a transaction is open: whether it was one."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT write")
        return True
    conn.execute("BEGIN IMMEDIATE")
    return False


def _begin_waiting(conn: sqlite3.Connection) -> bool:
    """``BEGIN IMMEDIATE`` waiting up to _LOCK_WAIT_MS for another process's write lock."""
    conn.execute(f"PRAGMA busy_timeout={_LOCK_WAIT_MS}")
    try:
        conn.execute("BEGIN IMMEDIATE")
    finally:
        conn.execute("PRAGMA busy_timeout=0")
    return False


def _in_transaction(conn: sqlite3.Connection) -> bool:
    return conn.in_transaction


def _release_savepoint(conn: sqlite3.Connection) -> None:
    conn.execute("RELEASE write")


def _undo_savepoint(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # an error may have rolled the whole transaction back
        conn.execute("ROLLBACK TO write")
        conn.execute("RELEASE write")


def _commit(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")


def _rollback_if_open(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class SQLiteDatabase(_SQLiteQueries):
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._writer = _SQLiteConnection(path, "sqlite-writer")
        self._group = _GroupCommit(self._writer, path)
        # Reads outside a transaction use their own connection so they never see another
        # coroutine's uncommitted writes and never wait behind the writer.
        super().__init__(_SQLiteConnection(path, "sqlite-reader", read_only=True))

    def transaction(self) -> _SQLiteWrite:
        return _SQLiteWrite(self._group)

    async def close(self) -> None:
        await self._group.close()
        await self._writer.close()
        await self._conn.close()


class _PostgresQueries:
    dialect: Dialect = "postgresql"

    def __init__(self, target: Any) -> None:
        self._target = target  # an asyncpg pool or connection

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]:
        return [dict(r) for r in await self._target.fetch(sql, *args)]

    async def fetch_tuples(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = await self._target.fetch(sql, *args)  # Records index too
        return rows

    async def fetch_one(self, sql: str, *args: Any) -> Row | None:
        row = await self._target.fetchrow(sql, *args)
        return dict(row) if row is not None else None

    async def fetch_ahead(self, sql: str, *args: Any) -> Row | None:
        return await self.fetch_one(sql, *args)

    async def fetch_value(self, sql: str, *args: Any) -> Any:
        return await self._target.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        status: str = await self._target.execute(sql, *args)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def execute_later(self, sql: str, *args: Any) -> None:
        await self._target.execute(sql, *args)  # outside a transaction: nothing to join

    async def write_returning(self, sql: str, *args: Any) -> Any:
        return await self._target.fetchval(sql, *args)

    write_last = write_returning  # outside a transaction: one statement anyway
    write_last_guard = write_returning  # outside a transaction nothing is queued


class _PostgresTransaction(_PostgresQueries):
    """A transaction on one pooled connection that costs round trips only for what it runs.

    ``BEGIN`` is sent with the first statement that needs an answer, not on entry. Writes
    queued with ``execute_later`` leave together, as one statement (``_joined``), right
    before that statement or at the commit. A transaction made only of queued writes (a
    sign-in: the membership, the session, the audit row) is therefore one statement and one
    round trip, atomic on its own, with neither ``BEGIN`` nor ``COMMIT``; so is one that
    ends with ``write_last`` before it sent anything (a message: the conversation's update,
    which the message's insert follows within the same statement).
    """

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self.hooks: list[CommitHook] = []
        self._xact: Any = None  # asyncpg's transaction, once begun
        self._queued: list[tuple[str, tuple[Any, ...]]] = []
        self._ended = False  # its last statement (write_last) has run

    def on_commit(self, hook: CommitHook) -> None:
        self.hooks.append(hook)

    async def execute_later(self, sql: str, *args: Any) -> None:
        self._check_open()
        self._queued.append((sql, args))

    @property
    def ended(self) -> bool:
        return self._ended

    def _check_open(self) -> None:
        if self._ended:
            raise RuntimeError("a statement after the transaction's last one (write_last)")

    async def _begin(self) -> None:
        self._check_open()
        if self._xact is None:
            self._xact = self._target.transaction()
            await self._xact.start()

    async def _ready(self) -> None:
        """Begun, with every queued write sent: what the next statement may read."""
        await self._begin()
        if self._queued:
            await self._send_queued()

    async def _send_queued(self) -> None:
        sql, args = _joined(self._queued)
        self._queued = []
        await self._target.execute(sql, *args)

    async def fetch_all(self, sql: str, *args: Any) -> list[Row]:
        await self._ready()
        return await super().fetch_all(sql, *args)

    async def fetch_tuples(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        await self._ready()
        return await super().fetch_tuples(sql, *args)

    async def fetch_one(self, sql: str, *args: Any) -> Row | None:
        await self._ready()
        return await super().fetch_one(sql, *args)

    async def fetch_ahead(self, sql: str, *args: Any) -> Row | None:
        if self._xact is not None or self._queued:
            return await self.fetch_one(sql, *args)
        self._check_open()
        return await super().fetch_one(sql, *args)  # not begun: outside the transaction

    async def fetch_value(self, sql: str, *args: Any) -> Any:
        await self._ready()
        return await super().fetch_value(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        await self._ready()
        return await super().execute(sql, *args)

    async def write_returning(self, sql: str, *args: Any) -> Any:
        await self._begin()
        self._queued.append((sql, args))  # the last part: its RETURNING is the answer
        joined, values = _joined(self._queued)
        self._queued = []
        return await self._target.fetchval(joined, *values)

    async def write_last(self, sql: str, *args: Any) -> Any:
        if self._xact is not None:
            value = await self.write_returning(sql, *args)
        else:  # nothing sent yet: this statement is the whole transaction
            self._check_open()
            joined, values = _joined([*self._queued, (sql, args)])
            self._queued = []
            value = await self._target.fetchval(joined, *values)
        self._ended = True
        return value

    async def write_last_guard(self, sql: str, *args: Any) -> Any:
        guarded = None if self._xact is not None else _guarded_text(
            sql, len(args), tuple((part, len(values)) for part, values in self._queued))
        if guarded is None:
            return await self.write_returning(sql, *args)
        self._check_open()
        values = [*args, *(value for _, queued in self._queued for value in queued)]
        self._queued = []
        self._ended = True
        value = await self._target.fetchval(guarded, *values)
        if value is None:
            raise NothingWritten
        return value

    async def commit(self) -> None:
        """Send what is queued and commit; on an error the caller rolls back."""
        if self._queued:
            # Not begun: one statement, atomic without a transaction around it.
            await self._send_queued()
        if self._xact is not None:
            xact, self._xact = self._xact, None  # over, whatever COMMIT answers
            await xact.commit()

    async def rollback(self) -> None:
        self._queued = []
        if self._xact is not None:
            xact, self._xact = self._xact, None
            await xact.rollback()


def _joined(writes: list[tuple[str, tuple[Any, ...]]]) -> tuple[str, list[Any]]:
    """Writes as one statement: all but the last as data-modifying ``WITH`` parts, whose
    parameters are renumbered after those before them. PostgreSQL runs every part to
    completion whether or not anything reads it."""
    if len(writes) == 1:
        sql, args = writes[0]
        return sql, list(args)
    text = _joined_text(tuple((sql, len(args)) for sql, args in writes))
    return text, [arg for _, args in writes for arg in args]


@functools.lru_cache(maxsize=256)
def _joined_text(shapes: tuple[tuple[str, int], ...]) -> str:
    parts: list[str] = []
    offset = 0
    for sql, count in shapes:
        parts.append(_renumbered(sql, offset))
        offset += count
    head = ", ".join(f"queued_{i} AS ({part})" for i, part in enumerate(parts[:-1]))
    return f"WITH {head} {parts[-1]}"


# One row's insert as ``execute_later`` queues it (rows.NewRow.insert, or written out), with
# what may follow its values: an ``ON CONFLICT`` clause.
_ONE_ROW_INSERT = re.compile(r"(INSERT INTO \w+ \([\w, ]+\)) VALUES \(([^()]*)\)(.*)", re.S)


@functools.lru_cache(maxsize=256)
def _guarded_text(guard: str, count: int, shapes: tuple[tuple[str, int], ...]) -> str | None:
    """``guard`` (a write ``RETURNING`` one column, with ``count`` parameters) and, after it,
    the one-row inserts ``shapes`` (their text and count of parameters), as one statement
    whose inserts select their values from ``guard``'s rows: each writes only if ``guard``
    gave a row. None when one of them is not such an insert."""
    parts = [f"guard AS ({guard})"]
    offset = count
    for i, (sql, values) in enumerate(shapes):
        matched = _ONE_ROW_INSERT.fullmatch(sql)
        if matched is None:
            return None
        into, listed, rest = matched.groups()
        # WHERE true: so that an ON CONFLICT after it cannot be read as a join's ON.
        insert = f"{into} SELECT {listed} FROM guard WHERE true{rest}"  # noqa: S608
        parts.append(f"queued_{i} AS ({_renumbered(insert, offset)})")
        offset += values
    return f"WITH {', '.join(parts)} SELECT * FROM guard"  # noqa: S608 - text of this package


def _renumbered(sql: str, offset: int) -> str:
    return re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + offset}", sql)


async def _keep_session(conn: Any) -> None:
    """A connection going back to the pool keeps its session as it is.

    asyncpg's default sends ``RESET ALL``, ``UNLISTEN *``, ``CLOSE ALL`` and unlocks session
    advisory locks each time: one more round trip for every transaction and every read
    outside one. frontdesk leaves none of that behind (no ``SET``, ``LISTEN``, cursor or
    session-level lock; the migration lock is a transaction's), and asyncpg still rolls back
    a transaction left open before calling this.
    """


class PostgresDatabase(_PostgresQueries):
    def __init__(self, pool: Any) -> None:
        super().__init__(pool)
        self.pool = pool

    @classmethod
    async def connect(
        cls, url: str, *, schema: str | None = None, min_size: int = 2, max_size: int = 10
    ) -> PostgresDatabase:
        asyncpg = import_extra("asyncpg", extra="postgres", wanted_by="FRONTDESK_DATABASE_URL")
        settings = {"search_path": schema} if schema else {}
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, server_settings=settings,
            reset=_keep_session,
        )
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresTransaction]:
        async with self.pool.acquire() as conn:
            tx = _PostgresTransaction(conn)
            try:
                yield tx
                await tx.commit()
            except BaseException:
                await asyncio.shield(tx.rollback())
                raise
        await _run_hooks(tx.hooks)

    async def close(self) -> None:
        await self.pool.close()


async def open_database(
    url: str, *, schema: str | None = None, pool_size: int = 10
) -> Database:
    """Open the database a URL names: ``sqlite:///path`` or ``postgresql://…`` (with at most
    ``pool_size`` connections)."""
    if is_postgresql(url):
        return await PostgresDatabase.connect(
            url, schema=schema, min_size=min(2, pool_size), max_size=pool_size)
    return SQLiteDatabase(sqlite_path(url))


def is_postgresql(url: str) -> bool:
    """Whether a database URL names PostgreSQL (else it names a SQLite file)."""
    return url.startswith(("postgresql:", "postgres:"))


def sqlite_path(url: str) -> str:
    """The file a ``sqlite:`` URL names (``:memory:`` when it names none)."""
    parsed = urlparse(url)
    path = parsed.path if parsed.netloc == "" else parsed.netloc + parsed.path
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
    return path or ":memory:"


Database = SQLiteDatabase | PostgresDatabase
