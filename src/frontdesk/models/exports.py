"""A contact's export: everything stored about it, as one document (its right of access)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.models import Time, closed
from frontdesk.models.files import FileInfoPublic
from frontdesk.models.leads import LeadPublic
from frontdesk.models.messages import MessagePublic
from frontdesk.models.project_users import ProjectUserPublic
from frontdesk.models.requests import RequestCorePublic


@closed
class ExportedSessionPublic(TypedDict):
    jti: Annotated[str, Field(description="Session id")]
    kind: Annotated[str, Field(description="guest or userexternal")]
    authInfo: Annotated[dict[str, Any], Field(description="How it signed in")]
    issuedAt: Time
    expiresAt: Time
    revokedAt: Annotated[str | None, Field(description="ISO 8601 UTC; null while live")]


# Functional form: "from" is a keyword in Python.
ExportedMergePublic = TypedDict("ExportedMergePublic", {
    "_id": Annotated[str, Field(description="Merge id (24 hex)")],
    "from": Annotated[str, Field(description="Anonymous visitor id")],
    "into": Annotated[str, Field(description="Signed-in visitor id")],
    "requests": Annotated[list[str], Field(description="Conversations it moved")],
    "mergedAt": Time,
    "revertedAt": Annotated[str | None, Field(description="ISO 8601 UTC")],
    "anonymousErasedAt": Annotated[str | None, Field(description="ISO 8601 UTC")],
})
ExportedMergePublic.__doc__ = "A merge into or out of the contact."
closed(ExportedMergePublic)


@closed
class ExportedRequestPublic(RequestCorePublic):
    """A conversation of the contact, without the agents' private notes."""

    messages: Annotated[list[MessagePublic], Field(description="Every message, oldest first")]


@closed
class LeadExportPublic(TypedDict):
    """Everything stored about a contact (its right of access)."""

    exportedAt: Time
    lead: Annotated[LeadPublic, Field(description="The contact")]
    membership: Annotated[
        ProjectUserPublic | None, Field(description="Its visitor's membership, if any")
    ]
    requests: Annotated[
        list[ExportedRequestPublic], Field(description="Its conversations with their messages")
    ]
    sessions: Annotated[
        list[ExportedSessionPublic], Field(description="Every session of its visitor")
    ]
    files: Annotated[
        list[FileInfoPublic],
        Field(description="Files sent in its conversations, and its uploads not sent yet"),
    ]
    merges: Annotated[
        list[ExportedMergePublic], Field(description="Merges into or out of it")
    ]
