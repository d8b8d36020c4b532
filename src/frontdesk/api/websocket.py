"""``/ws``: the one WebSocket endpoint of the dashboard and the widget (see realtime.hub)."""

from __future__ import annotations

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from frontdesk.realtime.hub import Hub


async def realtime_socket(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    await hub.serve(websocket)


def websocket_routes() -> list[BaseRoute]:
    return [WebSocketRoute("/ws", realtime_socket)]
