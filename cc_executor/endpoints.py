"""Where a handler is reached, and how: `ws://`, `wss://` (TLS) or `ws+unix://` URLs.

`ws+unix:///path/to/handler.sock` names the handler's Unix socket (the path is absolute; the
WebSocket endpoint behind it is always /ws/mcp). On one machine it is the default way in:
the socket sits in the user-only data dir, so no other user can reach it, and nothing goes
over TCP where another process could be listening on the handler's port. `wss://` checks
the handler's certificate against the system's CAs, or those of a CA file (`ca_file`).
"""

from __future__ import annotations

import functools
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

if TYPE_CHECKING:  # imported where used: naming and checking a URL must not load an HTTP or WebSocket client
    import httpx
    from websockets.asyncio.client import connect

UNIX_SCHEME = "ws+unix"
SCHEMES = ("ws", "wss", UNIX_SCHEME)
SOCKET_NAME = "handler.sock"
WS_PATH = "/ws/mcp"
#: The Host a client names over the Unix socket (a loopback name: the handler serves it).
UNIX_HOST = "localhost"


def unix_url(socket: Path) -> str:
    return f"{UNIX_SCHEME}://{socket}"


def local_handler_url(data_dir: Path) -> str:
    """The URL of the handler that serves this data dir's socket (whether or not one runs now)."""
    return unix_url(data_dir / SOCKET_NAME)


def unix_socket_of(url: str) -> Path | None:
    """The socket path of a ws+unix:// URL; None for any other URL."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == UNIX_SCHEME else None


def absent_socket(url: str) -> str | None:
    """Why nothing answers at a ws+unix:// URL whose socket is not there (the usual case when no handler runs on
    this machine), said before any client is made; None for any other URL, or a socket that is there."""
    socket = unix_socket_of(url)
    return f"no handler listens on {socket}" if socket is not None and not socket.exists() else None


def check_url(url: str) -> None:
    """ValueError, in one sentence, for a URL no handler can be reached at."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"{url!r} is not a handler URL: use ws://HOST:PORT/ws/mcp, wss://… or ws+unix:///path/to/socket"
        )
    if parts.scheme == UNIX_SCHEME and not parts.path.startswith("/"):
        raise ValueError(f"{url!r}: a ws+unix:// URL names the socket by its absolute path (ws+unix:///…)")
    if parts.scheme != UNIX_SCHEME and not parts.hostname:
        raise ValueError(f"{url!r} names no host")


def client_tls(url: str, ca_file: Path | None) -> ssl.SSLContext | None:
    """The TLS context for a wss:// URL: the system's CAs, or only those of `ca_file`."""
    if urlsplit(url).scheme != "wss":
        return None
    return tls_context(ca_file)


@functools.cache
def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Made once per CA file and shared: loading the CAs costs about 50 ms of CPU, and the bridge's pool fetches a
    handler's /health every second while tasks run."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)


def with_host(url: str, address: str) -> str:
    """The URL with `address` in place of its host name (the port and path kept)."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def open_websocket(
    url: str, *, ca_file: Path | None = None, address: str | None = None, unix_path: str = WS_PATH, **options: Any
) -> connect:
    """websockets' `connect` for any handler URL (awaitable, or an async context manager); `address`: connect
    there, the URL's host name still the Host header and TLS's server name; over a Unix socket to `unix_path`
    (another endpoint of the handler behind it: the permission relay channel)."""
    from websockets.asyncio.client import connect

    socket = unix_socket_of(url)
    if socket is not None:
        return connect(f"ws://{UNIX_HOST}{unix_path}", unix=True, path=str(socket), **options)
    if address is not None:
        options["host"] = address
    return connect(url, ssl=client_tls(url, ca_file), **options)


def health_url(ws_url: str) -> str:
    """The /health URL of the handler at a WebSocket URL: ws://host:port/ws/mcp -> http://host:port/health."""
    parts = urlsplit(ws_url)
    if parts.scheme == UNIX_SCHEME:
        return f"http://{UNIX_HOST}/health"
    return urlunsplit(("https" if parts.scheme == "wss" else "http", parts.netloc, "/health", "", ""))


def http_client(ws_url: str, *, ca_file: Path | None = None, timeout_s: float = 2.0) -> httpx.AsyncClient:
    """An HTTP client that reaches the handler's plain-HTTP endpoints (/health) the way `ws_url` does."""
    import httpx

    socket = unix_socket_of(ws_url)
    if socket is not None:  # no TLS over the socket: verify=False only spares httpx loading the CAs
        return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(socket), verify=False), timeout=timeout_s)
    return httpx.AsyncClient(timeout=timeout_s, verify=tls_context(ca_file))


async def fetch_health(
    ws_url: str, *, ca_file: Path | None = None, timeout_s: float = 2.0, address: str | None = None
) -> Any:
    """The handler's /health as JSON (httpx.HTTPError or ValueError when it does not answer one, OSError at once
    when its Unix socket is not there); `address` as in open_websocket."""
    absent = absent_socket(ws_url)
    if absent is not None:
        raise FileNotFoundError(absent)
    url = health_url(ws_url)
    headers: dict[str, str] = {}
    extensions: dict[str, Any] = {}
    if address is not None:
        parts = urlsplit(url)
        headers["Host"], extensions["sni_hostname"] = parts.netloc, parts.hostname
        url = with_host(url, address)
    async with http_client(ws_url, ca_file=ca_file, timeout_s=timeout_s) as http:
        return (await http.get(url, headers=headers, extensions=extensions)).json()
