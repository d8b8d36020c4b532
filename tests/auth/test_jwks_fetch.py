"""JWKS URLs cannot reach inside, hang the server or leak what they answered.

A running server registers and uses JWKS URLs served over HTTPS (a test CA trusted through
FRONTDESK_JWKS_CA_FILE) by a host whose paths misbehave on demand.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from frontdesk.auth.jwks_fetch import FetchPolicy, JwksFetchError, fetch_jwks, is_public_address
from frontdesk.auth.public_keys import JwksCache
from frontdesk.clock import FakeClock
from frontdesk.errors import ServiceUnavailable
from tests.auth.jwks_server import HUGE_BYTES, INTERNAL_TEXT, InternalService, JwksHost, jwks_host
from tests.conftest import Factory, Project, make_settings
from tests.identity_helpers import claims_for, jwk_of, rsa_private_key, sign
from tests.live import LiveServer, live_server

DOCUMENT = {"keys": [jwk_of(rsa_private_key(), "site-1")]}


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[JwksHost, str]]:
    with jwks_host(tmp_path, DOCUMENT) as running:
        yield running


def _serve(tmp_path: Path, database_url: str, ca_file: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {"jwks_ca_file": ca_file, "jwks_allow_private": True,
                              "jwks_fetch_timeout": 1.5}
    values.update(overrides)
    return live_server(make_settings(tmp_path, database_url, **values))


_clients: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def _factory(server: LiveServer, timeout: float = 30) -> Factory:
    client = httpx.Client(base_url=server.url, timeout=timeout)
    _clients.append(client)
    return Factory(client)  # type: ignore[arg-type]


def _register(make: Factory, project: Project, url: str) -> httpx.Response:
    response: httpx.Response = make.client.post(
        f"/{project.id}/keys/jwks", json={"url": url}, headers=project.owner.headers
    )
    return response


def _signin(make: Factory, project: Project, kid: str) -> httpx.Response:
    token = sign(claims_for(project.id, time.time()), rsa_private_key(), "RS256", kid)
    response: httpx.Response = make.client.post(
        "/auth/signinWithCustomToken", headers={"Authorization": "JWT " + token}
    )
    return response


def _assert_generic(response: httpx.Response, status: int, code: str, *secrets: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    for secret in (INTERNAL_TEXT, "hunter2", "302", "500", "Errno", "SSL", *secrets):
        assert secret not in response.text


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address to judge, not to bind)
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::a00:1", False),
        ("2002:7f00:1::", False),
    ],
)
def test_only_public_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("host_name", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_a_url_on_a_private_address_is_refused_unless_allowed(
    tmp_path: Path, database_url: str, host: tuple[JwksHost, str], host_name: str
) -> None:
    jwks, ca_file = host
    url = jwks.url("/jwks.json", host=host_name)
    with _serve(tmp_path, database_url, ca_file, jwks_allow_private=False) as server:
        make = _factory(server)
        project = make.project(with_secret=False)
        _assert_generic(_register(make, project, url), 422, "jwks_unreachable", host_name)
    assert jwks.fetches.get("/jwks.json", 0) == 0
    if host_name != "[::ffff:127.0.0.1]":  # loopback over IPv4-mapped IPv6 may not connect
        with _serve(tmp_path, database_url, ca_file, jwks_allow_private=True) as server:
            make = _factory(server)
            project = make.project(with_secret=False)
            assert _register(make, project, url).status_code == 200
            assert _signin(make, project, "site-1").status_code == 200


def test_a_redirect_to_plain_http_inside_is_not_followed(
    tmp_path: Path, database_url: str, host: tuple[JwksHost, str]
) -> None:
    jwks, ca_file = host
    internal = InternalService()
    try:
        jwks.redirect_to = internal.url
        jwks.modes["/moved.json"] = "redirect"
        with _serve(tmp_path, database_url, ca_file) as server:
            make = _factory(server)
            project = make.project(with_secret=False)
            _assert_generic(_register(make, project, jwks.url("/moved.json")), 422,
                            "jwks_unreachable", internal.url)
        assert jwks.fetches["/moved.json"] == 1 and internal.hits == 0
    finally:
        internal.close()


def test_an_endless_body_is_cut_by_one_deadline(
    tmp_path: Path, database_url: str, host: tuple[JwksHost, str]
) -> None:
    jwks, ca_file = host
    with _serve(tmp_path, database_url, ca_file, jwks_fetch_timeout=1.5,
                jwks_cache_seconds=0, jwks_min_refetch_seconds=0) as server:
        make = _factory(server, timeout=30)
        project = make.project(with_secret=False)
        jwks.modes["/drip.json"] = "slow"
        start = time.monotonic()
        _assert_generic(_register(make, project, jwks.url("/drip.json")), 422,
                        "jwks_unreachable")
        # Each read gets a byte well within any per-read timeout; only a total deadline ends it.
        assert time.monotonic() - start < 10
        # The same on sign-in, for a URL that answered when it was registered: its last good
        # document answers once the deadline has passed.
        assert _register(make, project, jwks.url("/jwks.json")).status_code == 200
        jwks.modes["/jwks.json"] = "slow"
        start = time.monotonic()
        _assert_generic(_signin(make, project, "site-9"), 401, "unknown_kid")
        assert time.monotonic() - start < 10
        assert jwks.fetches["/jwks.json"] == 2


@pytest.mark.parametrize("mode", ["huge", "huge-announced"])
def test_a_huge_document_is_refused_without_reading_it_all(
    tmp_path: Path, database_url: str, host: tuple[JwksHost, str], mode: str
) -> None:
    jwks, ca_file = host
    jwks.modes["/big.json"] = mode
    with _serve(tmp_path, database_url, ca_file, jwks_fetch_timeout=20) as server:
        make = _factory(server)
        project = make.project(with_secret=False)
        start = time.monotonic()
        _assert_generic(_register(make, project, jwks.url("/big.json")), 422, "jwks_unreachable")
        assert time.monotonic() - start < 10
    time.sleep(0.5)
    assert not jwks.huge_completed, f"all {HUGE_BYTES} bytes were read"


def test_an_error_answer_is_not_relayed_to_the_visitor(
    tmp_path: Path, database_url: str, host: tuple[JwksHost, str]
) -> None:
    jwks, ca_file = host
    with _serve(tmp_path, database_url, ca_file) as server:
        make = _factory(server)
        project = make.project(with_secret=False)
        assert _register(make, project, jwks.url("/jwks.json")).status_code == 200
    jwks.modes["/jwks.json"] = "error"
    # A server process that never fetched the document: nothing cached to fall back on.
    with _serve(tmp_path, database_url, ca_file) as server:
        make = _factory(server)
        _assert_generic(_signin(make, project, "site-1"), 503, "jwks_unavailable", "/jwks.json")
    assert jwks.fetches["/jwks.json"] == 2


def test_slow_urls_of_other_projects_do_not_delay_a_fetch(
    tmp_path: Path, database_url: str, host: tuple[JwksHost, str]
) -> None:
    jwks, ca_file = host
    slow_projects = 8  # more than the worker threads a blocking fetch would hold
    with _serve(tmp_path, database_url, ca_file, jwks_fetch_timeout=8,
                jwks_cache_seconds=0, jwks_min_refetch_seconds=0) as server:
        make = _factory(server)
        projects = [make.project(with_secret=False) for _ in range(slow_projects + 1)]
        for n, project in enumerate(projects):
            assert _register(make, project, jwks.url(f"/p{n}.json")).status_code == 200
        for n in range(slow_projects):
            jwks.modes[f"/p{n}.json"] = "slow"
        stalled: list[int] = []

        def sign_in_slow(project: Project) -> None:
            stalled.append(_signin(_factory(server), project, "site-9").status_code)

        threads = [threading.Thread(target=sign_in_slow, args=(p,), daemon=True)
                   for p in projects[:slow_projects]]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while any(jwks.fetches[f"/p{n}.json"] < 2 for n in range(slow_projects)):
            assert time.monotonic() < deadline, jwks.fetches  # every slow fetch is under way
            time.sleep(0.05)
        assert all(thread.is_alive() for thread in threads)
        start = time.monotonic()
        quick = _signin(_factory(server, timeout=6), projects[-1], "site-9")
        took = time.monotonic() - start
        assert (quick.status_code, quick.json()["code"]) == (401, "unknown_kid")
        assert jwks.fetches[f"/p{slow_projects}.json"] == 2
        assert took < 4, f"a fetch of a fast URL waited {took:.1f} s behind slow ones"
        for thread in threads:
            thread.join(timeout=30)
        # Their last good documents answer once the deadline has passed.
        assert stalled == [401] * slow_projects


class _HeldFetches:
    """A fetch that waits until released, counting the fetches of each URL."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.release = asyncio.Event()

    async def __call__(self, url: str) -> bytes:
        self.calls[url] = self.calls.get(url, 0) + 1
        await self.release.wait()
        return json.dumps(DOCUMENT).encode()


def test_fetches_are_shared_per_url_and_bounded_per_project_and_in_all() -> None:
    async def scenario() -> None:
        fetch = _HeldFetches()
        cache = JwksCache(FakeClock(), ttl=300, min_refetch=0, fetch=fetch, per_project=2,
                          total=3)
        same_url = [asyncio.create_task(cache.keys("https://a/1", project_id="A"))
                    for _ in range(10)]
        second = asyncio.create_task(cache.keys("https://a/2", project_id="A"))
        await asyncio.sleep(0)
        # A third URL of project A is not fetched while two are in flight: refused at once.
        with pytest.raises(ServiceUnavailable):
            await cache.keys("https://a/3", project_id="A")
        other = asyncio.create_task(cache.keys("https://b/1", project_id="B"))
        await asyncio.sleep(0)
        # Three fetches in flight in all: project C waits for nothing and gets nothing.
        with pytest.raises(ServiceUnavailable):
            await cache.keys("https://c/1", project_id="C")
        fetch.release.set()
        results = await asyncio.gather(*same_url, second, other)
        assert all(keys[0].kid == "site-1" for keys in results)
        assert fetch.calls == {"https://a/1": 1, "https://a/2": 1, "https://b/1": 1}
        # Once they are done, project C fetches.
        assert (await cache.keys("https://c/1", project_id="C"))[0].kid == "site-1"

    asyncio.run(scenario())


def _resolving(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    """Name resolution as a DNS server under test would answer it."""

    async def getaddrinfo(self: Any, host: str, port: int, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in answers[host]]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)


def test_a_name_with_one_internal_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolving(monkeypatch, {"keys.example": ["93.184.215.14", "10.1.2.3"]})
    policy = FetchPolicy(deadline=5, max_bytes=65536)
    with pytest.raises(JwksFetchError, match="non-public"):
        asyncio.run(fetch_jwks("https://keys.example/jwks.json", policy))


def test_the_vetted_address_is_dialled_and_the_certificate_checked_for_the_url_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    jwks = JwksHost(ca, DOCUMENT, names=("keys.example",))
    try:
        # The names resolve to the test host on loopback; only the certificate's name differs.
        _resolving(monkeypatch, {"keys.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
        policy = FetchPolicy(deadline=5, max_bytes=65536, allow_private=True,
                             ca_file=str(ca_file))
        body = asyncio.run(fetch_jwks(jwks.url("/jwks.json", host="keys.example"), policy))
        assert json.loads(body) == DOCUMENT
        with pytest.raises(JwksFetchError, match="CERTIFICATE_VERIFY_FAILED"):
            asyncio.run(fetch_jwks(jwks.url("/jwks.json", host="other.example"), policy))
        assert jwks.fetches == {"/jwks.json": 1}
    finally:
        jwks.close()


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/k", "ftp://example.com/k", "https:///k", "https://user:pw@example.com/k"],
)
def test_the_fetch_itself_refuses_a_url_registration_would_refuse(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL stored before a check existed (or written around the API) is not fetched."""
    _resolving(monkeypatch, {})  # any lookup would fail the test with a KeyError
    with pytest.raises(JwksFetchError, match="JWKS URL"):
        asyncio.run(fetch_jwks(url, FetchPolicy(deadline=5, max_bytes=65536)))
