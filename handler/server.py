"""The handler's network side: the WebSocket endpoint, /health, and who may connect."""

from __future__ import annotations

import asyncio
import http
import ipaddress
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from cc_executor import __version__
from cc_executor.token import tokens_match

from .leftovers import RunningExecutions
from .metrics import HandlerMetrics
from .process_runner import RunLimits
from .protocol import ConnectionProtocol
from .session import Session, SessionSettings

log = logging.getLogger("cc_executor.handler")

WS_PATH = "/ws/mcp"
DEFAULT_PORT = 8003
SERVICE_NAME = "cc-executor-handler"
BAD_TOKEN_DELAY_S = 0.25  # slows down guessing; honest clients never pay it


class ConfigError(Exception):
    """A setting that cannot work (e.g. --no-auth on a public address)."""


@dataclass(frozen=True)
class HandlerConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str | None = None  # None only with no_auth
    no_auth: bool = False
    allowed_origins: tuple[str, ...] = ()
    max_sessions: int = 32
    max_frame_bytes: int = 1 << 20
    #: permessage-deflate: off by default; on loopback it costs far more CPU than it saves
    #: (docs/performance.md: 32 MiB of output 136 -> 192 MB/s, base64-like output 36 -> 254 MB/s)
    compression: bool = False
    default_timeout_s: int | None = None
    run_limits: RunLimits = field(default_factory=lambda: RunLimits(reap_strays=True))
    #: where running executions are noted, so a restarted handler ends what a crashed one left
    state_dir: Path | None = None

    def check(self) -> None:
        if self.no_auth and not is_loopback(self.host):
            raise ConfigError(f"--no-auth is refused on {self.host}: without a token only a loopback address is safe")
        if not self.no_auth and not self.token:
            raise ConfigError("a token is required unless --no-auth is given")
        if self.max_sessions < 1:
            raise ConfigError("--max-sessions must be at least 1")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def json_response(status: http.HTTPStatus, body: dict[str, object], extra: Sequence[tuple[str, str]] = ()) -> Response:
    payload = json.dumps(body).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *extra])
    return Response(status.value, status.phrase, headers, payload)


def error_response(status: http.HTTPStatus, message: str, extra: Sequence[tuple[str, str]] = ()) -> Response:
    return json_response(status, {"error": status.phrase, "message": message}, extra)


class HandlerServer:
    """Accepts connections and runs one Session for each; call `start()`, then `close()`."""

    def __init__(self, config: HandlerConfig) -> None:
        config.check()
        self.config = config
        self.started_at = time.monotonic()
        self.sessions: set[Session] = set()
        self.metrics = HandlerMetrics(lambda: len(self.sessions), self.running_executions)
        self.running = RunningExecutions(config.state_dir) if config.state_dir else None
        self._server: Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"ws://{host}:{self.port}{WS_PATH}"

    def health(self) -> dict[str, object]:
        return {
            "status": "healthy",
            "service": SERVICE_NAME,
            "version": __version__,
            "active_sessions": len(self.sessions),
            "max_sessions": self.config.max_sessions,
            "uptime_seconds": round(time.monotonic() - self.started_at, 3),
            "running_executions": self.running_executions(),
            "auth_required": not self.config.no_auth,
        }

    def running_executions(self) -> int:
        return sum(1 for session in self.sessions if session.running is not None)

    async def start(self) -> None:
        if self.running is not None:
            await asyncio.to_thread(self.running.end_leftovers)
        self._server = await serve(
            self._serve_connection,
            self.config.host,
            self.config.port,
            process_request=self._admit,
            max_size=max(self.config.max_frame_bytes * 4, 1 << 20),  # the protocol answers frames above its own limit
            compression="deflate" if self.config.compression else None,
            server_header=f"{SERVICE_NAME}/{__version__}",
        )
        log.info("handler listening", extra={"event": {"url": self.url, "auth": not self.config.no_auth}})

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        """End every running process group, close every connection, and wait."""
        for session in list(self.sessions):
            session.cancel_execution("The handler is shutting down")
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
        if self.running is not None:
            self.running.close()

    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """HTTP endpoints, then the handshake checks: path, Origin, token, session limit."""
        path = request.path.split("?", 1)[0]
        if path in ("/health", "/metrics") and request.method != "GET":
            return error_response(
                http.HTTPStatus.METHOD_NOT_ALLOWED,
                f"{request.method} is not allowed on {path}; use GET",
                [("Allow", "GET")],
            )
        if path == "/health":
            return json_response(http.HTTPStatus.OK, self.health())
        if path == "/metrics":
            body = self.metrics.render()
            headers = Headers([("Content-Type", self.metrics.content_type), ("Content-Length", str(len(body)))])
            return Response(http.HTTPStatus.OK.value, "OK", headers, body)
        if path != WS_PATH:
            return error_response(http.HTTPStatus.NOT_FOUND, f"No such endpoint; the WebSocket endpoint is {WS_PATH}")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.config.allowed_origins:
            log.warning("origin refused", extra={"event": {"origin": origin}})
            return error_response(
                http.HTTPStatus.FORBIDDEN,
                f"Origin {origin} is not allowed (see --allow-origin); browsers may not connect",
            )
        if not self.config.no_auth and not self._authorized(request.headers.get("Authorization", "")):
            await asyncio.sleep(BAD_TOKEN_DELAY_S)
            return error_response(
                http.HTTPStatus.UNAUTHORIZED,
                "Missing or wrong bearer token: send 'Authorization: Bearer <token>' (the token is in the handler's "
                "token file, or given by --token / CC_EXECUTOR_TOKEN)",
                [("WWW-Authenticate", 'Bearer realm="cc-executor"')],
            )
        if len(self.sessions) >= self.config.max_sessions:
            return error_response(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f"Too many sessions: {len(self.sessions)} of {self.config.max_sessions} in use; try again later",
                [("Retry-After", "1")],
            )
        return None

    def _authorized(self, header: str) -> bool:
        scheme, _, presented = header.partition(" ")
        assert self.config.token is not None
        return scheme.lower() == "bearer" and tokens_match(presented.strip(), self.config.token)

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        protocol = ConnectionProtocol(
            session_id=str(uuid.uuid4()), version=__version__, max_frame_bytes=self.config.max_frame_bytes
        )
        if len(self.sessions) >= self.config.max_sessions:  # lost a race with another handshake
            await websocket.close(1013, f"Too many sessions (max {self.config.max_sessions})")
            return
        settings = SessionSettings(
            self.config.run_limits, self.config.default_timeout_s, self.config.max_sessions, self.metrics, self.running
        )
        session = Session(websocket, protocol, settings, lambda: self.sessions)
        self.sessions.add(session)
        try:
            await session.serve()
        finally:
            self.sessions.discard(session)
