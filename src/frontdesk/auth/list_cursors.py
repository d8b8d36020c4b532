"""Opaque cursors of the conversation list (``GET /{pid}/requests?after=…``).

A cursor names the last row a page showed, as its place in the list's order (``updated_at``,
``id``), and carries an HMAC-SHA256 (truncated to 96 bits), under a key derived from the server
secret, over the project and that place. Clients cannot forge or edit one, nor carry it to
another project: anything but a cursor this server gave for this project is refused with 422
``invalid_cursor``. A cursor never expires; a row that moved since (a new message) is simply
no longer behind it. Changing the server secret invalidates the cursors given before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from frontdesk.errors import ValidationFailed
from frontdesk.storage.requests import ListPosition

_KEY_LABEL = b"frontdesk list cursors v1"
_SIGNATURE_BYTES = 12


class ListCursors:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()

    def _signature(self, project_id: str, place: bytes) -> bytes:
        message = project_id.encode() + b"\n" + place
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, project_id: str, position: ListPosition) -> str:
        place = f"{position.updated_at:d}.{position.id}".encode()
        raw = place + self._signature(project_id, place)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, project_id: str, cursor: str) -> ListPosition:
        """The place a cursor names. Raises ValidationFailed ``invalid_cursor`` unless this
        server signed it for this project."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        place, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
        valid = len(raw) > _SIGNATURE_BYTES and hmac.compare_digest(
            signature, self._signature(project_id, place)
        )
        updated_at, _, id = place.decode("ascii", "replace").partition(".")
        if not valid or not updated_at.isdigit() or not id:
            raise ValidationFailed(
                "after is not a cursor this list gave (take `next` from the previous page)",
                code="invalid_cursor",
            )
        return ListPosition(int(updated_at), id)
