"""Who may use the bridge's streamable-HTTP transport: holders of its bearer token, one request at a time.

The bridge runs commands as its user and holds the handler's token, so its HTTP endpoint
answers only requests that carry its own token (`bridge-http.token` in the user-only
data dir, made on first start like the handler's; `--http-token-file` names another).
Without it: 401. A repeated Authorization, Host, Origin or Mcp-Session-Id header is a
malformed request (400). Failed logins are logged (rate-limited) and slowed down per
address, 429 once an address keeps failing (cc_executor/login_guard.py).
"""

from __future__ import annotations

import http
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from cc_executor.login_guard import FailedLogins
from cc_executor.paths import data_dir
from cc_executor.token import tokens_match

from .http_guards import refuse

TOKEN_FILE_NAME = "bridge-http.token"
SINGLE_HEADERS = (b"authorization", b"host", b"origin", b"mcp-session-id")


def default_token_file() -> Path:
    return data_dir() / TOKEN_FILE_NAME


class RequireBearerToken:
    """ASGI middleware in front of everything the HTTP transport serves."""

    def __init__(self, app: ASGIApp, token: str, failed_logins: FailedLogins) -> None:
        self.app = app
        self.token = token
        self.failed_logins = failed_logins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        for name in SINGLE_HEADERS:
            if sum(1 for key, _ in headers if key == name) > 1:
                await refuse(send, f"More than one {name.decode()} header; send it once")
                return
        presented = next((value for key, value in headers if key == b"authorization"), None)
        scheme, _, token = (presented or b"").decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and tokens_match(token.strip(), self.token):
            await self.app(scope, receive, send)
            return
        address = str(scope["client"][0]) if scope.get("client") else ""
        throttled = await self.failed_logins.failed(address, guessed=presented is not None)
        if throttled is not None:
            await refuse(
                send,
                f"Too many failed logins from {address}; each further one waits; the right token still gets in at once",
                http.HTTPStatus.TOO_MANY_REQUESTS,
                [(b"retry-after", str(int(throttled)).encode())],
            )
            return
        await refuse(
            send,
            "Missing or wrong bearer token: send 'Authorization: Bearer <token>'; the token is in the bridge's "
            f"token file ({TOKEN_FILE_NAME} in its data dir, or its --http-token-file)",
            http.HTTPStatus.UNAUTHORIZED,
            [(b"www-authenticate", b'Bearer realm="cc-executor-bridge"')],
        )
