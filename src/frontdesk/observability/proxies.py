"""Which direct peers are trusted proxies (``FRONTDESK_TRUSTED_PROXIES``).

Only a trusted peer may tell the server about the request it forwards (its ``X-Request-ID``,
for one); anything else a client sends about itself is its own claim.
"""

from __future__ import annotations

import functools
import ipaddress

from frontdesk.errors import ConfigurationError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """The networks of a comma-separated list of addresses and CIDRs.

    Raises ConfigurationError naming the first entry that is neither.
    """
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"FRONTDESK_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR"
            ) from None
    return tuple(networks)


@functools.lru_cache(maxsize=256)
def peer_is_trusted(networks: tuple[Network, ...], peer: str | None) -> bool:
    """Whether the direct peer ``peer`` (an IP address, or None) is in ``networks``."""
    if not networks or not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)
