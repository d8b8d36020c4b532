"""Merges of an anonymous visitor into a signed-in one."""

from __future__ import annotations

from typing import Annotated, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.clock import iso
from frontdesk.models import ProjectRef, SameAsId, closed
from frontdesk.storage.merges import MergeRecord


@closed
class MergePublic(TypedDict):
    _id: Annotated[str, Field(description="Merge id (24 hex)")]
    id: SameAsId
    id_project: ProjectRef
    anonymousVisitor: Annotated[str, Field(description="Visitor id of the anonymous side")]
    anonymousLead: Annotated[str | None, Field(description="Its lead, if it had one")]
    visitor: Annotated[str, Field(description="Visitor id of the signed-in side")]
    lead: Annotated[str, Field(description="The surviving lead")]
    requests: Annotated[list[str], Field(description="Conversations it moved")]
    description: Annotated[str, Field(description="What it did, in words")]
    mergedAt: Annotated[str, Field(description="ISO 8601 UTC")]
    revertedAt: Annotated[str | None, Field(description="ISO 8601 UTC")]
    revertedBy: Annotated[str | None, Field(description="Account id of the admin")]
    anonymousErasedAt: Annotated[
        str | None, Field(description="When the anonymous contact was erased: then it cannot "
                          "be reverted")
    ]


# Functional form: "from" is a keyword in Python, and the key Tiledesk clients read.
MergeOutcomePublic = TypedDict("MergeOutcomePublic", {
    "merged": Annotated[
        bool, Field(description="Whether the anonymous visitor's conversations were merged")
    ],
    "code": NotRequired[Annotated[str, Field(description="Why nothing was merged")]],
    "_id": NotRequired[Annotated[str, Field(description="The merge id")]],
    "from": NotRequired[Annotated[str, Field(description="Anonymous visitor id")]],
    "requests": NotRequired[Annotated[list[str], Field(description="Conversations moved")]],
})
MergeOutcomePublic.__doc__ = "Whether a sign-in merged the anonymous visitor, and why not."
closed(MergeOutcomePublic)


def present_merge(row: MergeRecord) -> MergePublic:
    return {
        "_id": row["id"],
        "id": row["id"],
        "id_project": row["project_id"],
        "anonymousVisitor": row["anonymous_visitor_id"],
        "anonymousLead": row["anonymous_lead_ref"],
        "visitor": row["visitor_id"],
        "lead": row["lead_ref"],
        "requests": row["request_ids"],
        "description": f"merged from anonymous visitor {row['anonymous_visitor_id']}",
        "mergedAt": iso(row["merged_at"]),
        "revertedAt": iso(row["reverted_at"]),
        "revertedBy": row["reverted_by"],
        "anonymousErasedAt": iso(row["anonymous_erased_at"]),
    }
