"""The project's tag library: the names and colours agents tag conversations and contacts with."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, Time, closed
from frontdesk.storage.tags import TagRecord


@closed
class TagPublic(TypedDict):
    _id: Annotated[str, Field(description="Tag id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    tag: Annotated[str, Field(description="Its name, unique in the project")]
    color: Annotated[str | None, Field(description="A CSS colour, e.g. #43B1F2")]
    createdBy: Annotated[str, Field(description="Account id of the agent who created it")]
    createdAt: Time
    updatedAt: Time


def present_tag(row: TagRecord) -> TagPublic:
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "tag": row["tag"],
        "color": row["color"],
        "createdBy": row["created_by"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }
