"""Serving the bridge's MCP server over stdio or streamable HTTP, ending every task on the way out."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from uvicorn.protocols.http.h11_impl import H11Protocol

from cc_executor.handler.process_runner import reap_strays_forever
from cc_executor.login_guard import FailedLogins

from .executions import ExecutionManager
from .http_auth import RequireBearerToken
from .http_guards import LabelPlainTextErrors, RefuseMalformedMessages
from .mcp_server import build_server

log = logging.getLogger("cc_executor.bridge")
UNWIND_TIMEOUT_S = 1.0
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


async def serve_stdio(manager: ExecutionManager) -> None:
    """Serve on stdin/stdout until the client closes stdin or a signal arrives."""
    server = build_server(manager)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


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


async def serve_http(manager: ExecutionManager, listener: socket.socket, access: HttpAccess) -> None:
    host = listener.getsockname()[0]
    app = build_server(manager).streamable_http_app(
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


async def run_until_stopped(serve: Callable[[ExecutionManager], Awaitable[None]], manager: ExecutionManager) -> int:
    """Recover what an earlier bridge left running, then run a transport; on SIGINT/SIGTERM or its end,
    cancel running tasks and close the manager.

    The stdio transport reads stdin in a thread that cannot be interrupted, so after a
    signal the process exits explicitly once every task has been ended and recorded.
    """
    manager.recover_abandoned()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[int] = []

    def stop_on(signum: int) -> None:
        received.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_on, signum)
    reaper = asyncio.ensure_future(reap_strays_forever()) if manager.settings.run_limits.reap_strays else None
    running: set[asyncio.Future[Any]] = {asyncio.ensure_future(serve(manager)), asyncio.ensure_future(stop.wait())}
    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
    if reaper is not None:
        reaper.cancel()
    for task in running:
        task.cancel()
    # Bounded: stdio's stdin thread unwinds only when a line or EOF arrives, which may be never.
    done, _ = await asyncio.wait(running, timeout=UNWIND_TIMEOUT_S)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("the MCP transport failed", exc_info=task.exception())
    await manager.close()
    if received:
        os._exit(128 + received[0])
    return 0
