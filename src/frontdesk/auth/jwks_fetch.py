"""One GET of a customer's JWKS URL, made so that the URL cannot reach inside the network.

The URL is customer input and the request leaves from inside the deployment, so:

- only ``https`` URLs, without credentials in them;
- the host is resolved here, and every address it resolves to must be public (not private,
  loopback, link-local, multicast, reserved or unspecified, IPv4-mapped and NAT64 IPv6 forms
  included) unless the operator allows private addresses;
- the connection goes to the address that was vetted (a second DNS answer cannot swap it for
  an internal one), with TLS checking the certificate against the URL's host name;
- no redirect is followed: anything but ``200`` is a failure;
- one deadline covers resolving, connecting, TLS and reading, and the body is cut off past
  ``max_bytes`` while it is read.

Every failure is a JwksFetchError whose text is for the server log only; callers answer with a
generic code. HTTP/1.1 is spoken with h11 over an asyncio stream: no worker thread is held by
a slow server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

_READ_CHUNK = 16 * 1024
_MAX_HEADER_BYTES = 16 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class JwksFetchError(Exception):
    """The JWKS could not be fetched; the message says why, for the server log only."""


@dataclass(frozen=True)
class FetchPolicy:
    deadline: float
    max_bytes: int
    allow_private: bool = False
    ca_file: str = ""


def is_public_address(ip: IPAddress) -> bool:
    """True for an address on the public internet (an embedded IPv4 address is judged too)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and not is_public_address(ip.sixtofour):
            return False
        if ip.teredo is not None and not is_public_address(ip.teredo[1]):
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


async def fetch_jwks(url: str, policy: FetchPolicy) -> bytes:
    """The body of ``GET url`` under ``policy``; JwksFetchError for any failure, including the
    deadline."""
    try:
        async with asyncio.timeout(policy.deadline):
            return await _fetch(url, policy)
    except TimeoutError:
        raise JwksFetchError(f"no complete answer within {policy.deadline} s") from None
    except (OSError, ssl.SSLError, h11.ProtocolError) as exc:
        raise JwksFetchError(f"{type(exc).__name__}: {exc}") from None


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be fetched as it is written (not https, no host, credentials in
    it); None when it may. Where it leads is checked when it is fetched."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "a JWKS URL must use https"
    if not parts.hostname:
        return "the JWKS URL has no host"
    if parts.username is not None or parts.password is not None:
        return "a JWKS URL must not hold credentials"
    return None


async def _fetch(url: str, policy: FetchPolicy) -> bytes:
    problem = url_problem(url)
    if problem is not None:
        raise JwksFetchError(problem)
    parts = urlsplit(url)
    assert parts.hostname is not None  # url_problem refuses a URL without one
    host, port = parts.hostname, parts.port or 443
    addresses = await _vetted_addresses(host, port, allow_private=policy.allow_private)
    reader, writer = await _connect(addresses, port, host, _tls_context(policy.ca_file))
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return await _exchange(reader, writer, parts.netloc, target, policy.max_bytes)
    finally:
        # Without a TLS goodbye: a server that never reads would hold the socket open while
        # the shutdown waits for it.
        writer.transport.abort()


async def _vetted_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to; JwksFetchError when any of them is not public (a
    name with one internal address among public ones is refused as a whole)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise JwksFetchError(f"cannot resolve {host!r}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise JwksFetchError(f"{host!r} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address.split("%", 1)[0])):
                raise JwksFetchError(f"{host!r} resolves to the non-public address {address}")
    return addresses


async def _connect(
    addresses: list[str], port: int, host: str, context: ssl.SSLContext
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    error: Exception = JwksFetchError("no address to connect to")
    for address in addresses:
        try:
            return await asyncio.open_connection(
                address, port, ssl=context, server_hostname=host, limit=_READ_CHUNK
            )
        except (OSError, ssl.SSLError) as exc:
            error = exc
    raise error


def _tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    authority: str,
    target: str,
    max_bytes: int,
) -> bytes:
    connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEADER_BYTES)
    request = h11.Request(
        method="GET",
        target=target,
        headers=[
            ("Host", authority),
            ("Accept", "application/jwk-set+json, application/json"),
            ("User-Agent", "frontdesk-jwks"),
            ("Connection", "close"),
        ],
    )
    writer.write(connection.send(request) + (connection.send(h11.EndOfMessage()) or b""))
    await writer.drain()
    body = bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(_READ_CHUNK))
        elif isinstance(event, h11.Response):
            _check_response(event, max_bytes)
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > max_bytes:
                raise JwksFetchError(f"the document is larger than {max_bytes} bytes")
        elif isinstance(event, h11.EndOfMessage):
            return bytes(body)
        elif isinstance(event, h11.ConnectionClosed):
            raise JwksFetchError("the connection closed before the answer was complete")


def _check_response(response: h11.Response, max_bytes: int) -> None:
    if response.status_code != 200:
        # Redirects included: their target was never vetted.
        raise JwksFetchError(f"answered HTTP {response.status_code}")
    for name, value in response.headers:
        if name == b"content-length" and int(value) > max_bytes:
            raise JwksFetchError(f"announces {int(value)} bytes, more than {max_bytes}")
