"""The bridge's MCP server over streamable HTTP: loopback only, behind its bearer token, with bounded sessions,
requests and connections."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass

import h11
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from uvicorn.protocols.http.h11_impl import H11Protocol

from cc_executor.login_guard import FailedLogins

from .http_auth import RequireBearerToken
from .http_guards import LabelPlainTextErrors, RefuseMalformedMessages
from .mcp_server import ToolsSource, build_server

log = logging.getLogger("cc_executor.bridge")
#: Requests handled at once by the HTTP transport (uvicorn answers 503 beyond).
HTTP_CONCURRENCY = 256
#: Time a new connection has to send its first request, and an idle one its next (uvicorn's keep-alive).
REQUEST_DEADLINE_S = 5.0


class RequestDeadline(H11Protocol):
    """uvicorn waits forever for the first request head on a new connection (and for the rest of a head once one has
    begun): half-open connections would pile up and use up the bridge's file descriptors. This one closes a
    connection that has begun no new request in REQUEST_DEADLINE_S while waiting for one; a connection busy with a
    request, or kept alive and used again in time, stays open."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own
        super().connection_made(transport)
        self._arm(None)

    def _arm(self, seen: object) -> None:
        self.loop.call_later(REQUEST_DEADLINE_S, self._close_if_no_request, seen)

    def _close_if_no_request(self, seen: object) -> None:
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE and self.cycle is seen:  # waiting, and no request began since
            self.transport.close()
        else:
            self._arm(self.cycle)


LOOPBACK_HOSTS = ["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"]
LOOPBACK_ORIGINS = [
    "http://127.0.0.1",
    "http://127.0.0.1:*",
    "http://localhost",
    "http://localhost:*",
    "http://[::1]:*",
]


def loopback_only() -> TransportSecuritySettings:
    """DNS-rebinding protection: only loopback Host headers, and only loopback (or no) Origin."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=LOOPBACK_HOSTS, allowed_origins=LOOPBACK_ORIGINS
    )


def bind_http(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything starts, so a busy port is one clear OSError."""
    listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.set_inheritable(True)
    return listener


@dataclass(frozen=True)
class HttpAccess:
    """Who may use the HTTP transport, and how many MCP sessions it keeps for how long."""

    token: str
    max_sessions: int = 16
    #: a session with no request in flight and no event stream open for this long is ended (its id then gets 404)
    session_idle_timeout_s: float = 300.0


async def serve_http(tools: ToolsSource, listener: socket.socket, access: HttpAccess) -> None:
    host = listener.getsockname()[0]
    app = build_server(tools).streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=loopback_only(),
        host=host,
        max_sessions=access.max_sessions,
        session_idle_timeout=access.session_idle_timeout_s,
    )
    app.add_middleware(RefuseMalformedMessages)
    app.add_middleware(RequireBearerToken, token=access.token, failed_logins=FailedLogins(log))
    app.add_middleware(LabelPlainTextErrors)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        http=RequestDeadline,
        limit_concurrency=HTTP_CONCURRENCY,
        timeout_keep_alive=int(REQUEST_DEADLINE_S),
    )
    await uvicorn.Server(config).serve(sockets=[listener])
