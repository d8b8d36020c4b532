"""The client's address behind trusted proxies: X-Forwarded-For and Forwarded, read from the
right, believed only from a trusted peer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from frontdesk.app import create_app
from frontdesk.client_address import TrustedProxies, client_address
from frontdesk.errors import ConfigurationError
from frontdesk.settings import Settings
from tests.conftest import Factory, make_settings
from tests.realtime.wsclient import Socket

PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.0.2.1, 2001:db8:1::/48")


def address(peer: str | None, *headers: tuple[str, str]) -> str:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    return client_address(peer, raw, PROXIES)


def xff(value: str) -> tuple[str, str]:
    return ("X-Forwarded-For", value)


def forwarded(value: str) -> tuple[str, str]:
    return ("Forwarded", value)


def test_an_untrusted_peer_is_the_client_whatever_it_sends() -> None:
    assert address("203.0.113.5", xff("198.51.100.9")) == "203.0.113.5"
    assert address("203.0.113.5", forwarded("for=198.51.100.9")) == "203.0.113.5"
    assert client_address("10.0.0.1", [(b"x-forwarded-for", b"198.51.100.9")],
                          TrustedProxies.parse("")) == "10.0.0.1"  # nothing trusted by default


@pytest.mark.parametrize(("chain", "client"), [
    ("198.51.100.9", "198.51.100.9"),
    ("198.51.100.9, 10.1.2.3", "198.51.100.9"),  # a second trusted hop is skipped
    ("6.6.6.6, 198.51.100.9", "198.51.100.9"),  # what the client wrote first is not believed
    ("6.6.6.6, 198.51.100.9, 10.1.2.3, 192.0.2.1", "198.51.100.9"),
    ("10.9.9.9, 10.1.2.3", "10.9.9.9"),  # all trusted: the leftmost stands in
    ("198.51.100.9:4711", "198.51.100.9"),
    ("2001:db8:2::7", "2001:db8:2::7"),
    ("[2001:db8:2::7]:4711, 2001:db8:1::5", "2001:db8:2::7"),
    ("::ffff:198.51.100.9", "198.51.100.9"),
    ("what the client wrote, 198.51.100.9", "198.51.100.9"),  # never read
    ("unknown, 10.1.2.3", "10.1.2.3"),  # a proxy that did not know: the proxy stands in
])
def test_x_forwarded_for_is_walked_from_the_right(chain: str, client: str) -> None:
    assert address("10.0.0.1", xff(chain)) == client


def test_several_x_forwarded_for_lines_form_one_chain() -> None:
    assert address("10.0.0.1", xff("6.6.6.6"), xff("198.51.100.9")) == "198.51.100.9"


@pytest.mark.parametrize(("value", "client"), [
    ("for=198.51.100.9", "198.51.100.9"),
    ('for="198.51.100.9:4711";proto=https;by=10.0.0.1', "198.51.100.9"),
    ('For="[2001:db8:2::7]:4711"', "2001:db8:2::7"),
    ("for=6.6.6.6, for=198.51.100.9;proto=https, for=10.1.2.3", "198.51.100.9"),
    ("for=6.6.6.6, for=_hidden, for=10.1.2.3", "10.1.2.3"),  # obfuscated: the proxy stands in
    ("for=6.6.6.6, for=unknown", "10.0.0.1"),
    ("proto=https", "10.0.0.1"),  # an element without for= is an unknown hop
    ('for="198.51.100.9, 1.1.1.1"', "10.0.0.1"),  # a quoted comma is not a separator
])
def test_forwarded_is_walked_from_the_right(value: str, client: str) -> None:
    assert address("10.0.0.1", forwarded(value)) == client


def test_x_forwarded_for_wins_over_forwarded() -> None:
    # nginx appends to X-Forwarded-For and passes a client's Forwarded header through as is.
    headers = (forwarded("for=6.6.6.6"), xff("198.51.100.9"))
    assert address("10.0.0.1", *headers) == "198.51.100.9"


@pytest.mark.parametrize("header", [
    xff("not an address"),
    xff("198.51.100.9, , 10.1.2.3"),
    xff("198.51.100.9;10.1.2.3"),
    xff("fe80::1%eth0"),
    xff(""),
    forwarded('for="198.51.100.9'),  # unterminated quote
    forwarded("for"),
    forwarded("for=198.51.100.9;;=x"),
])
def test_a_malformed_header_falls_back_to_the_peer(header: tuple[str, str]) -> None:
    assert address("10.0.0.1", header) == "10.0.0.1"


def test_non_ascii_headers_fall_back_to_the_peer() -> None:
    raw = [(b"x-forwarded-for", "198.51.100.9\u00e9".encode())]
    assert client_address("10.0.0.1", raw, PROXIES) == "10.0.0.1"


def test_a_peer_that_is_not_an_address_is_kept_as_it_is() -> None:
    assert address(None, xff("198.51.100.9")) == "unknown"
    assert address("testclient", xff("198.51.100.9")) == "testclient"


def test_a_bad_trusted_proxies_setting_fails_at_start() -> None:
    with pytest.raises(ConfigurationError, match="FRONTDESK_TRUSTED_PROXIES"):
        Settings.from_env({"FRONTDESK_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"})
    assert Settings.from_env({"FRONTDESK_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})


# Through the application: one address for limits, audit events and sockets


@pytest.fixture
def behind_proxy(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """A client calling through a proxy at 10.0.0.1 that frontdesk trusts."""
    with ExitStack() as running:

        def build(**overrides: Any) -> TestClient:
            settings = make_settings(tmp_path, database_url, trusted_proxies="10.0.0.0/8",
                                     **overrides)
            return running.enter_context(
                TestClient(create_app(settings), client=("10.0.0.1", 40000))
            )

        yield build


def test_the_forwarded_address_is_limited_and_audited(behind_proxy: Any) -> None:
    make = Factory(behind_proxy(signin_rate_per_ip=1))
    project = make.project()

    def sign_in(forwarded_for: str) -> int:
        r = make.client.post("/auth/signinAnonymously", json={"id_project": project.id},
                             headers={"X-Forwarded-For": forwarded_for})
        return r.status_code

    assert [sign_in("198.51.100.9"), sign_in("198.51.100.9"), sign_in("198.51.100.10")] == [
        200, 429, 200]
    r = make.client.get(f"/{project.id}/audit?type=signin.anonymous",
                        headers=project.owner.headers)
    assert sorted(e["ip"] for e in r.json()["events"]) == ["198.51.100.10", "198.51.100.9"]
    services = make.client.app.state.services  # type: ignore[attr-defined]
    sessions = make.client.portal.call(  # type: ignore[union-attr]
        services.db.fetch_all, "SELECT ip FROM sessions WHERE kind = 'guest'"
    )
    assert sorted(row["ip"] for row in sessions) == ["198.51.100.10", "198.51.100.9"]


def test_an_agent_session_records_the_forwarded_address(behind_proxy: Any) -> None:
    make = Factory(behind_proxy())
    agent = make.agent()
    r = make.client.post("/auth/signin", json={"email": agent.email, "password": agent.password},
                         headers={"X-Forwarded-For": "198.51.100.20, 10.0.0.2"})
    assert r.status_code == 200
    services = make.client.app.state.services  # type: ignore[attr-defined]
    sessions = make.client.portal.call(  # type: ignore[union-attr]
        services.db.fetch_all, "SELECT ip FROM sessions WHERE kind = 'agent'"
    )
    # make.agent() signed in through the proxy without a forwarded address: the proxy's own.
    assert sorted(row["ip"] for row in sessions) == ["10.0.0.1", "198.51.100.20"]


def test_sockets_are_counted_per_forwarded_address(behind_proxy: Any) -> None:
    client = behind_proxy(ws_sockets_per_address=1)

    def socket_from(address: str) -> Any:
        return client.websocket_connect("/ws", headers={"X-Forwarded-For": address})

    with socket_from("198.51.100.9"), socket_from("198.51.100.10") as other:
        other.send_text('{"action": "heartbeat", "payload": {"message": {"text": "ping"}}}')
        assert other.receive_json()["payload"]["message"]["text"] == "pong"  # admitted
        with socket_from("198.51.100.9") as third:
            refused = Socket(third)
            assert refused.expect("error")["code"] == "too_many_sockets"
            assert refused.closed()[0] == 4429
