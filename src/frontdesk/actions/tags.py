"""The project's tag library: names and colours to tag conversations and contacts with.

Creating a name that exists answers the existing tag, as Tiledesk does. Deleting a tag from
the library leaves the conversations and contacts tagged with it as they are; the deletion is
in the audit log.
"""

from __future__ import annotations

from frontdesk.actions import audit
from frontdesk.actions.access import ProjectAccess
from frontdesk.errors import Conflict, NotFound
from frontdesk.ids import is_object_id
from frontdesk.models.tags import TagPublic, present_tag
from frontdesk.services import Services
from frontdesk.storage import projects, tags
from frontdesk.storage.database import Queries, Transaction
from frontdesk.storage.tags import TagRecord

MAX_TAGS_PER_PROJECT = 500


async def access_tag(
    services: Services, project_id: str, tag_id: str, *, tx: Queries | None = None,
    lock: bool = False,
) -> TagRecord:
    """The library's tag; raises NotFound(tag_not_found)."""
    row = (
        await tags.get_tag(tx or services.db, project_id, tag_id, lock=lock)
        if is_object_id(tag_id)
        else None
    )
    if row is None:
        raise NotFound(f"no tag {tag_id!r}", code="tag_not_found")
    return row


async def list_tags(
    services: Services, access: ProjectAccess, *, page: int, limit: int
) -> list[TagPublic]:
    rows = await tags.list_tags(
        services.db, access.project["id"], limit=limit, offset=page * limit
    )
    return [present_tag(r) for r in rows]


async def check_create_tag(
    services: Services, access: ProjectAccess, *, tag: str, color: str | None
) -> TagPublic:
    """The new tag, or the existing one of that name (unchanged).

    Raises Conflict(too_many_tags) when the library holds MAX_TAGS_PER_PROJECT already.
    """
    project_id = access.project["id"]
    now = services.now_ms()
    async with services.db.transaction() as tx:
        await _take_turns(tx, project_id)
        existing = await tags.get_tag_by_name(tx, project_id, tag)
        if existing is not None:
            return present_tag(existing)
        if await tags.count_tags(tx, project_id) >= MAX_TAGS_PER_PROJECT:
            raise Conflict(
                f"a project's library keeps at most {MAX_TAGS_PER_PROJECT} tags",
                code="too_many_tags",
            )
        row: TagRecord = {
            "id": services.ids.object_id(), "project_id": project_id, "tag": tag, "color": color,
            "created_by": access.agent.user_id, "created_at": now, "updated_at": now,
        }
        await tags.insert_tag(
            tx, id=row["id"], project_id=project_id, tag=tag, color=color,
            created_by=row["created_by"], now=now,
        )
    return present_tag(row)


async def check_update_tag(
    services: Services, access: ProjectAccess, tag_id: str, *, tag: str | None,
    color: str | None,
) -> TagPublic:
    """Rename or recolour; raises Conflict(tag_exists) when another tag has the new name."""
    project_id = access.project["id"]
    async with services.db.transaction() as tx:
        await _take_turns(tx, project_id)
        row = await access_tag(services, project_id, tag_id, tx=tx, lock=True)
        name = tag or row["tag"]
        if name != row["tag"] and await tags.get_tag_by_name(tx, project_id, name) is not None:
            raise Conflict(f"the library has a tag {name!r} already", code="tag_exists")
        updated: TagRecord = {
            **row, "tag": name, "color": color or row["color"], "updated_at": services.now_ms(),
        }
        await tags.update_tag(
            tx, row["id"], tag=updated["tag"], color=updated["color"], now=updated["updated_at"]
        )
    return present_tag(updated)


async def _take_turns(tx: Transaction, project_id: str) -> None:
    """Lock the project row: additions and renames of one project's tags run one at a time, so
    neither a name nor the library's size is decided on a read another one is changing."""
    await projects.get_project(tx, project_id, lock=True)


async def check_delete_tag(services: Services, access: ProjectAccess, tag_id: str) -> TagPublic:
    project_id = access.project["id"]
    async with services.db.transaction() as tx:
        row = await access_tag(services, project_id, tag_id, tx=tx, lock=True)
        await tags.delete_tag(tx, row["id"])
        await audit.record_agent_action(
            services, tx, access, "tag.deleted", subject=row["id"],
            details={"tag": row["tag"], "color": row["color"]},
        )
    return present_tag(row)
