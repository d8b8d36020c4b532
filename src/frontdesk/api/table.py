"""Every HTTP endpoint of the API, in one list (the order only matters for the docs)."""

from __future__ import annotations

from frontdesk.api import (
    audit,
    auth,
    canned,
    departments,
    files,
    identity,
    invitations,
    keys,
    leads,
    meta,
    notes,
    notifications,
    projects,
    read_markers,
    requests,
    tags,
    team,
    trust,
)
from frontdesk.api.routing import Endpoint


def all_endpoints() -> list[Endpoint]:
    modules = (
        meta, auth, projects, team, notifications, invitations, keys, departments, requests,
        tags, notes, files, read_markers, leads, identity, trust, audit, canned,
    )
    return [endpoint for module in modules for endpoint in module.router.endpoints]
