"""Signed file download URLs: what lets an ``<img>`` (which sends no Authorization header)
fetch a file, for one reader, for a few minutes.

A URL carries ``reader`` (``agent:<account id>`` or ``visitor:<visitor id>``), ``exp`` (epoch
seconds) and ``sig``: an HMAC-SHA256, under a key derived from the server secret, over the
project, the file, the variant (original or thumbnail), the reader and the expiry. Changing any
of them breaks the signature; once ``exp`` has passed the URL is refused, wherever it was
copied to. The download still checks that the reader may read the file *now*: an agent who
left the project, or a file erased since, gets nothing from a URL signed before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from frontdesk.auth.principals import Agent, Principal
from frontdesk.errors import Unauthorized

ReaderKind = Literal["agent", "visitor"]
_KEY_LABEL = b"frontdesk signed file URLs v1"


@dataclass(frozen=True)
class Reader:
    """Who a signed URL was made for."""

    kind: ReaderKind
    id: str

    @classmethod
    def of(cls, principal: Principal) -> Reader:
        return cls("agent", principal.id) if isinstance(principal, Agent) else cls(
            "visitor", principal.id
        )

    def encode(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Reader | None:
        kind, _, ident = text.partition(":")
        if kind in ("agent", "visitor") and ident:
            return cls(kind, ident)  # type: ignore[arg-type]  # checked just above
        return None


class FileUrlSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()

    def _signature(
        self, project_id: str, file_id: str, variant: str, reader: str, expires: int
    ) -> str:
        message = "\n".join((project_id, file_id, variant, reader, str(expires))).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def query(
        self, project_id: str, file_id: str, variant: str, reader: Reader, expires: int
    ) -> str:
        """The query string of a URL signed for ``reader`` until ``expires`` (epoch s)."""
        who = reader.encode()
        sig = self._signature(project_id, file_id, variant, who, expires)
        return urlencode({"reader": who, "exp": expires, "sig": sig})

    def verify(
        self,
        project_id: str,
        file_id: str,
        variant: str,
        *,
        reader: str,
        expires: str,
        sig: str,
        now: float,
    ) -> Reader:
        """The reader a signed URL names, if its signature holds and it has not expired.

        Raises Unauthorized: ``bad_file_signature`` (missing, malformed or wrong),
        ``file_url_expired``.
        """
        parsed = Reader.parse(reader)
        if parsed is None or not expires.isdigit() or not sig:
            raise Unauthorized("this file URL is not signed", code="bad_file_signature")
        wanted = self._signature(project_id, file_id, variant, reader, int(expires))
        if not hmac.compare_digest(wanted.encode(), sig.encode()):
            raise Unauthorized("this file URL's signature is wrong", code="bad_file_signature")
        if int(expires) <= now:
            raise Unauthorized(
                "this file URL has expired: ask for a fresh one", code="file_url_expired"
            )
        return parsed
