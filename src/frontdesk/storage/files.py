"""Files sent in conversations: their rows, and where their bytes live.

A file's row says who uploaded it and, once a message carries it, the conversation and
message it belongs to. Its bytes live in a ``BlobStore`` chosen by the database URL, so that
every process sharing the data shares the files too:

- ``DirectoryBlobs`` (SQLite): ``<database file>.files/<file id>/<variant>``, a path made of
  ids only, never of a client's file name;
- ``DatabaseBlobs`` (PostgreSQL): rows of ``file_chunks``, at most ``CHUNK_BYTES`` each.

Both write inside the caller's transaction where they can (chunks) or right before it
(files, removed again if it fails), delete only once it has committed (files) or within it
(chunks), and read a variant back as a stream of chunks, never whole.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, cast

import anyio
import anyio.to_thread

from frontdesk.ids import is_object_id
from frontdesk.storage.database import Database, Queries, SQLiteDatabase, Transaction, row_lock
from frontdesk.storage.rows import decode, decode_all, encode

UploaderKind = Literal["visitor", "agent"]
Variant = Literal["original", "thumbnail"]
VARIANTS: tuple[Variant, ...] = ("original", "thumbnail")
CHUNK_BYTES = 256 * 1024


class FileRecord(TypedDict):
    """A row of ``files``; ``variants`` decoded."""

    id: str
    project_id: str
    uploader_id: str
    uploader_kind: UploaderKind
    request_id: str | None
    message_id: str | None
    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    variants: list[Variant]
    created_at: int


_JSON = ("variants",)


async def insert_file(q: Queries, f: FileRecord) -> None:
    await q.execute(
        "INSERT INTO files (id, project_id, uploader_id, uploader_kind, request_id, message_id,"
        " name, content_type, size, width, height, variants, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        f["id"], f["project_id"], f["uploader_id"], f["uploader_kind"], f["request_id"],
        f["message_id"], f["name"], f["content_type"], f["size"], f["width"], f["height"],
        encode(f["variants"]), f["created_at"],
    )


async def get_file(q: Queries, project_id: str, file_id: str, *, lock: bool = False) -> (
    FileRecord | None
):
    row = await q.fetch_one(
        "SELECT * FROM files f WHERE project_id = $1 AND id = $2" + row_lock(q, "f", lock),  # noqa: S608
        project_id, file_id,
    )
    return cast("FileRecord | None", decode(row, _JSON))


async def bind_file(q: Queries, file_id: str, request_id: str, message_id: str) -> None:
    await q.execute(
        "UPDATE files SET request_id = $2, message_id = $3 WHERE id = $1",
        file_id, request_id, message_id,
    )


async def files_of_requests(q: Queries, request_ids: list[str]) -> list[FileRecord]:
    found: list[Any] = []
    for request_id in request_ids:
        found += await q.fetch_all(
            "SELECT * FROM files WHERE request_id = $1 ORDER BY created_at, id", request_id
        )
    return cast("list[FileRecord]", decode_all(found, _JSON))


async def unbound_files_of_uploader(
    q: Queries, project_id: str, uploader_id: str
) -> list[FileRecord]:
    rows = await q.fetch_all(
        "SELECT * FROM files WHERE project_id = $1 AND uploader_id = $2 AND request_id IS NULL"
        " ORDER BY created_at, id",
        project_id, uploader_id,
    )
    return cast("list[FileRecord]", decode_all(rows, _JSON))


async def unbound_files_before(q: Queries, cutoff: int, limit: int) -> list[FileRecord]:
    """Uploads no message took up, made before ``cutoff`` (epoch ms)."""
    rows = await q.fetch_all(
        "SELECT * FROM files WHERE request_id IS NULL AND created_at < $1"
        " ORDER BY created_at LIMIT $2",
        cutoff, limit,
    )
    return cast("list[FileRecord]", decode_all(rows, _JSON))


async def file_exists(q: Queries, file_id: str) -> bool:
    return await q.fetch_value("SELECT 1 FROM files WHERE id = $1", file_id) is not None


async def delete_file_rows(q: Queries, file_ids: list[str]) -> None:
    for file_id in file_ids:
        await q.execute("DELETE FROM files WHERE id = $1", file_id)


class BlobStore(Protocol):
    """Where the bytes of files live; keyed by file id and variant."""

    async def put(self, tx: Transaction, file_id: str, variant: Variant, source: Path) -> None:
        """Store the file at ``source`` as ``variant`` of ``file_id`` with ``tx``; if ``tx``
        does not commit, the caller calls ``discard``."""

    def discard(self, file_id: str) -> None:
        """Remove what ``put`` stored for a file whose row was never committed."""

    def read(self, q: Queries, file_id: str, variant: Variant) -> AsyncIterator[bytes]:
        """The stored bytes, chunk by chunk; nothing when there are none."""

    async def delete(self, tx: Transaction, file_ids: list[str]) -> None:
        """Remove every variant of these files once ``tx`` commits (or within it)."""

    async def exists(self, q: Queries, file_id: str, variant: Variant) -> bool: ...


class DirectoryBlobs:
    """Files under a directory: ``<root>/<file id>/<variant>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, file_id: str, variant: Variant) -> Path:
        # Ids only: checked here so that no caller can ever make this leave the root.
        if not is_object_id(file_id) or variant not in VARIANTS:
            raise ValueError(f"not a file key: {file_id!r} {variant!r}")
        return self.root / file_id / variant

    async def put(self, tx: Transaction, file_id: str, variant: Variant, source: Path) -> None:
        await anyio.to_thread.run_sync(self._copy, source, self.path(file_id, variant))

    @staticmethod
    def _copy(source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with open(source, "rb") as src, open(partial, "wb") as out:
            shutil.copyfileobj(src, out, CHUNK_BYTES)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)

    async def read(self, q: Queries, file_id: str, variant: Variant) -> AsyncIterator[bytes]:
        try:
            handle = await anyio.open_file(self.path(file_id, variant), "rb")
        except FileNotFoundError:
            return
        async with handle:
            while chunk := await handle.read(CHUNK_BYTES):
                yield chunk

    async def delete(self, tx: Transaction, file_ids: list[str]) -> None:
        folders = [self.path(file_id, "original").parent for file_id in file_ids]
        tx.on_commit(lambda: self.remove(folders))

    def remove(self, folders: list[Path]) -> None:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    def discard(self, file_id: str) -> None:
        self.remove([self.path(file_id, "original").parent])

    async def exists(self, q: Queries, file_id: str, variant: Variant) -> bool:
        return self.path(file_id, variant).is_file()

    def stored_before(self, cutoff: float) -> list[str]:
        """Ids of the files whose folder was last changed before ``cutoff`` (epoch s)."""
        if not self.root.is_dir():
            return []
        return [
            folder.name for folder in self.root.iterdir()
            if is_object_id(folder.name) and folder.stat().st_mtime < cutoff
        ]


class DatabaseBlobs:
    """Files as rows of ``file_chunks``, written and deleted in the caller's transaction."""

    async def put(self, tx: Transaction, file_id: str, variant: Variant, source: Path) -> None:
        seq = 0
        async with await anyio.open_file(source, "rb") as handle:
            while chunk := await handle.read(CHUNK_BYTES):
                await tx.execute(
                    "INSERT INTO file_chunks (file_id, variant, seq, data)"
                    " VALUES ($1, $2, $3, $4)",
                    file_id, variant, seq, chunk,
                )
                seq += 1

    async def read(self, q: Queries, file_id: str, variant: Variant) -> AsyncIterator[bytes]:
        seq = 0
        while True:
            data = await q.fetch_value(
                "SELECT data FROM file_chunks WHERE file_id = $1 AND variant = $2 AND seq = $3",
                file_id, variant, seq,
            )
            if data is None:
                return
            yield bytes(data)
            seq += 1

    async def delete(self, tx: Transaction, file_ids: list[str]) -> None:
        for file_id in file_ids:
            await tx.execute("DELETE FROM file_chunks WHERE file_id = $1", file_id)

    def discard(self, file_id: str) -> None:
        pass  # the chunks went with the transaction that failed

    async def exists(self, q: Queries, file_id: str, variant: Variant) -> bool:
        found = await q.fetch_value(
            "SELECT 1 FROM file_chunks WHERE file_id = $1 AND variant = $2 AND seq = 0",
            file_id, variant,
        )
        return found is not None


def blob_store(db: Database, data_dir: Path) -> DirectoryBlobs | DatabaseBlobs:
    """The store for a database: chunks in PostgreSQL; with SQLite, files in a folder beside
    the database file (``frontdesk.db`` → ``frontdesk.db.files/``), so that every process
    sharing the file shares its files, and two databases in one folder never mix theirs."""
    if not isinstance(db, SQLiteDatabase):
        return DatabaseBlobs()
    if db.path == ":memory:":
        return DirectoryBlobs(data_dir / "files")
    database = Path(db.path)
    return DirectoryBlobs(database.with_name(database.name + ".files"))
