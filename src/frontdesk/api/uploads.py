"""Receiving an upload: a ``multipart/form-data`` body parsed as it streams in.

The part named ``file`` goes straight to a temporary file (under the data directory, not in
memory), its bytes counted as they arrive: past the limit the upload is refused with 413
``file_too_large`` at once, without reading the rest. A ``Content-Length`` that already says
too much is refused before anything is read. Other parts are ignored (and bounded too).

Refusals: 413 ``file_too_large``; 400 ``multipart_required`` (not multipart/form-data),
``malformed_multipart``, ``file_missing`` (no part named ``file``), ``file_empty``,
``too_many_files`` (more than one part named ``file``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from frontdesk.errors import BadRequest, PayloadTooLarge

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# What a multipart body may carry besides the file: its boundaries, part headers and any
# small form fields a client adds (Tiledesk's widget adds none).
ENVELOPE_BYTES = 64 * 1024


@dataclass
class Received:
    """An upload received whole: its bytes in ``path`` (the caller removes it)."""

    path: Path
    filename: str | None
    content_type: str


class _FilePart:
    """The callbacks python-multipart calls while it parses, writing the file part out."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        self.size = 0
        self.out: IO[bytes] | None = None
        self.received: Received | None = None
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._in_file = False

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") != b"file":
            return
        if self.received is not None or self.out is not None:
            raise BadRequest("send one file per upload", code="too_many_files")
        raw_name = options.get(b"filename")
        content_type = self._headers.get(b"content-type", b"").decode("latin-1").strip()
        self.out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in _part_end
            dir=self.folder, prefix="upload-", delete=False
        )
        self.received = Received(
            Path(self.out.name),
            raw_name.decode("utf-8", "replace") if raw_name is not None else None,
            content_type,
        )
        self._in_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file or self.out is None:
            return
        self.size += end - start
        if self.size > self.limit:
            raise PayloadTooLarge(
                f"files are limited to {self.limit} bytes", code="file_too_large"
            )
        self.out.write(data[start:end])

    def _part_end(self) -> None:
        if self._in_file and self.out is not None:
            self.out.close()
            self.out = None
            self._in_file = False

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


async def receive_upload(request: Request, *, limit: int, folder: Path) -> Received:
    """The ``file`` part of the request's multipart body, stored under ``folder``.

    Raises PayloadTooLarge or BadRequest as the module docstring says; nothing is left in
    ``folder`` when it raises.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + ENVELOPE_BYTES:
        raise PayloadTooLarge(f"files are limited to {limit} bytes", code="file_too_large")
    media, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise BadRequest(
            "upload the file as multipart/form-data, in a part named file",
            code="multipart_required",
        )
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    part = _FilePart(folder, limit)
    parser = MultipartParser(boundary, part.callbacks())
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit + ENVELOPE_BYTES:
                raise PayloadTooLarge(f"files are limited to {limit} bytes", code="file_too_large")
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise BadRequest(
                    f"the multipart body cannot be read: {exc}", code="malformed_multipart"
                ) from None
        parser.finalize()
    except BaseException:
        part.close()
        if part.received is not None:
            part.received.path.unlink(missing_ok=True)
        raise
    part.close()
    if part.received is None:
        raise BadRequest("send the file in a multipart part named file", code="file_missing")
    if part.size == 0:
        part.received.path.unlink(missing_ok=True)
        raise BadRequest("the file is empty", code="file_empty")
    return part.received
