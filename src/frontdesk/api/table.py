"""Every HTTP endpoint of the API, in one list (the order only matters for the docs)."""

from __future__ import annotations

from frontdesk.api import (
    audit,
    auth,
    departments,
    identity,
    invitations,
    keys,
    leads,
    meta,
    projects,
    requests,
    team,
    trust,
)
from frontdesk.api.routing import Endpoint


def all_endpoints() -> list[Endpoint]:
    modules = (
        meta, auth, projects, team, invitations, keys, departments, requests, leads, identity,
        trust, audit,
    )
    return [endpoint for module in modules for endpoint in module.router.endpoints]
