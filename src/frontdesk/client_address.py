"""The client's address: the direct peer, or what trusted proxies say the client was.

Behind a reverse proxy every connection comes from the proxy, so the peer's address says
nothing about the visitor. ``FRONTDESK_TRUSTED_PROXIES`` lists the proxies (addresses or
CIDRs) whose forwarding headers are believed; for any other peer the headers are ignored,
since anyone can send them.

The chain is read from the right, starting at the direct peer: each trusted hop vouches for
the entry to its left, and the first address that is not trusted is the client. When every
hop is trusted, the leftmost one stands in for the client; so it does when a trusted proxy
hid the client behind an obfuscated identifier (RFC 7239 ``for=_hidden`` or ``for=unknown``),
because what is written left of that entry came from the client unchecked. A header that
cannot be parsed, or an entry a trusted hop vouches for that is not an address, falls back to
the direct peer; entries left of the client, written by the client, are never read.

``X-Forwarded-For`` (what nginx, Caddy, HAProxy, Traefik and Envoy send) is read when present,
else ``Forwarded`` (RFC 7239). A proxy that writes only ``Forwarded`` must therefore drop an
``X-Forwarded-For`` sent by the client.

``ClientAddressMiddleware`` works this out once per HTTP request or WebSocket, writes it into
the scope's ``client`` (so ``request.client`` and ``websocket.client`` are the client) and
keeps the direct peer under ``PEER``: rate limits, socket caps, audit events, sessions and the
application's logs all read the same value. The app installs it only when some proxy is
trusted; without, the peer is the client and ``PEER`` is absent.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.errors import ConfigurationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The scope key under which the direct peer (host, port) is kept once ``client`` is rewritten.
PEER = "frontdesk.peer"
UNKNOWN = "unknown"
_OBFUSCATED = re.compile(r"_[A-Za-z0-9._-]+")  # RFC 7239 obfnode


class TrustedProxies:
    """The networks whose forwarding headers are believed."""

    def __init__(self, networks: Iterable[IPNetwork]) -> None:
        self._networks = tuple(networks)

    @classmethod
    def parse(cls, setting: str) -> TrustedProxies:
        """From a comma-separated list of addresses and CIDRs; raises ConfigurationError."""
        networks = []
        for part in setting.split(","):
            entry = part.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"FRONTDESK_TRUSTED_PROXIES: {entry!r} is not an address or CIDR"
                ) from None
        return cls(networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self._networks)

    def trusts_host(self, host: str) -> bool:
        address = parse_address(host)
        return address is not None and self.trusts(address)


@functools.lru_cache(maxsize=4096)  # the same proxies and clients come back request after request
def parse_address(text: str) -> IPAddress | None:
    """An IP address written alone, with a port, or in brackets; None for anything else.

    IPv4-mapped IPv6 addresses are read as the IPv4 address they carry, so one client has one
    key whichever way its stack reports it.
    """
    text = text.strip()
    if text.startswith("["):
        host, bracket, _ = text[1:].partition("]")
        if not bracket:
            return None
        text = host
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    if "%" in text:  # a zone index names an interface, not a client
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(
    peer: str | None, headers: Sequence[tuple[bytes, bytes]], trusted: TrustedProxies
) -> str:
    """The client's address for a connection from ``peer`` carrying ``headers`` (raw ASGI
    headers, lower-case names): see the module docstring."""
    if peer is None:
        return UNKNOWN
    peer_address = parse_address(peer)
    if peer_address is None or not trusted or not trusted.trusts(peer_address):
        return peer if peer_address is None else str(peer_address)
    chain = _forwarded_chain(headers)
    if chain is None:
        return str(peer_address)
    nearest = peer_address
    for entry in reversed(chain):  # only what trusted hops vouch for is ever read
        address = parse_address(entry)
        if address is None:
            # Obfuscated or unknown: nothing left of it can be believed. Anything else is
            # a malformed header.
            return str(nearest if _is_obfuscated(entry) else peer_address)
        if not trusted.trusts(address):
            return str(address)
        nearest = address
    return str(nearest)


def _is_obfuscated(node: str) -> bool:
    """An RFC 7239 obfuscated identifier (``_hidden``) or ``unknown``."""
    return node.strip().lower() == UNKNOWN or _OBFUSCATED.fullmatch(node.strip()) is not None


def _forwarded_chain(headers: Sequence[tuple[bytes, bytes]]) -> list[str] | None:
    """The hops the forwarding headers list, leftmost first; None when there are none or
    they cannot be parsed."""
    xff = [value for name, value in headers if name == b"x-forwarded-for"]
    if xff:
        return _x_forwarded_for(b",".join(xff))
    forwarded = [value for name, value in headers if name == b"forwarded"]
    if forwarded:
        return _rfc7239_for(b",".join(forwarded))
    return None


def _x_forwarded_for(raw: bytes) -> list[str] | None:
    try:
        return raw.decode("ascii").split(",")
    except UnicodeDecodeError:
        return None


def _rfc7239_for(raw: bytes) -> list[str] | None:
    """The ``for=`` value of every element of a Forwarded header; an element without one is
    an unknown hop. None when the header breaks the RFC 7239 grammar."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    elements = _split_outside_quotes(text, ",")
    if elements is None:
        return None
    chain = []
    for element in elements:
        pairs = _split_outside_quotes(element, ";")
        if pairs is None:
            return None
        node = UNKNOWN
        for pair in pairs:
            if not pair.strip():
                continue
            name, equals, value = pair.strip().partition("=")
            if not equals or not name or not value:
                return None
            if value.startswith('"'):
                if len(value) < 2 or not value.endswith('"'):
                    return None
                value = value[1:-1].replace("\\", "")
            if name.lower() == "for":
                node = value
        chain.append(node)
    return chain


def _split_outside_quotes(text: str, separator: str) -> list[str] | None:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        return None
    parts.append("".join(current))
    return parts


class ClientAddressMiddleware:
    """Puts the client's address in ``scope["client"]`` and the direct peer in
    ``scope[PEER]``, for HTTP requests and WebSockets."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            host = client_address(peer[0] if peer else None, scope["headers"], self.trusted)
            if peer is None or host != peer[0]:
                scope = dict(scope, client=(host, 0))
            scope[PEER] = peer
        await self.app(scope, receive, send)

