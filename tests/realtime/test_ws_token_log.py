"""A session token in the WebSocket URL (``/ws?token=…``) never reaches the server's log."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.realtime.live_api import TIMEOUT, api_on, open_socket
from tests.realtime.served import served


def test_the_token_in_the_socket_url_is_blanked_in_the_server_log(tmp_path: Path) -> None:
    with served(tmp_path, log_level="info") as server:
        token = asyncio.run(_connect_with_token_in_url(server.url))
        deadline = time.monotonic() + TIMEOUT
        while "WebSocket /ws" not in server.log.read_text():  # the handshake's log line
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.1)
    log = server.log.read_text()
    signature = token.split(".")[-1]
    assert signature not in log and token.split(" ")[-1] not in log
    handshakes = [line for line in log.splitlines() if "WebSocket /ws" in line]
    assert handshakes and all("token=[redacted]" in line for line in handshakes), handshakes


async def _connect_with_token_in_url(url: str) -> str:
    async with api_on(url) as api:
        owner = await api.agent()
    socket = await open_socket(url, owner.token)
    await socket.ws.close()
    return owner.token
