"""Handlers found through DNS: a --handler-url whose host name has several addresses is one pool member each.

A Kubernetes headless Service, or a name with several A/AAAA records, names a whole
fleet; each address is a handler of its own (its own slots, its own failures). The URL
keeps its name, so the Host header, TLS's server name and the certificate check stay
those of the name; only the connection goes to the address. A name with one address,
an IP address, a loopback name and a Unix socket stay one member, as given.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cc_executor.endpoints import with_host

#: Host name, port -> the addresses it resolves to now.
Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Member:
    """One handler of the pool: its URL, and the address to connect to when a name stands for several."""

    url: str
    address: str | None = None

    @property
    def name(self) -> str:
        """What results call it (`backend`): the URL, with the address in place of the name if it has one."""
        return with_host(self.url, self.address) if self.address else self.url


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def named_host(url: str) -> tuple[str, int] | None:
    """(host, port) of a ws:// or wss:// URL whose host is a DNS name worth resolving; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname or parts.hostname == "localhost":
        return None
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return parts.hostname, parts.port or (443 if parts.scheme == "wss" else 80)
    return None


async def members(urls: list[str], resolve: Resolver) -> list[Member]:
    """The pool's members for these URLs now: one per address of a name with several, else the URL itself
    (also when its name does not resolve: connecting will say why)."""

    async def expand(url: str) -> list[Member]:
        named = named_host(url)
        if named is None:
            return [Member(url)]
        try:
            addresses = await asyncio.wait_for(resolve(*named), RESOLVE_TIMEOUT_S)
        except (OSError, TimeoutError):
            return [Member(url)]
        if len(addresses) < 2:
            return [Member(url)]
        return [Member(url, address) for address in addresses]

    expanded = await asyncio.gather(*(expand(url) for url in urls))
    return list(dict.fromkeys(member for group in expanded for member in group))
