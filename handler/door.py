"""The handler's door: what every HTTP request and WebSocket handshake must pass before anything else.

- Host, Authorization and Origin appear at most once (two of them is a malformed request:
  400, never a 500 with a traceback).
- The Host is a loopback name, an IP address, or a name allowed with --allow-host: a page
  of evil.example whose name resolves to 127.0.0.1 (DNS rebinding) sends Host:
  evil.example and gets 421 on /health, /metrics and the upgrade alike. An IP address
  cannot be rebound, so any is accepted.
- Connections that have not become a session yet (still in their handshake, or answered
  over plain HTTP) are capped: beyond the cap a new one is dropped at once, so a flood of
  half-open connections cannot use up the handler's file descriptors; each handshake also
  has a short deadline (serve's open_timeout).
"""

from __future__ import annotations

import asyncio
import http
import ipaddress
import logging

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers

log = logging.getLogger("cc_executor.handler")

SINGLE_HEADERS = ("Host", "Authorization", "Origin")
LOOPBACK_NAMES = ("localhost",)
DEFAULT_MAX_PENDING = 64
DEFAULT_HANDSHAKE_TIMEOUT_S = 5.0


class Refused(Exception):
    """The request does not get in: the HTTP status and one sentence to answer with."""

    def __init__(self, status: http.HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_headers(headers: Headers, allowed_hosts: tuple[str, ...]) -> None:
    """Raise Refused for a repeated Host/Authorization/Origin header or a Host that is not allowed."""
    for name in SINGLE_HEADERS:
        if len(headers.get_all(name)) > 1:
            raise Refused(http.HTTPStatus.BAD_REQUEST, f"More than one {name} header; send it once")
    host = headers.get("Host")
    if host is not None and not host_allowed(host, allowed_hosts):
        raise Refused(
            http.HTTPStatus.MISDIRECTED_REQUEST,
            f"Host {host!r} is not served here: use a loopback name or an IP address, or start the handler with "
            "--allow-host NAME",
        )


def host_name(host: str) -> str:
    """The name part of a Host header (no port, no IPv6 brackets), lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    name = host_name(host)
    if name in LOOPBACK_NAMES or name in (entry.lower() for entry in allowed):
        return True
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


class PendingConnections:
    """Counts the connections that have not become a session; beyond `limit` new ones are dropped at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pending: set[ServerConnection] = set()
        self.dropped = 0

    def connection_class(self) -> type[ServerConnection]:
        """The ServerConnection class for `serve(create_connection=...)`, counted here."""
        return type("CountedConnection", (_CountedConnection,), {"counter": self})

    def arrived(self, connection: ServerConnection) -> bool:
        if len(self.pending) >= self.limit:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "too many connections without a session; dropping new ones",
                    extra={"event": {"pending": len(self.pending), "dropped": self.dropped}},
                )
            return False
        self.pending.add(connection)
        return True

    def settled(self, connection: ServerConnection) -> None:
        """The connection became a session, or went away."""
        self.pending.discard(connection)


class _CountedConnection(ServerConnection):
    counter: PendingConnections

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self.counter.arrived(self):
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.counter.settled(self)
        super().connection_lost(exc)
