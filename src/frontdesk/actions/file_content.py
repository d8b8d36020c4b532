"""What an uploaded file is, decided from its bytes; images re-encoded, with a thumbnail.

The type is what libmagic recognises in the content, checked against an allow-list; the
file's name and the type its sender declared must agree with it. Images are decoded and
encoded again by Pillow, which keeps the pixels and drops everything else (EXIF with its GPS
position, comments, text chunks, anything appended after the image data), and get a JPEG
thumbnail. The work is CPU-bound: ``inspect`` runs in a worker thread.

Refusals (``UnsupportedMediaType`` unless said otherwise):

    file_type_not_allowed   the content is not of an accepted type (an executable, HTML, …)
    file_type_mismatch      the name's extension or the declared type is not the content's
    image_invalid           (422) an image Pillow cannot decode
    image_too_large         (422) more pixels than FRONTDESK_MAX_IMAGE_PIXELS
"""

from __future__ import annotations

import os
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import magic
from PIL import Image, ImageOps, UnidentifiedImageError

from frontdesk.errors import UnsupportedMediaType, ValidationFailed

FileKind = Literal["image", "file"]
THUMBNAIL_BOX = (320, 320)
_NAME_MAX = 200
# Declared types that say nothing: a client that does not know sends one of them.
_UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
_TEXT_DECLARED = frozenset({
    "text/plain", "text/csv", "text/markdown", "text/x-markdown", "text/x-log",
    "text/tab-separated-values", "application/csv",
})
_OOXML = "application/vnd.openxmlformats-officedocument."


@dataclass(frozen=True)
class Accepted:
    """An accepted content type: the extensions a name may have, the types it may be declared
    as, and how it is served (``inline`` only for re-encoded images)."""

    extensions: tuple[str, ...]
    declared: frozenset[str]
    image_format: str | None = None  # Pillow's format name: re-encoded, thumbnail, inline

    @property
    def inline(self) -> bool:
        return self.image_format is not None


def _accepted(extensions: tuple[str, ...], *declared: str, image: str | None = None) -> Accepted:
    return Accepted(extensions, frozenset(declared), image)


ACCEPTED: dict[str, Accepted] = {
    "image/png": _accepted((".png",), "image/png", image="PNG"),
    "image/jpeg": _accepted((".jpg", ".jpeg", ".jfif"), "image/jpeg", "image/jpg", "image/pjpeg",
                            image="JPEG"),
    "image/gif": _accepted((".gif",), "image/gif", image="GIF"),
    "image/webp": _accepted((".webp",), "image/webp", image="WEBP"),
    # A browser runs the scripts an SVG carries: it is only ever served as a download.
    "image/svg+xml": _accepted((".svg",), "image/svg+xml"),
    "application/pdf": _accepted((".pdf",), "application/pdf"),
    "text/plain": Accepted((".txt", ".log", ".md", ".csv"), _TEXT_DECLARED),
    "text/csv": Accepted((".csv", ".txt"), _TEXT_DECLARED),
    _OOXML + "wordprocessingml.document": _accepted(
        (".docx",), _OOXML + "wordprocessingml.document"),
    _OOXML + "spreadsheetml.sheet": _accepted((".xlsx",), _OOXML + "spreadsheetml.sheet"),
    _OOXML + "presentationml.presentation": _accepted(
        (".pptx",), _OOXML + "presentationml.presentation"),
    "application/vnd.oasis.opendocument.text": _accepted(
        (".odt",), "application/vnd.oasis.opendocument.text"),
    "application/vnd.oasis.opendocument.spreadsheet": _accepted(
        (".ods",), "application/vnd.oasis.opendocument.spreadsheet"),
    "application/vnd.oasis.opendocument.presentation": _accepted(
        (".odp",), "application/vnd.oasis.opendocument.presentation"),
    "application/msword": _accepted((".doc",), "application/msword"),
    "application/vnd.ms-excel": _accepted((".xls",), "application/vnd.ms-excel"),
    "application/vnd.ms-powerpoint": _accepted((".ppt",), "application/vnd.ms-powerpoint"),
}
# libmagic names some office documents only by their container: which part of the container
# tells them apart (OOXML) or which extensions the generic container name may stand for.
_OOXML_PARTS = {
    ".docx": ("word/", _OOXML + "wordprocessingml.document"),
    ".xlsx": ("xl/", _OOXML + "spreadsheetml.sheet"),
    ".pptx": ("ppt/", _OOXML + "presentationml.presentation"),
}
_OLE_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}


@dataclass(frozen=True)
class Inspected:
    """An accepted upload, ready to store: ``path`` holds what is kept (for images the
    re-encoded picture), ``thumbnail`` the thumbnail's JPEG."""

    name: str
    content_type: str
    kind: FileKind
    inline: bool
    path: Path
    size: int
    width: int | None = None
    height: int | None = None
    thumbnail: Path | None = None


def safe_name(raw: str | None) -> str:
    """A display name from a client's file name: its last path segment, without control
    characters, at most 200 characters. Never used to build a path."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if len(name) > _NAME_MAX:
        stem, ext = os.path.splitext(name)
        name = stem[: _NAME_MAX - len(ext)] + ext if len(ext) <= 10 else name[:_NAME_MAX]
    return name or "file"


def extension(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def sniff(path: Path, name: str) -> str:
    """The content type of the file at ``path``, as libmagic recognises it; an office
    container libmagic names only generically is looked into."""
    found = str(magic.from_file(str(path), mime=True))
    ext = extension(name)
    if found == "application/zip" and ext in _OOXML_PARTS:
        prefix, ooxml = _OOXML_PARTS[ext]
        try:
            with zipfile.ZipFile(path) as container:
                names = container.namelist()
        except zipfile.BadZipFile:
            return found
        if "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names):
            return ooxml
    if found in ("application/vnd.ms-office", "application/CDFV2") and ext in _OLE_TYPES:
        return _OLE_TYPES[ext]
    return found


def check_type(name: str, declared: str, found: str) -> tuple[str, Accepted]:
    """The name to keep and the accepted type, if name, declared type and content agree.

    A name without an extension gets the content's. Raises UnsupportedMediaType.
    """
    accepted = ACCEPTED.get(found)
    if accepted is None:
        raise UnsupportedMediaType(
            f"files of type {found} are not accepted", code="file_type_not_allowed"
        )
    ext = extension(name)
    if not ext:
        name = name + accepted.extensions[0]
    elif ext not in accepted.extensions:
        raise UnsupportedMediaType(
            f"the name says {ext} but the content is {found}", code="file_type_mismatch"
        )
    declared = declared.split(";", 1)[0].strip().lower()
    if declared not in _UNDECLARED and declared not in accepted.declared:
        raise UnsupportedMediaType(
            f"the file was declared as {declared} but its content is {found}",
            code="file_type_mismatch",
        )
    return name, accepted


def inspect(
    path: Path, raw_name: str | None, declared: str, *, max_pixels: int
) -> Inspected:
    """Decide what the upload at ``path`` is and make what is kept of it (beside ``path``).
    Blocking: call it in a worker thread. Raises as the module docstring says."""
    name = safe_name(raw_name)
    found = sniff(path, name)
    name, accepted = check_type(name, declared, found)
    if accepted.image_format is None:
        return Inspected(name, found, "file", False, path, path.stat().st_size)
    return _reencode(path, name, found, accepted.image_format, max_pixels)


def _reencode(path: Path, name: str, found: str, image_format: str, max_pixels: int) -> Inspected:
    kept = path.with_name(path.name + ".image")
    thumbnail = path.with_name(path.name + ".thumbnail")
    try:
        with Image.open(path, formats=[image_format]) as source:
            width, height = source.size
            if width * height > max_pixels:
                raise ValidationFailed(
                    f"images may have at most {max_pixels} pixels", code="image_too_large"
                )
            source.seek(0)  # an animated image keeps its first frame
            picture = ImageOps.exif_transpose(source)
            picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(
            f"images may have at most {max_pixels} pixels", code="image_too_large"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(f"the image cannot be read: {exc}", code="image_invalid") from None
    # Some encoders fall back to what the decoder read (a GIF's comment, a PNG's colour
    # profile): keep only what the pixels need.
    picture.info = {k: v for k, v in picture.info.items() if k == "transparency"}
    picture = _savable(picture, image_format)
    # Saved without exif=, icc_profile= or pnginfo=: nothing but the pixels goes out.
    options = {"quality": 90} if image_format in ("JPEG", "WEBP") else {}
    picture.save(kept, format=image_format, **options)
    small = picture.copy()
    small.thumbnail(THUMBNAIL_BOX)
    _flattened(small).save(thumbnail, format="JPEG", quality=80)
    return Inspected(
        name, found, "image", True, kept, kept.stat().st_size,
        width=picture.width, height=picture.height, thumbnail=thumbnail,
    )


def _savable(picture: Image.Image, image_format: str) -> Image.Image:
    if image_format == "JPEG" and picture.mode not in ("RGB", "L"):
        return picture.convert("RGB")
    if image_format == "WEBP" and picture.mode not in ("RGB", "RGBA"):
        return picture.convert("RGBA")
    return picture


def _flattened(picture: Image.Image) -> Image.Image:
    """RGB for a JPEG thumbnail: transparency drawn over white."""
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")
