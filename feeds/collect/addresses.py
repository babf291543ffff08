"""Which addresses a fetch may connect to, and name resolution within the fetch deadline."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable

from feeds.collect.deadline import within

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local-use prefix
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated (RFC 3879), never global


def embedded_v4(ip: IPAddress) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address stands for, and how: (kind, address)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    n = int(ip)
    if ip.ipv4_mapped:
        return "an IPv4-mapped address", ip.ipv4_mapped
    if ip in NAT64:
        return "a NAT64 address", ipaddress.IPv4Address(n & 0xFFFFFFFF)
    if ip in NAT64_LOCAL:  # /48: the IPv4 address in bits 48-63 and 72-87 (RFC 6052 2.2)
        v4 = ((n >> 64) & 0xFFFF) << 16 | (n >> 40) & 0xFFFF
        return "a NAT64 address", ipaddress.IPv4Address(v4)
    if ip.sixtofour:
        return "a 6to4 address", ip.sixtofour
    if ip.teredo:
        return "a Teredo address", ip.teredo[1]
    if n >> 32 == 0 and n > 1:
        return "an IPv4-compatible address", ipaddress.IPv4Address(n)
    return None


def refusal(ip: IPAddress, allowed: list[IPNetwork]) -> str | None:
    """Why a fetch must not connect to ``ip`` (a phrase for the message), or None.

    An address that embeds an IPv4 address is judged by that address. IPv4-mapped addresses
    *are* their IPv4 address. Translated ones (NAT64, 6to4, Teredo, IPv4-compatible) go through
    a gateway we cannot see, so they are refused even when the embedded address is public,
    unless ``allow_networks`` names their prefix (an IPv6-only host behind DNS64 allows
    ``64:ff9b::/96``); the embedded address must then pass too.
    """
    inside = any(ip in net for net in allowed)
    embedded = embedded_v4(ip)
    if embedded is not None:
        kind, v4 = embedded
        if not inside and not kind.startswith("an IPv4-mapped"):
            return f"{kind} (it embeds {v4}, reached through a gateway)"
        inner = refusal(v4, allowed)
        return f"{kind} that embeds {v4}, {inner}" if inner else None
    if inside:
        return None
    if ip.is_multicast:
        return "a multicast address"
    if ip in SITE_LOCAL:
        return "a site-local address"
    if not ip.is_global:
        return "a private, loopback or link-local address"
    return None


def resolve_by(
    resolve: Callable[[str, int | None], list[str]], host: str, port: int | None, deadline: float
) -> list[str]:
    """``resolve(host, port)`` in a daemon thread, given at most until ``deadline`` (and
    while the fetch's stop check says go on): a resolver that never answers costs the fetch
    its deadline, not more (the thread is left to finish)."""
    try:
        return within(
            lambda: resolve(host, port), max(0.0, deadline - time.monotonic()), lambda _: None
        )
    except TimeoutError as e:
        raise TimeoutError(f"resolving {host} took longer than the deadline") from e


def resolve(host: str, port: int | None) -> list[str]:
    infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    return seen
