"""Files in conversations: upload, who may read one, binding to a message, erasure.

A file is uploaded before the message that carries it. Until a message references it, it
belongs to its uploader (a visitor or an agent) in its project; the first message whose
``metadata`` names it binds it to that message's conversation, and only its uploader may send
that message. Readers: the project's agents, the uploader of an unbound file, and the visitor
of the conversation a bound file is in (which follows the conversation through a merge).

Bytes are served through signed URLs (``auth.file_urls``): a client with a token asks
``GET /{pid}/files/{fid}`` for URLs signed for itself, usable in ``<img src>`` for
``FRONTDESK_FILE_URL_TTL`` seconds.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread

from frontdesk.actions.access import ProjectAccess
from frontdesk.actions.file_content import Inspected, inspect
from frontdesk.auth.file_urls import Reader
from frontdesk.auth.principals import ROLE_RANK, Agent
from frontdesk.errors import Conflict, Forbidden, NotFound, ValidationFailed
from frontdesk.ids import is_object_id
from frontdesk.models.files import (
    FileMetadataPublic,
    FilePublic,
    FileUploadedPublic,
    file_metadata,
    present_file,
)
from frontdesk.services import Services
from frontdesk.storage import files, project_users, requests
from frontdesk.storage.database import Queries, Transaction
from frontdesk.storage.files import DirectoryBlobs, FileRecord, Variant
from frontdesk.storage.projects import ProjectRecord
from frontdesk.storage.requests import RequestRecord

FILE_MESSAGE_TYPES = ("image", "file")
_FILE_PATH = re.compile(r"/([0-9a-f]{24})/files/([0-9a-f]{24})/?")
_HOUR_MS = 3600 * 1000


def upload_limit(services: Services, project: ProjectRecord) -> int:
    """The largest upload the project takes: the server's limit, or the project's lower one."""
    limit = services.settings.max_upload_bytes
    own = project["settings"].get("max_upload_bytes")
    return min(limit, int(own)) if isinstance(own, int) and own > 0 else limit


def upload_folder(services: Services) -> Path:
    """Where uploads wait while they arrive and are inspected: on disk, beside the data."""
    return services.settings.data_dir / "uploads"


async def check_upload(
    services: Services, access: ProjectAccess, path: Path, raw_name: str | None, declared: str
) -> FileUploadedPublic:
    """Inspect the upload at ``path`` and store what is kept of it; its descriptor.

    Raises as ``file_content`` says (415 ``file_type_not_allowed``, ``file_type_mismatch``;
    422 ``image_invalid``, ``image_too_large``). Every temporary file is gone afterwards.
    """
    work = functools.partial(
        inspect, path, raw_name, declared, max_pixels=services.settings.max_image_pixels
    )
    inspected: Inspected | None = None
    try:
        # Decoding an image may take up to 4 bytes a pixel: bounded, like the CPU it takes.
        inspected = await anyio.to_thread.run_sync(work, limiter=services.file_inspections)
        record = await _store(services, access, inspected)
    finally:
        leftovers = [path]
        if inspected is not None:
            leftovers += [inspected.path] + ([inspected.thumbnail] if inspected.thumbnail else [])
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
    return {
        **signed_view(services, record, Reader.of(access.principal)),
        "success": True,
        "message": "File uploaded successfully",
        "filename": f"{record['id']}/{record['name']}",
    }


async def _store(services: Services, access: ProjectAccess, inspected: Inspected) -> FileRecord:
    principal = access.principal
    record: FileRecord = {
        "id": services.ids.object_id(),
        "project_id": access.project["id"],
        "uploader_id": principal.id,
        "uploader_kind": "agent" if isinstance(principal, Agent) else "visitor",
        "request_id": None,
        "message_id": None,
        "name": inspected.name,
        "content_type": inspected.content_type,
        "size": inspected.size,
        "width": inspected.width,
        "height": inspected.height,
        "variants": ["original", "thumbnail"] if inspected.thumbnail else ["original"],
        "created_at": services.now_ms(),
    }
    try:
        async with services.db.transaction() as tx:
            await files.insert_file(tx, record)
            await services.blobs.put(tx, record["id"], "original", inspected.path)
            if inspected.thumbnail is not None:
                await services.blobs.put(tx, record["id"], "thumbnail", inspected.thumbnail)
    except BaseException:
        services.blobs.discard(record["id"])
        raise
    return record


def signed_view(services: Services, f: FileRecord, reader: Reader) -> FilePublic:
    """The file with download URLs signed for ``reader``."""
    expires = int(services.clock.now()) + services.settings.file_url_ttl
    base = services.settings.base_url

    def url(variant: Variant) -> str:
        query = services.file_urls.query(f["project_id"], f["id"], variant, reader, expires)
        path = "download" if variant == "original" else variant
        return f"{base}/{f['project_id']}/files/{f['id']}/{path}?{query}"

    thumbnail = url("thumbnail") if "thumbnail" in f["variants"] else None
    return present_file(base, f, url=url("original"), thumbnail_url=thumbnail,
                        expires_at=expires * 1000)


async def access_file(services: Services, access: ProjectAccess, file_id: str) -> FilePublic:
    """The file with URLs signed for the caller, if the caller may read it.

    Raises NotFound(file_not_found), Forbidden(not_your_file)."""
    f = await _file(services, access.project["id"], file_id)
    reader = Reader.of(access.principal)
    await check_reader(services.db, f, reader)
    return signed_view(services, f, reader)


async def open_signed(
    services: Services,
    project_id: str,
    file_id: str,
    variant: Variant,
    *,
    reader: str,
    expires: str,
    sig: str,
) -> tuple[FileRecord, AsyncIterator[bytes]]:
    """A file's ``variant`` for a signed URL: its row and its bytes as a stream.

    Raises Unauthorized (``bad_file_signature``, ``file_url_expired``), then NotFound
    (``file_not_found``, ``no_thumbnail``) and Forbidden as ``check_reader``.
    """
    who = services.file_urls.verify(project_id, file_id, variant, reader=reader,
                                    expires=expires, sig=sig, now=services.clock.now())
    return await open_for(services, project_id, file_id, variant, who)


async def open_for(
    services: Services, project_id: str, file_id: str, variant: Variant, reader: Reader
) -> tuple[FileRecord, AsyncIterator[bytes]]:
    """A file's ``variant`` for ``reader``: its row and its bytes as a stream."""
    f = await _file(services, project_id, file_id)
    await check_reader(services.db, f, reader)
    if variant not in f["variants"]:
        raise NotFound("only images have a thumbnail", code="no_thumbnail")
    if not await services.blobs.exists(services.db, f["id"], variant):
        # Only after a restore that brought the database back without the files folder.
        raise NotFound(f"the bytes of file {file_id!r} are missing", code="file_bytes_missing")
    return f, services.blobs.read(services.db, f["id"], variant)


async def _file(services: Services, project_id: str, file_id: str) -> FileRecord:
    f = await files.get_file(services.db, project_id, file_id) if is_object_id(file_id) else None
    if f is None:
        raise NotFound(f"no file {file_id!r} in this project", code="file_not_found")
    return f


async def check_reader(q: Queries, f: FileRecord, reader: Reader) -> None:
    """Whether ``reader`` may read ``f`` now. Raises Forbidden: ``not_a_member`` (an agent
    outside the project), ``not_your_file``."""
    if reader.kind == "agent":
        member = await project_users.get_membership(q, f["project_id"], reader.id)
        if member is None or member["role"] not in ROLE_RANK:
            raise Forbidden("you are not a member of this project", code="not_a_member")
        return
    if f["request_id"] is None:
        if f["uploader_kind"] == "visitor" and f["uploader_id"] == reader.id:
            return
    else:
        row = await requests.get_request(q, f["project_id"], f["request_id"])
        if row is not None and _visitor_of(row, reader.id):
            return
    raise Forbidden("this file belongs to someone else", code="not_your_file")


def _visitor_of(row: RequestRecord, visitor_id: str) -> bool:
    lead = row["lead"]
    return row["requester_user_id"] == visitor_id or (
        lead is not None and lead["lead_id"] == visitor_id
    )


def referenced_file(project_id: str, metadata: Any) -> str | None:
    """The id of the file a message's metadata names (``fileId``, or ``src`` as this server
    writes it), None when it names none. Raises ValidationFailed(unknown_file) for a file
    URL of another project."""
    if not isinstance(metadata, dict):
        return None
    file_id = metadata.get("fileId")
    src = metadata.get("src")
    if file_id is None and isinstance(src, str):
        match = _FILE_PATH.fullmatch(urlsplit(src).path)
        if match is not None:
            if match.group(1) != project_id:
                raise ValidationFailed("this file is not in this project", code="unknown_file")
            file_id = match.group(2)
    if file_id is not None and not (isinstance(file_id, str) and is_object_id(file_id)):
        raise ValidationFailed("metadata.fileId is not a file id", code="unknown_file")
    return file_id


async def do_attach_file(
    services: Services,
    tx: Transaction,
    access: ProjectAccess,
    row: RequestRecord,
    message_type: str,
    metadata: Any,
    message_id: str,
) -> FileMetadataPublic | Any:
    """The metadata to store with a message: for a message naming a file, the file's own
    (binding an unbound file to the conversation and message); else ``metadata`` unchanged.

    Raises ValidationFailed: ``file_required`` (an image or file message naming no file),
    ``unknown_file``, ``not_an_image``; Forbidden(not_your_file) for a file its sender did not
    upload; Conflict(file_in_another_conversation).
    """
    project_id = access.project["id"]
    file_id = referenced_file(project_id, metadata)
    if file_id is None:
        if message_type in FILE_MESSAGE_TYPES:
            raise ValidationFailed(
                f"a message of type {message_type} carries an uploaded file: upload it to "
                f"/{project_id}/files/chat and send its metadata",
                code="file_required",
            )
        return metadata
    f = await files.get_file(tx, project_id, file_id, lock=True)
    if f is None:
        raise ValidationFailed(f"no file {file_id!r} in this project", code="unknown_file")
    principal = access.principal
    kind = "agent" if isinstance(principal, Agent) else "visitor"
    if (f["uploader_kind"], f["uploader_id"]) != (kind, principal.id):
        raise Forbidden("a message may only carry files its sender uploaded",
                        code="not_your_file")
    if message_type == "image" and "thumbnail" not in f["variants"]:
        raise ValidationFailed("this file is not an image: send it as type file",
                               code="not_an_image")
    if f["request_id"] is None:
        await files.bind_file(tx, f["id"], row["request_id"], message_id)
    elif f["request_id"] != row["request_id"]:
        raise Conflict("this file was sent in another conversation",
                       code="file_in_another_conversation")
    return file_metadata(services.settings.base_url, f)


async def do_delete_files(services: Services, tx: Transaction, doomed: list[FileRecord]) -> None:
    """Delete these files' rows and bytes with ``tx``."""
    ids = [f["id"] for f in doomed]
    if not ids:
        return
    await files.delete_file_rows(tx, ids)
    await services.blobs.delete(tx, ids)


async def do_erase_files_of_requests(
    services: Services, tx: Transaction, request_ids: list[str]
) -> None:
    """Erase every file sent in these conversations (with ``tx``)."""
    await do_delete_files(services, tx, await files.files_of_requests(tx, request_ids))


async def do_erase_uploads_of(
    services: Services, tx: Transaction, project_id: str, uploader_id: str
) -> None:
    """Erase a visitor's uploads that no message took up (with ``tx``)."""
    await do_delete_files(
        services, tx, await files.unbound_files_of_uploader(tx, project_id, uploader_id)
    )


async def do_sweep_orphans(services: Services, *, grace_seconds: float = 3600) -> int:
    """Remove bytes on disk that no file row owns any more: left by a process that stopped
    between an erasure's commit and its removal of the folders, or between storing an upload
    and committing its row; and uploads abandoned half-received. Only what is older than
    ``grace_seconds``, so nothing being written now is touched. How many files it removed.
    (On PostgreSQL bytes and rows go in one transaction: there is nothing to sweep.)"""
    blobs = services.blobs
    if not isinstance(blobs, DirectoryBlobs):
        return 0
    cutoff = time.time() - grace_seconds  # file times are the system's, not the app clock's
    orphans = [
        file_id for file_id in await anyio.to_thread.run_sync(blobs.stored_before, cutoff)
        if not await files.file_exists(services.db, file_id)
    ]
    await anyio.to_thread.run_sync(blobs.remove, [blobs.root / file_id for file_id in orphans])
    await anyio.to_thread.run_sync(_remove_stale_uploads, upload_folder(services), cutoff)
    return len(orphans)


def _remove_stale_uploads(folder: Path, cutoff: float) -> None:
    if folder.is_dir():
        for leftover in folder.iterdir():
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink(missing_ok=True)


async def do_forget_unclaimed(services: Services, *, batch: int = 500) -> int:
    """Erase uploads no message took up within ``unclaimed_upload_hours``; how many."""
    hours = services.settings.unclaimed_upload_hours
    if hours <= 0:
        return 0
    cutoff = services.now_ms() - hours * _HOUR_MS
    count = 0
    while True:
        async with services.db.transaction() as tx:
            doomed = await files.unbound_files_before(tx, cutoff, batch)
            await do_delete_files(services, tx, doomed)
        count += len(doomed)
        if len(doomed) < batch:
            return count

