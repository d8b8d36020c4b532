"""SQLite's group commit: write transactions that run while a commit is pending share it.

Each write transaction is a savepoint of one SQLite transaction; the commit comes once the
coroutines ready to run have had their turn. These tests watch the statements the writer
connection runs (``set_trace_callback``) and read the file through a connection of their own,
which sees committed data only.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from frontdesk.storage import database
from frontdesk.storage.database import SQLiteDatabase

ROWS = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"


class Writer:
    """A database on a file, with the statements of its writer connection recorded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = SQLiteDatabase(str(path))
        self.statements: list[str] = []

    async def start(self, schema: str = ROWS) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(schema)
        conn = self.db._writer._conn  # the test watches the writer itself
        assert conn is not None
        conn.set_trace_callback(self.statements.append)

    def commits(self) -> int:
        return self.statements.count("COMMIT")

    def committed(self) -> list[str]:
        """The bodies a separate connection reads: what has been committed."""
        with closing(sqlite3.connect(self.path)) as conn:
            return [body for (body,) in conn.execute("SELECT body FROM notes ORDER BY id")]

    async def add(self, body: str, *, fail: bool = False) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ($1)", body)
            if fail:
                raise RuntimeError(f"{body} fails")


def run(path: Path, scenario: Any) -> Any:
    async def main() -> Any:
        writer = Writer(path)
        try:
            return await scenario(writer)
        finally:
            await writer.db.close()

    return asyncio.run(main())


def test_concurrent_transactions_share_one_commit(tmp_path: Path) -> None:
    async def scenario(w: Writer) -> tuple[int, list[str]]:
        await w.start()
        await asyncio.gather(*(w.add(f"note {n}") for n in range(10)))
        return w.commits(), w.committed()

    commits, committed = run(tmp_path / "db", scenario)
    assert commits == 1
    assert committed == [f"note {n}" for n in range(10)]


def test_a_transaction_returns_only_once_its_writes_are_committed(tmp_path: Path) -> None:
    async def scenario(w: Writer) -> list[list[str]]:
        await w.start()
        seen: list[list[str]] = []

        async def add_and_look(body: str) -> None:
            await w.add(body)
            seen.append(w.committed())

        await asyncio.gather(add_and_look("first"), add_and_look("second"))
        await add_and_look("third")  # alone: a group of one
        return seen

    seen = run(tmp_path / "db", scenario)
    assert seen == [["first", "second"], ["first", "second"], ["first", "second", "third"]]


def test_a_failing_transaction_undoes_its_own_writes_only(tmp_path: Path) -> None:
    async def scenario(w: Writer) -> tuple[list[Any], list[str], int]:
        await w.start()
        outcomes = await asyncio.gather(
            w.add("kept 1"), w.add("doomed", fail=True), w.add("kept 2"),
            w.add("kept 1"),  # UNIQUE: the statement fails, the group goes on
            return_exceptions=True,
        )
        return outcomes, w.committed(), w.commits()

    outcomes, committed, commits = run(tmp_path / "db", scenario)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], RuntimeError)
    assert isinstance(outcomes[3], sqlite3.IntegrityError)
    assert committed == ["kept 1", "kept 2"] and commits == 1


def test_a_group_of_failures_commits_nothing_and_the_writer_goes_on(tmp_path: Path) -> None:
    async def scenario(w: Writer) -> tuple[list[str], list[str]]:
        await w.start()
        await asyncio.gather(w.add("a", fail=True), w.add("b", fail=True),
                             return_exceptions=True)
        before = w.committed()
        await w.add("after")
        return before, w.committed()

    before, after = run(tmp_path / "db", scenario)
    assert before == [] and after == ["after"]


def test_when_the_commit_fails_every_transaction_of_the_group_fails(tmp_path: Path) -> None:
    # A deferred foreign key is checked at COMMIT, not when its savepoint is released: one
    # transaction's dangling reference makes the whole group's commit fail.
    schema = ("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE,"
              " parent INTEGER REFERENCES notes (id) DEFERRABLE INITIALLY DEFERRED)")

    async def scenario(w: Writer) -> tuple[list[Any], list[str], list[str]]:
        await w.start(schema)

        async def dangling() -> None:
            async with w.db.transaction() as tx:
                await tx.execute("INSERT INTO notes (body, parent) VALUES ('orphan', 999)")

        fired: list[str] = []

        async def with_hook(body: str) -> None:
            async with w.db.transaction() as tx:
                await tx.execute("INSERT INTO notes (body) VALUES ($1)", body)
                tx.on_commit(lambda: fired.append(body))

        outcomes = await asyncio.gather(with_hook("a"), dangling(), with_hook("b"),
                                        return_exceptions=True)
        lost = w.committed()
        await with_hook("after")
        return outcomes, lost, fired + w.committed()

    outcomes, lost, after = run(tmp_path / "db", scenario)
    assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes), outcomes
    assert lost == []
    assert after == ["after", "after"]  # the hook of the failed group never ran


def test_hooks_run_after_the_commit_even_for_a_caller_that_gave_up(tmp_path: Path) -> None:
    async def scenario(w: Writer) -> tuple[list[tuple[str, list[str]]], list[str]]:
        await w.start()
        fired: list[tuple[str, list[str]]] = []

        async def add(body: str) -> None:
            async with w.db.transaction() as tx:
                await tx.execute("INSERT INTO notes (body) VALUES ($1)", body)
                tx.on_commit(lambda: fired.append((body, w.committed())))

        patient = asyncio.ensure_future(add("patient"))
        impatient = asyncio.ensure_future(add("impatient"))
        await asyncio.sleep(0)  # both are in their transaction's wait for the commit now
        impatient.cancel()
        await patient
        with pytest.raises(asyncio.CancelledError):
            await impatient
        await w.db.close()  # lets the group's last hooks finish
        return fired, w.committed()

    fired, committed = run(tmp_path / "db", scenario)
    assert committed == ["patient", "impatient"]
    assert sorted(fired) == [("impatient", ["patient", "impatient"]),
                             ("patient", ["patient", "impatient"])]


def test_the_reader_connection_refuses_writes(tmp_path: Path) -> None:
    async def scenario(w: Writer) -> list[str]:
        await w.start()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await w.db.execute("INSERT INTO notes (body) VALUES ('outside a transaction')")
        return w.committed()

    assert run(tmp_path / "db", scenario) == []



async def _passive(writer: Writer) -> int:
    """A passive checkpoint of the writer's own: the pages the WAL holds."""
    task = writer.db._group.checkpointer.passive()
    assert task is not None
    return await task


def test_commits_leave_the_checkpoints_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's commits never copy the WAL into the database file (that ends with an
    fsync, which would stall the event loop); a thread does, every hundred commits."""
    ran: list[str] = []
    real = database._Checkpointer._run

    def counted(self: Any, mode: str) -> int:
        ran.append(mode)
        return real(self, mode)

    monkeypatch.setattr(database._Checkpointer, "_run", counted)

    async def scenario(writer: Writer) -> int:
        await writer.start()  # the first commit
        for i in range(249):  # one at a time: 250 commits in all
            await writer.add(f"note {i}")
            await writer.db._group.checkpointer.settle()  # one checkpoint at a time
        return int(writer.db._writer.call(
            lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone()[0]))

    assert run(tmp_path / "db", scenario) == 0
    assert ran == ["PASSIVE", "PASSIVE"]



def test_a_wal_past_its_limit_is_copied_whole_and_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under steady writes a passive checkpoint never sees the WAL copied whole, and the WAL,
    which starts over only when a write begins after that, would grow with every commit.
    A passive checkpoint that finds it past its limit has the group commit copy it whole
    between two transactions (``RESTART``): the next write starts it over."""
    monkeypatch.setattr(database, "_WAL_PAGES", 5)
    monkeypatch.setattr(database, "_COMMITS_PER_CHECKPOINT", 10**9)  # none on their own

    async def scenario(writer: Writer) -> list[int]:
        await writer.start()
        with closing(sqlite3.connect(writer.path, isolation_level=None)) as reader:
            # A reader on an early snapshot keeps the passive checkpoint from copying the
            # rest, as the writes that go on during a checkpoint do.
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM notes").fetchall()
            for i in range(50):
                await writer.add(f"note {i}")
            grown = await _passive(writer)  # past the limit; copies none of it
            reader.execute("COMMIT")
        await writer.add("the commit after which it is copied whole")
        await writer.add("the write that starts it over")
        return [grown, await _passive(writer)]

    grown, after = run(tmp_path / "db", scenario)
    assert grown >= 50
    assert after <= 3  # without the copy: every page of the 52 commits


async def _longest_stall(work: Any) -> tuple[Any, float]:
    """What ``work`` returns, and the longest the event loop went without running a ticker
    that asks for a turn every millisecond meanwhile (seconds)."""
    loop = asyncio.get_running_loop()
    longest = 0.0
    done = False

    async def tick() -> None:
        nonlocal longest
        last = loop.time()
        while not done:
            await asyncio.sleep(0.001)
            now = loop.time()
            longest, last = max(longest, now - last), now

    ticker = asyncio.ensure_future(tick())
    await asyncio.sleep(0)
    try:
        result = await work
    finally:
        done = True
        await ticker
    return result, longest


def test_the_commit_waits_for_the_disk_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing the WAL at a commit can wait for the disk (a page the kernel is writing back,
    the WAL's header synced when it starts over): a commit made slow here must not hold the
    event loop, only the transactions that wait for it."""
    real = database._commit

    def slow_commit(conn: sqlite3.Connection) -> None:
        time.sleep(0.3)  # a disk that takes its time
        real(conn)

    monkeypatch.setattr(database, "_commit", slow_commit)

    async def scenario(w: Writer) -> tuple[float, list[str]]:
        await w.start()
        _, stall = await _longest_stall(asyncio.gather(w.add("a"), w.add("b")))
        return stall, w.committed()

    stall, committed = run(tmp_path / "db", scenario)
    assert committed == ["a", "b"]
    assert stall < 0.2, f"the event loop stalled {stall * 1000:.0f} ms"


def test_a_write_waits_for_another_process_lock_off_the_event_loop(tmp_path: Path) -> None:
    """Another process (here a connection of the test's own) holds the write lock for a
    while: the write waits for it, and meanwhile the event loop goes on."""

    async def scenario(w: Writer) -> tuple[float, list[str]]:
        await w.start()
        other = sqlite3.connect(w.path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO notes (body) VALUES ('the other process')")
        release = threading.Timer(0.4, lambda: (other.execute("COMMIT"), other.close()))
        release.start()
        try:
            _, stall = await _longest_stall(w.add("mine"))
        finally:
            release.join()
        return stall, w.committed()

    stall, committed = run(tmp_path / "db", scenario)
    assert committed == ["the other process", "mine"]
    assert stall < 0.2, f"the event loop stalled {stall * 1000:.0f} ms"
