"""`cc-executor permission-relay`: the MCP server a task's Claude Code calls as its `--permission-prompt-tool`.

Claude Code (2.1.330) calls the tool with `{tool_name, input, tool_use_id}` whenever a tool
call needs approval, and takes back a JSON text: `{"behavior": "allow", "updatedInput": ...}`
or `{"behavior": "deny", "message": ...}`. The relay asks over its execution's relay channel
(CC_EXECUTOR_RELAY_URL and CC_EXECUTOR_RELAY_KEY in its environment, put there by whoever
runs the task: a handler, or the bridge's local backend; handler/relay_channel.py) and passes
the answer on. Whatever goes wrong (no channel, a lost connection, no answer within --timeout)
is a denial whose message says why: nothing is allowed by accident, and nothing waits forever.
permission_prompt.py says how a task's Claude Code is given the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from pydantic import ValidationError
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from cc_executor import __version__
from cc_executor.client import HandlerClient, HandlerError, HandlerUnavailable
from cc_executor.endpoints import open_websocket
from cc_executor.generated.common.permissions import PermissionDecision
from cc_executor.generated.ws.notifications.connected import ConnectedParams
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL
from cc_executor.handler.relay_channel import RELAY_KEY_ENV, RELAY_PATH, RELAY_URL_ENV
from cc_executor.permission_prompt import SERVER_NAME, TOOL_NAME

DEFAULT_TIMEOUT_S = 3600.0
CONNECT_TIMEOUT_S = 10.0

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["tool_name", "input"],
    "properties": {
        "tool_name": {"type": "string", "description": "The tool that needs approval."},
        "input": {"type": "object", "description": "The tool call's input."},
        "tool_use_id": {"type": "string", "description": "Claude Code's id of the tool call."},
    },
}


@dataclass
class Channel:
    """The connection to the relay channel, opened on the first question and again after it was lost."""

    url: str | None
    key: str | None
    client: HandlerClient | None = None

    async def ask(self, question: AskPermissionParams) -> PermissionDecision:
        if not self.url or not self.key:
            raise HandlerUnavailable(f"no relay channel: {RELAY_URL_ENV} and {RELAY_KEY_ENV} are not set")
        if self.client is None or self.client.closed:
            self.client = await open_channel(self.url, self.key)
        return await self.client.ask_permission(question)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


async def open_channel(url: str, key: str) -> HandlerClient:
    """A client on the relay channel at `url`: ws://HOST:PORT/ws/permission-relay, or ws+unix:///path/to/socket
    (a Unix socket, whose relay channel is at RELAY_PATH)."""
    options: dict[str, Any] = {
        "additional_headers": {"Authorization": f"Bearer {key}"},
        "subprotocols": [Subprotocol(V2_SUBPROTOCOL)],
        "open_timeout": CONNECT_TIMEOUT_S,
    }
    try:
        websocket = await open_websocket(url, unix_path=RELAY_PATH, **options)
    except InvalidStatus as exc:
        raise HandlerUnavailable(f"{url} refused the relay (HTTP {exc.response.status_code})") from exc
    except (OSError, TimeoutError, InvalidURI, InvalidHandshake) as exc:
        raise HandlerUnavailable(f"cannot reach the relay channel at {url}: {exc}") from exc
    try:
        greeting = json.loads(await asyncio.wait_for(websocket.recv(), CONNECT_TIMEOUT_S))
        return HandlerClient(websocket, ConnectedParams.model_validate(greeting["params"]))
    except Exception as exc:
        await websocket.close()
        raise HandlerUnavailable(f"{url} did not greet the relay: {exc}") from exc


def answer_text(question: AskPermissionParams, decision: PermissionDecision) -> str:
    """The permission prompt tool's answer, as Claude Code reads it."""
    if decision.behavior == "allow":
        return json.dumps({"behavior": "allow", "updatedInput": question.input.model_dump(mode="json")})
    message = decision.message or "Denied by the orchestrator."
    return json.dumps({"behavior": "deny", "message": message})


async def decide(channel: Channel, question: AskPermissionParams, timeout_s: float) -> PermissionDecision:
    """The answer, or a denial saying why there is none."""
    try:
        return await asyncio.wait_for(channel.ask(question), timeout_s)
    except TimeoutError:
        reason = f"no answer came within {timeout_s:g} s"
    except HandlerError as exc:
        reason = exc.message
    except HandlerUnavailable as exc:
        reason = str(exc)
    return PermissionDecision(
        behavior="deny", message=f"Denied: cc-executor's permission relay got no answer ({reason})."
    )


def build_server(channel: Channel, timeout_s: float) -> Server:
    async def list_tools(
        ctx: ServerRequestContext, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        tool = types.Tool(
            name=TOOL_NAME,
            description="cc-executor's permission relay: asks whoever started this task whether a tool call may "
            "run. Claude Code calls it by itself (--permission-prompt-tool); it is not for the model.",
            input_schema=INPUT_SCHEMA,
        )
        return types.ListToolsResult(tools=[tool])

    async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name != TOOL_NAME:
            return _text(f"Unknown tool: {params.name}", error=True)
        try:
            question = AskPermissionParams.model_validate(params.arguments or {})
        except ValidationError as exc:
            return _text(f"Invalid arguments: {exc.errors(include_url=False)[0]['msg']}", error=True)
        return _text(answer_text(question, await decide(channel, question, timeout_s)))

    return Server(
        SERVER_NAME,
        version=__version__,
        title="cc-executor permission relay",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _text(text: str, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


@contextlib.asynccontextmanager
async def channel_from_environment() -> AsyncIterator[Channel]:
    channel = Channel(os.environ.get(RELAY_URL_ENV), os.environ.get(RELAY_KEY_ENV))
    try:
        yield channel
    finally:
        await channel.close()


async def serve(timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Serve on stdin/stdout until Claude Code closes stdin."""
    async with channel_from_environment() as channel, stdio_server() as (read_stream, write_stream):
        server = build_server(channel, timeout_s)
        await server.run(read_stream, write_stream, server.create_initialization_options())
