"""The status of a request (conversation): Tiledesk's numeric codes, in one place.

The dashboard and the widget import the same values from an ES module the server builds from
this enum (``/dashboard/static/js/status.js``, ``/widget/lib/status.js``), so no script keeps a
copy of the numbers.
"""

from __future__ import annotations

import functools
from enum import IntEnum

from starlette.requests import Request
from starlette.responses import Response


class RequestStatus(IntEnum):
    """Tiledesk's codes. frontdesk itself sets UNASSIGNED, ASSIGNED and CLOSED; the others are
    accepted in filters, for clients that speak the whole dialect."""

    TEMPORARY = 50
    UNASSIGNED = 100  # in the queue, no agent takes part
    ABANDONED = 150
    ASSIGNED = 200  # at least one agent takes part
    SERVED = 300
    CLOSED = 1000  # archived; a new visitor message reopens it

    @property
    def label(self) -> str:
        return self.name.capitalize()


@functools.cache
def status_module() -> str:
    """The ES module: ``RequestStatus`` (name → code), ``STATUS_LABELS`` (code → label) and
    ``statusClass(code)`` (the CSS classes of a status badge)."""
    codes = ", ".join(f"{s.name}: {s.value:d}" for s in RequestStatus)
    labels = ", ".join(f'{s.value:d}: "{s.label}"' for s in RequestStatus)
    return (
        "// Built by the server from its request status enum; the one source of these codes.\n"
        f"export const RequestStatus = Object.freeze({{ {codes} }});\n"
        f"export const STATUS_LABELS = Object.freeze({{ {labels} }});\n"
        "export function statusClass(code) {\n"
        '  const label = STATUS_LABELS[code];\n'
        '  return label ? `status status-${label.toLowerCase()}` : "status";\n'
        "}\n"
    )


async def serve_status_module(request: Request) -> Response:
    return Response(status_module(), media_type="text/javascript")
