"""Client address resolution and IP allow-lists; X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_XFF_HOPS = 20


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(v, strict=False) for v in values]


def _addr(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def in_networks(ip: str | None, networks: list[IPNetwork]) -> bool:
    addr = _addr(ip) if ip else None
    return addr is not None and any(addr in n for n in networks)


def client_ip(peer: str | None, xff: str | None, trusted: list[IPNetwork]) -> str | None:
    """Walk X-Forwarded-For from the right while hops are trusted proxies; the first untrusted hop is the client."""
    if not peer or not trusted or not in_networks(peer, trusted) or not xff:
        return peer
    hops = [h.strip() for h in xff.split(",")][-MAX_XFF_HOPS:]
    for hop in reversed(hops):
        if _addr(hop) is None:
            return peer  # garbage in the header: trust nothing it says
        if not in_networks(hop, trusted):
            return hop
    return hops[0] if hops else peer
