"""Canned responses: replies an agent inserts with ``/`` in the reply box."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, Time, closed
from frontdesk.storage.canned import CannedRecord


@closed
class CannedPublic(TypedDict):
    """A canned response (Tiledesk's shape: title, text, shared)."""

    _id: Annotated[str, Field(description="Canned response id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    title: Annotated[str, Field(description="What the picker shows and filters on")]
    text: Annotated[str, Field(
        description="The reply; may hold {{placeholders}} filled per conversation"
    )]
    shared: Annotated[bool, Field(description="Every agent of the project may use it; only "
                                  "admins change it")]
    createdBy: Annotated[str, Field(description="Account id of its author")]
    createdAt: Time
    updatedAt: Time


@closed
class CannedFilledPublic(TypedDict):
    """A canned response's text with its placeholders filled for one conversation."""

    text: Annotated[str, Field(description="The text; a placeholder that could not be filled "
                               "stays as written, {{…}}")]
    unfilled: Annotated[list[str], Field(
        description="Placeholders left as written: no such value, or not verified where the "
        "text asks for |verified"
    )]


def present_canned(row: CannedRecord) -> CannedPublic:
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "title": row["title"],
        "text": row["text"],
        "shared": bool(row["shared"]),
        "createdBy": row["created_by"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }
