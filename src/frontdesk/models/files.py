"""Files sent in conversations: what a client learns of one, and what a message carries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import AlwaysTrue, ProjectRef, SameAsId, Time, closed
from frontdesk.storage.files import FileRecord

Dimension = Annotated[int | None, Field(description="Pixels, for images; null otherwise")]


@closed
class FileMetadataPublic(TypedDict):
    """A message's ``metadata`` for a file, as Tiledesk's widget sends it (plus ``fileId``).
    The server fills it from the stored file whatever the sender wrote."""

    src: Annotated[str, Field(description="The file's stable URL: GET it (with a token) for "
                                          "signed download URLs")]
    name: Annotated[str, Field(description="File name, for display and download")]
    type: Annotated[str, Field(description="Content type, as recognised from the bytes")]
    size: Annotated[int, Field(description="Bytes")]
    width: Dimension
    height: Dimension
    fileId: Annotated[str, Field(description="File id (24 hex)")]


@closed
class FileInfoPublic(TypedDict):
    _id: Annotated[str, Field(description="File id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    name: Annotated[str, Field(description="File name, for display and download")]
    type: Annotated[str, Field(description="Content type, as recognised from the bytes")]
    kind: Annotated[Literal["image", "file"], Field(
        description="image: re-encoded, shown inline, has a thumbnail; file: download only")]
    size: Annotated[int, Field(description="Bytes (of the re-encoded image, for images)")]
    width: Dimension
    height: Dimension
    src: Annotated[str, Field(description="The file's stable URL (metadata.src)")]
    uploadedBy: Annotated[str, Field(description="Agent account id or visitor id")]
    request_id: Annotated[str | None, Field(
        description="The conversation a message bound it to; null until then")]
    createdAt: Time


@closed
class FilePublic(FileInfoPublic):
    """A file with download URLs signed for the caller."""

    url: Annotated[str, Field(description="Signed download URL for the caller, usable in "
                                          "<img src> until expiresAt")]
    thumbnailUrl: Annotated[str | None, Field(description="Signed thumbnail URL (images)")]
    expiresAt: Annotated[str, Field(description="When the signed URLs stop working (ISO)")]
    metadata: Annotated[FileMetadataPublic, Field(
        description="What to send as a message's metadata (type image or file)")]


@closed
class FileUploadedPublic(FilePublic):
    """The stored file's descriptor: Tiledesk's upload answer plus frontdesk's fields."""

    success: AlwaysTrue
    message: Annotated[str, Field(description="File uploaded successfully")]
    filename: Annotated[str, Field(description="Tiledesk's name for the stored file: "
                                               "<file id>/<name>")]


def file_src(base_url: str, f: FileRecord) -> str:
    return f"{base_url}/{f['project_id']}/files/{f['id']}"


def file_metadata(base_url: str, f: FileRecord) -> FileMetadataPublic:
    return {
        "src": file_src(base_url, f),
        "name": f["name"],
        "type": f["content_type"],
        "size": f["size"],
        "width": f["width"],
        "height": f["height"],
        "fileId": f["id"],
    }


def present_file_info(base_url: str, f: FileRecord) -> FileInfoPublic:
    return {
        "_id": f["id"],
        "id": f["id"],
        "id_project": f["project_id"],
        "name": f["name"],
        "type": f["content_type"],
        "kind": "image" if "thumbnail" in f["variants"] else "file",
        "size": f["size"],
        "width": f["width"],
        "height": f["height"],
        "src": file_src(base_url, f),
        "uploadedBy": f["uploader_id"],
        "request_id": f["request_id"],
        "createdAt": iso(f["created_at"]),
    }


def present_file(
    base_url: str, f: FileRecord, *, url: str, thumbnail_url: str | None, expires_at: int
) -> FilePublic:
    return {
        **present_file_info(base_url, f),
        "url": url,
        "thumbnailUrl": thumbnail_url,
        "expiresAt": iso(expires_at),
        "metadata": file_metadata(base_url, f),
    }
