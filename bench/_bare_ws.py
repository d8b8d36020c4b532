"""The baseline for ``ws_delivery``: a bare ASGI app that only holds sockets and sends to them.

``/ws?i=<key>`` registers a socket; ``POST /send?i=<key>`` sends the body, wrapped like a
frontdesk publish frame, to that socket; ``POST /broadcast`` sends it to every socket.
"""

from __future__ import annotations

import json
from typing import Any

Send = Any
_sockets: dict[str, Send] = {}


def _frame(text: str) -> dict[str, Any]:
    message = {
        "action": "publish",
        "payload": {"topic": "/bare", "method": "CREATE", "message": [{"text": text}]},
    }
    return {"type": "websocket.send", "text": json.dumps(message)}


async def _body(receive: Any) -> str:
    chunks = []
    while True:
        event = await receive()
        chunks.append(event.get("body", b""))
        if not event.get("more_body"):
            return b"".join(chunks).decode()


async def _respond(send: Send, status: int = 200) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


async def app(scope: dict[str, Any], receive: Any, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if "=" in p)
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        key = query.get("i", "")
        _sockets[key] = send
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            _sockets.pop(key, None)
        return
    text = await _body(receive)
    if scope["path"] == "/send":
        target = _sockets.get(query.get("i", ""))
        if target is None:
            await _respond(send, 404)
            return
        await target(_frame(text))
    elif scope["path"] == "/broadcast":
        frame = _frame(text)
        for target in list(_sockets.values()):
            await target(frame)
    await _respond(send)
