"""ASGI middleware that closes two gaps of the SDK's streamable-HTTP transport, found by schemathesis.

- A POSTed request whose `id` is neither a string nor an integer (a float, true, null, an
  object) passes the SDK's validation as a notification: it answers 202 and the caller
  waits forever for a response. `RefuseMalformedMessages` holds every POSTed message to
  the spec's ClientMessage schema and answers 400 with a JSON-RPC error naming the field.
- The SDK answers a foreign Host (421), a foreign Origin (403) and a body that is not
  `application/json` (400) with bare text and no Content-Type. `LabelPlainTextErrors` adds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from mcp_types import INVALID_REQUEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cc_executor.spec_files import SPEC_DIR

from .tool_specs import bundle


class LabelPlainTextErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                headers = list(message.get("headers", ()))
                if not any(name.lower() == b"content-type" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"content-type", b"text/plain; charset=utf-8")]}
            await send(message)

        await self.app(scope, receive, labelled if scope["type"] == "http" else send)


class RefuseMalformedMessages:
    """Read a POST body (up to the SDK's own size limit) and refuse it when it is JSON but not a ClientMessage."""

    def __init__(self, app: ASGIApp, max_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        read: list[Message] = []
        size, complete = 0, False
        while size <= self.max_body_size:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                break
        if complete and (problem := message_problem(b"".join(m.get("body", b"") for m in read))):
            await refuse(send, problem)
            return

        async def replay() -> Message:
            return read.pop(0) if read else await receive()

        await self.app(scope, replay, send)


@cache
def validator(schema_name: str) -> Draft202012Validator:
    return Draft202012Validator(bundle(SPEC_DIR / "http" / "bridge-openapi.yaml", f"/components/schemas/{schema_name}"))


def kind(message: dict[str, Any]) -> str:
    """Which ClientMessage branch a message means to be: its keys decide, so the error names the right field."""
    if "method" in message:
        return "Request" if "id" in message else "Notification"
    if "result" in message:
        return "Result"
    return "ErrorResponse" if "error" in message else "Request"


def message_problem(body: bytes) -> str | None:
    """Why a JSON body is not one client message of spec/http/bridge-openapi.yaml; None if it is, or is not JSON.

    Bodies that are not JSON are left to the SDK, which answers them with a parse error.
    """
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict):
        return "Invalid Request: send one JSON-RPC message as a JSON object (MCP has no batches)"
    if isinstance(message.get("id"), float):  # 2.0 is an integer to JSON Schema, but the SDK drops it as well
        return f"Invalid Request: id: write {message['id']} as a string or an integer without a fraction"
    error = best_match(validator(kind(message)).iter_errors(message))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"Invalid Request: {where + ': ' if where else ''}{error.message[:200]}"


async def refuse(send: Send, problem: str, status: int = 400, extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """A JSON-RPC error object with no request id (none was read), as the transport's own refusals are."""
    body = orjson.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": problem}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
