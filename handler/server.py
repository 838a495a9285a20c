"""The handler's network side: the WebSocket endpoint, /health, and who may connect."""

from __future__ import annotations

import asyncio
import http
import ipaddress
import logging
import ssl
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from cc_executor import __version__
from cc_executor.generated.common.health import Health, Healthz
from cc_executor.login_guard import FailedLogins
from cc_executor.token import tokens_match

from .door import DEFAULT_HANDSHAKE_TIMEOUT_S, DEFAULT_MAX_PENDING, PendingConnections, Refused, check_headers
from .execution_slots import ExecutionSlots
from .execution_types import RunLimits
from .hooks import HooksEngine
from .hooks_file import HooksSetup
from .leftovers import RunningExecutions
from .local_socket import LocalSocket
from .metrics import HandlerMetrics
from .process_runner import launcher
from .protocol import ConnectionProtocol
from .protocol_mode import MODES, V2_SUBPROTOCOL, ProtocolMode, mode_for
from .relay_channel import RELAY_PATH, RelayDoor, RelayKeys, relay_refusal, serve_relay
from .session import Session, SessionSettings

log = logging.getLogger("cc_executor.handler")

WS_PATH = "/ws/mcp"
WS_PATHS = (WS_PATH, "/ws")  # /ws: where the old Docker deployment (and its MCP manifest) served the protocol
DEFAULT_PORT = 8003
SERVICE_NAME = "cc-executor-handler"
OLD_SERVICE_NAME = "cc_executor_mcp"  # what the old handler's /health said; old health checkers may compare it
OLD_CLIENT_MAX_FRAME_BYTES = 10 << 20  # the old handler's WS_MAX_SIZE default
MIN_NETWORK_TOKEN_CHARS = 32  # a token that crosses a network must not be guessable
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """A setting that cannot work (e.g. --no-auth on a public address)."""


@dataclass(frozen=True)
class HandlerConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str | None = None  # None only with no_auth
    no_auth: bool = False
    #: with no_auth off loopback: the source networks whose clients need no token (everyone else does)
    trusted_networks: tuple[Network, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    max_sessions: int = 32
    #: executions that run at once (None: max_sessions, so every connection may run one, as before)
    max_running: int | None = None
    max_queued_executions: int = 64  # executions waiting for a slot, first come first served
    drain_grace_s: float = 30.0  # after SIGTERM: how long running executions may take to finish
    max_frame_bytes: int = 1 << 20  # protocol 2.0 clients
    max_stdin_bytes: int = 8 << 20  # protocol 2.0's execute stdin (an execute frame may be larger by it)
    old_client_max_frame_bytes: int = OLD_CLIENT_MAX_FRAME_BYTES  # protocol 1.0 clients: the old handler's limit
    heartbeat_s: float | None = 30.0  # protocol 1.0's ping notification
    idle_timeout_s: float | None = None
    allowed_commands: tuple[str, ...] = ()  # the old ALLOWED_COMMANDS: first words a command may start with
    ws_ping_interval_s: float | None = 20.0  # WebSocket ping frames (both modes)
    ws_ping_timeout_s: float | None = 20.0
    #: permessage-deflate: off by default; on loopback it costs far more CPU than it saves
    #: (docs/performance.md: 32 MiB of output 136 -> 192 MB/s, base64-like output 36 -> 254 MB/s)
    compression: bool = False
    default_timeout_s: int | None = None
    run_limits: RunLimits = field(default_factory=lambda: RunLimits(reap_strays=True))
    #: where running executions are noted, so a restarted handler ends what a crashed one left
    state_dir: Path | None = None
    #: a Unix socket to listen on as well (in the user-only data dir: no other user can reach it)
    unix_socket: Path | None = None
    #: Host header names served besides loopback names and IP addresses (--allow-host)
    allowed_hosts: tuple[str, ...] = ()
    tls_cert: Path | None = None  # with tls_key: serve wss:// and https://
    tls_key: Path | None = None
    max_pending_connections: int = DEFAULT_MAX_PENDING  # connections that are not a session yet
    handshake_timeout_s: float = DEFAULT_HANDSHAKE_TIMEOUT_S
    hooks: HooksSetup = field(default_factory=HooksSetup)

    def check(self) -> None:
        if self.no_auth and not is_loopback(self.host) and not self.trusted_networks:
            raise ConfigError(
                f"--no-auth is refused on {self.host}: without a token only a loopback address is safe; name the "
                "networks whose clients may connect without one with --trust-network CIDR (e.g. a Docker bridge)"
            )
        if self.trusted_networks and not self.no_auth:
            raise ConfigError("--trust-network only makes sense with --no-auth")
        if self.token_required_somewhere and not self.token:
            raise ConfigError("a token is required unless --no-auth is given")
        if self.max_sessions < 1:
            raise ConfigError("--max-sessions must be at least 1")
        if self.max_running is not None and self.max_running < 1:
            raise ConfigError("--max-running must be at least 1")
        if self.token and not is_loopback(self.host) and len(self.token) < MIN_NETWORK_TOKEN_CHARS:
            raise ConfigError(
                f"the token is {len(self.token)} characters long; on {self.host}, which other machines reach, it "
                f"must have at least {MIN_NETWORK_TOKEN_CHARS}: leave --token out to use the generated one in the "
                "token file, or make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("--tls-cert and --tls-key go together: give both, or neither")

    @property
    def token_required_somewhere(self) -> bool:
        """False only when every client may connect without a token (--no-auth on loopback)."""
        return not self.no_auth or bool(self.trusted_networks)

    def needs_token(self, peer: str) -> bool:
        """Whether a client connecting from `peer` must present the token."""
        if not self.no_auth:
            return True
        if not self.trusted_networks:
            return False
        return not any(address_in(peer, network) for network in self.trusted_networks)


def address_in(peer: str, network: Network) -> bool:
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d
    return address.version == network.version and address in network


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(config: HandlerConfig) -> ssl.SSLContext | None:
    """The server's TLS context from --tls-cert/--tls-key; ConfigError (one line) when they cannot be loaded."""
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {config.tls_cert} and key {config.tls_key}: {exc}") from exc
    return context


def json_response(status: http.HTTPStatus, body: dict[str, object], extra: Sequence[tuple[str, str]] = ()) -> Response:
    payload = orjson.dumps(body)
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *extra])
    return Response(status.value, status.phrase, headers, payload)


def error_response(status: http.HTTPStatus, message: str, extra: Sequence[tuple[str, str]] = ()) -> Response:
    return json_response(status, {"error": status.phrase, "message": message}, extra)


class HandlerServer:
    """Accepts connections and runs one Session for each; call `start()`, then `close()`."""

    def __init__(self, config: HandlerConfig) -> None:
        config.check()
        self.config = config
        self.tls = tls_context(config)
        self.started_at = time.monotonic()
        self.sessions: set[Session] = set()
        self.slots = ExecutionSlots(config.max_running or config.max_sessions, config.max_queued_executions)
        self.metrics = HandlerMetrics(lambda: len(self.sessions), self.slots)
        self.running = RunningExecutions(config.state_dir) if config.state_dir else None
        self.pending = PendingConnections(config.max_pending_connections)
        #: counted apart: a flood of TCP connections must not keep the local user out of the socket
        self.local_pending = PendingConnections(config.max_pending_connections)
        self.failed_logins = FailedLogins(log)
        self.local_socket = LocalSocket(config.unix_socket) if config.unix_socket else None
        self.hooks = HooksEngine(config.hooks, config.run_limits)
        self.relay_keys = RelayKeys()  # the keys of executions whose permission prompts are relayed
        self.launcher = launcher(config.run_limits)
        self._server: Server | None = None
        self._unix_server: Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"{'wss' if self.tls else 'ws'}://{host}:{self.port}{WS_PATH}"

    @property
    def unix_url(self) -> str | None:
        """The ws+unix:// URL of the local socket, once the handler listens on it."""
        return self.local_socket.url if self.local_socket is not None and self._unix_server is not None else None

    @property
    def relay_url(self) -> str | None:
        """Where the permission relays of this handler's executions (on this machine) reach it: the Unix socket
        (no other user can reach it); without one, the TCP listener when it speaks plain ws (a relay could not
        check a certificate made for the handler's public name). None: this handler relays no permission prompts
        (its greeting does not offer permission_relay)."""
        if self.unix_url is not None:
            return self.unix_url
        if self.tls is not None:
            return None
        host = self.config.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        host = f"[{host}]" if ":" in host else host
        return f"ws://{host}:{self.port}{RELAY_PATH}"

    def health(self) -> Health:
        return Health(
            status="healthy",
            service=OLD_SERVICE_NAME,
            version=__version__,
            active_sessions=len(self.sessions),
            max_sessions=self.config.max_sessions,
            uptime_seconds=round(time.monotonic() - self.started_at, 3),
            implementation=SERVICE_NAME,
            protocols=[mode.version for mode in sorted(MODES, key=lambda mode: mode.version)],
            running_executions=self.running_executions(),
            auth_required=self.config.token_required_somewhere,
            max_running=self.slots.max_running,
            queued_executions=self.slots.queued,
            max_queued_executions=self.slots.max_queued,
            draining=self.slots.draining,
        )

    def max_frame_bytes(self, mode: ProtocolMode) -> int:
        """The largest client frame a connection of this mode is answered for (an execute's stdin aside)."""
        if mode.subprotocol is None:
            return max(self.config.old_client_max_frame_bytes, self.config.max_frame_bytes)
        return self.config.max_frame_bytes

    def max_message_bytes(self, mode: ProtocolMode) -> int:
        """The largest message read at all: beyond the answered limit (four times it, or twice an execute with the
        largest stdin), the connection is closed (1009)."""
        limit = self.max_frame_bytes(mode)
        stdin = self.config.max_stdin_bytes if mode.takes_stdin else 0
        return max(limit * 4, (limit + stdin) * 2, 1 << 20)

    def running_executions(self) -> int:
        return self.slots.running

    async def start(self) -> None:
        if self.running is not None:
            await asyncio.to_thread(self.running.end_leftovers)
        options: dict[str, Any] = {
            "process_request": self._admit,
            "select_subprotocol": select_subprotocol,
            # the protocol answers frames above its own limit; each connection narrows this to its mode's
            "max_size": max(map(self.max_message_bytes, MODES)),
            "compression": "deflate" if self.config.compression else None,
            "server_header": f"{SERVICE_NAME}/{__version__}",
            "ping_interval": self.config.ws_ping_interval_s,
            "ping_timeout": self.config.ws_ping_timeout_s,
            "open_timeout": self.config.handshake_timeout_s,
            "create_connection": self.pending.connection_class(),
        }
        self._server = await serve(self._serve_connection, self.config.host, self.config.port, ssl=self.tls, **options)
        if self.local_socket is not None:
            local = {**options, "create_connection": self.local_pending.connection_class()}
            self._unix_server = await self.local_socket.serve(self._serve_connection, local)
        log.info(
            "handler listening",
            extra={"event": {"url": self.url, "unix_url": self.unix_url, "auth": not self.config.no_auth}},
        )
        if not self.tls and not is_loopback(self.config.host):
            log.warning(
                "serving without TLS on a network address: the token and every command cross the network in clear "
                "text; give --tls-cert and --tls-key",
                extra={"event": {"host": self.config.host}},
            )
        if self.config.trusted_networks:
            networks = [str(network) for network in self.config.trusted_networks]
            log.warning(
                "clients from trusted networks connect without a token",
                extra={"event": {"trusted_networks": networks, "host": self.config.host}},
            )

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def drain(self, grace_s: float) -> None:
        """Take no new connections or executions, hand queued executions back (nothing of them ran), and wait up to
        `grace_s` for running ones to finish; `close()` then ends what still runs."""
        self.slots.drain()
        log.info(
            "draining",
            extra={"event": {"running_executions": self.slots.running, "grace_s": grace_s}},
        )
        if not await self.slots.idle(grace_s):
            log.warning(
                "drain grace period over; ending the executions that still run",
                extra={"event": {"running_executions": self.slots.running, "grace_s": grace_s}},
            )

    async def close(self) -> None:
        """End every running process group, close every connection, and wait."""
        for session in list(self.sessions):
            session.cancel_execution("The handler is shutting down")
        for server in (self._server, self._unix_server):
            if server is not None:
                server.close(close_connections=True)
                await server.wait_closed()
        if self.local_socket is not None:
            self.local_socket.close()
        await self.launcher.close()
        if self.running is not None:
            self.running.close()

    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """The door (headers, Host), the HTTP endpoints, then the handshake checks: path, Origin, token, limit."""
        try:
            check_headers(request.headers, self.config.allowed_hosts)
        except Refused as refused:  # the answer says why; a warning per request would let anyone flood the log
            log.debug("request refused", extra={"event": {"status": refused.status.value, "reason": str(refused)}})
            return error_response(refused.status, refused.message)
        path = request.path.split("?", 1)[0]
        if path in ("/health", "/healthz", "/ready", "/metrics") and request.method != "GET":
            return error_response(
                http.HTTPStatus.METHOD_NOT_ALLOWED,
                f"{request.method} is not allowed on {path}; use GET",
                [("Allow", "GET")],
            )
        if path == "/health":
            return json_response(http.HTTPStatus.OK, self.health().model_dump(mode="json"))
        if path == "/ready":  # a readiness probe: 503 once draining, so load balancers stop sending work
            status = http.HTTPStatus.SERVICE_UNAVAILABLE if self.slots.draining else http.HTTPStatus.OK
            return json_response(status, self.health().model_dump(mode="json"))
        if path == "/healthz":
            return json_response(http.HTTPStatus.OK, Healthz(status="ok").model_dump(mode="json"))
        if path == "/metrics":
            body, content_type = self.metrics.render(", ".join(request.headers.get_all("Accept")))
            headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return Response(http.HTTPStatus.OK.value, "OK", headers, body)
        if path == RELAY_PATH:  # a task's permission relay: its execution's key, never the handler's token
            denied = relay_refusal(request.headers, self.relay_keys)
            return error_response(*denied) if denied else None
        if path not in WS_PATHS:
            return error_response(http.HTTPStatus.NOT_FOUND, f"No such endpoint; the WebSocket endpoint is {WS_PATH}")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.config.allowed_origins:
            log.warning("origin refused", extra={"event": {"origin": origin}})
            return error_response(
                http.HTTPStatus.FORBIDDEN,
                f"Origin {origin} is not allowed (see --allow-origin); browsers may not connect",
            )
        peer = str(connection.remote_address[0]) if connection.remote_address else ""  # "": the Unix socket
        if self.config.needs_token(peer):
            refusal = await self._check_token(peer, request.headers.get("Authorization"))
            if refusal is not None:
                return refusal
        if self.slots.draining:
            return error_response(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                "The handler is draining (shutting down) and takes no new connections; use another handler",
            )
        if len(self.sessions) >= self.config.max_sessions and not offered_mode(request.headers).session_limit_in_band:
            return error_response(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f"Too many sessions: {len(self.sessions)} of {self.config.max_sessions} in use; try again later",
                [("Retry-After", "1")],
            )
        return None

    async def _check_token(self, peer: str, header: str | None) -> Response | None:
        """None when the bearer token is right; else the refusal (a failed login: logged, slowed down, throttled)."""
        scheme, _, presented = (header or "").partition(" ")
        assert self.config.token is not None
        if scheme.lower() == "bearer" and tokens_match(presented.strip(), self.config.token):
            return None
        throttled = await self.failed_logins.failed(peer, guessed=header is not None)
        if throttled is not None:
            return error_response(
                http.HTTPStatus.TOO_MANY_REQUESTS,
                f"Too many failed logins from {peer or 'the local socket'}; each further one waits; the right token "
                "still gets in at once",
                [("Retry-After", str(int(throttled)))],
            )
        return error_response(
            http.HTTPStatus.UNAUTHORIZED,
            "Missing or wrong bearer token: send 'Authorization: Bearer <token>' (the token is in the handler's "
            "token file, or given by --token-file / CC_EXECUTOR_TOKEN)",
            [("WWW-Authenticate", 'Bearer realm="cc-executor"')],
        )

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        for pending in (self.pending, self.local_pending):  # through the door: counted as a session from here
            pending.settled(websocket)
        if websocket.request is not None and websocket.request.path.split("?", 1)[0] == RELAY_PATH:
            await serve_relay(websocket, self.relay_keys)  # not a session: it only asks for its execution
            return
        relay_url = self.relay_url
        mode = mode_for(websocket.subprotocol)
        limit = self.max_frame_bytes(mode)
        websocket.protocol.max_message_size = self.max_message_bytes(mode)
        protocol = ConnectionProtocol(
            session_id=str(uuid.uuid4()),
            version=__version__,
            mode=mode,
            max_frame_bytes=limit,
            max_stdin_bytes=self.config.max_stdin_bytes,
            allowed_commands=self.config.allowed_commands,
            relays=relay_url is not None,
        )
        if len(self.sessions) >= self.config.max_sessions:  # protocol 1.0, or lost a race with another handshake
            if mode.session_limit_in_band:  # the old handler's way: accept, say why, close
                await websocket.send(protocol.session_limit(), text=True)
                await websocket.close(1008, "Session limit exceeded")
            else:
                await websocket.close(1013, f"Too many sessions (max {self.config.max_sessions})")
            return
        settings = SessionSettings(
            self.config.run_limits,
            self.config.default_timeout_s,
            self.config.max_sessions,
            self.metrics,
            self.running,
            heartbeat_s=self.config.heartbeat_s,
            idle_timeout_s=self.config.idle_timeout_s,
            hooks=self.hooks,
            slots=self.slots,
            relay=RelayDoor(self.relay_keys, relay_url) if relay_url is not None else None,
            launcher=self.launcher,
        )
        session = Session(websocket, protocol, settings, lambda: self.sessions)
        self.sessions.add(session)
        try:
            await session.serve()
        finally:
            self.sessions.discard(session)


def offered_subprotocols(headers: Headers) -> list[str]:
    return [value.strip() for header in headers.get_all("Sec-WebSocket-Protocol") for value in header.split(",")]


def offered_mode(headers: Headers) -> ProtocolMode:
    """The mode the handshake in these headers is going to agree to (select_subprotocol's choice)."""
    return mode_for(V2_SUBPROTOCOL if V2_SUBPROTOCOL in offered_subprotocols(headers) else None)


def select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """cc-executor.v2 when the client offers it; otherwise no subprotocol (protocol 1.0), whatever else it offers."""
    return Subprotocol(V2_SUBPROTOCOL) if V2_SUBPROTOCOL in offered else None
