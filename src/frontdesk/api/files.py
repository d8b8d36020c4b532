"""/:pid/files: upload a file for a conversation, get URLs to read it, download it.

``POST /{pid}/files/chat`` and ``GET /{pid}/files/{fid}`` are in the route table. The
downloads (``/download``, ``/thumbnail``) are plain routes beside it, because an ``<img>``
sends no Authorization header: they take a signed URL (what ``GET /{pid}/files/{fid}``
answers) or, for API clients, the caller's token, and check the reader themselves.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from frontdesk.actions import files
from frontdesk.actions.access import access_project, authenticate
from frontdesk.api import schemas as s
from frontdesk.api.routing import Call, CallerKind, Router, client_ip
from frontdesk.api.uploads import receive_upload
from frontdesk.auth.file_urls import Reader
from frontdesk.auth.principals import Visitor
from frontdesk.errors import NotFound, Unauthorized
from frontdesk.ids import is_object_id
from frontdesk.services import Services
from frontdesk.storage.files import FileRecord, Variant

router = Router("files")
BOTH: tuple[CallerKind, ...] = ("agent", "visitor")
# Whatever a file holds, a browser that opens it runs nothing and fetches nothing.
_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@router.route("POST", "/{pid}/files/chat",
              summary="Upload a file (multipart/form-data, part named file) to send in a "
              "conversation; answers its descriptor",
              response=s.FileUploadedPublic, allowed=BOTH, extra_statuses=(415, 429))
async def upload_file(call: Call) -> s.FileUploadedPublic:
    if isinstance(call.principal, Visitor):  # an upload counts as a message
        await call.services.limits.check_visitor_message(
            call.client_ip, call.access.project["id"]
        )
    received = await receive_upload(
        call.request, limit=files.upload_limit(call.services, call.access.project),
        folder=files.upload_folder(call.services),
    )
    return await files.check_upload(call.services, call.access, received.path,
                                    received.filename, received.content_type)


@router.route("GET", "/{pid}/files/{fid}",
              summary="A file, with download URLs signed for the caller (metadata.src)",
              response=s.FilePublic, allowed=BOTH)
async def get_file(call: Call) -> s.FilePublic:
    return await files.access_file(call.services, call.access, call.params["fid"])


def file_routes() -> list[BaseRoute]:
    return [
        Route("/{pid}/files/{fid}/download", _download, methods=["GET"]),
        Route("/{pid}/files/{fid}/thumbnail", _thumbnail, methods=["GET"]),
    ]


async def _download(request: Request) -> Response:
    return await _serve(request, "original")


async def _thumbnail(request: Request) -> Response:
    return await _serve(request, "thumbnail")


async def _serve(request: Request, variant: Variant) -> Response:
    services: Services = request.app.state.services
    pid, fid = request.path_params["pid"], request.path_params["fid"]
    if not is_object_id(pid) or not is_object_id(fid):
        raise NotFound(f"no file {fid!r} in this project", code="file_not_found")
    query = request.query_params
    if "sig" in query:
        f, chunks = await files.open_signed(
            services, pid, fid, variant, reader=query.get("reader", ""),
            expires=query.get("exp", ""), sig=query["sig"],
        )
        cache = f"private, max-age={services.settings.file_url_ttl}"
    else:
        reader = await _token_reader(services, request, pid)
        f, chunks = await files.open_for(services, pid, fid, variant, reader)
        cache = "private, no-store"
    return StreamingResponse(chunks, headers=_headers(f, variant, cache),
                             media_type=_media_type(f, variant))


async def _token_reader(services: Services, request: Request, pid: str) -> Reader:
    """The reader a request's Authorization header proves, admitted to the project."""
    principal = await authenticate(
        services, request.headers.get("authorization"),
        origin=request.headers.get("origin"), ip=client_ip(request),
    )
    if principal is None:
        raise Unauthorized("sign in first, or use a signed URL from GET /{pid}/files/{fid}",
                           code="unauthorized")
    access = await access_project(services, principal, pid, visitors=True)
    return Reader.of(access.principal)


def _media_type(f: FileRecord, variant: Variant) -> str:
    return "image/jpeg" if variant == "thumbnail" else f["content_type"]


def _headers(f: FileRecord, variant: Variant, cache: str) -> dict[str, str]:
    # Only re-encoded images are shown inline; everything else (SVG, PDF, text, office
    # documents) is a download, whatever the browser would make of it.
    inline = "thumbnail" in f["variants"]
    disposition = "inline" if inline else "attachment"
    headers: dict[str, Any] = {
        "Content-Disposition": f"{disposition}; {_filename_params(f['name'])}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _CONTENT_SECURITY_POLICY,
        "Cache-Control": cache,
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if variant == "original":
        headers["Content-Length"] = str(f["size"])
    return headers


def _filename_params(name: str) -> str:
    """RFC 6266 filename parameters: an ASCII fallback and the UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name)
    return f'filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}'
