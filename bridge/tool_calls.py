"""The MCP tools of spec/mcp at work: arguments checked once against the spec's schemas, typed, handed to
the tools (tools.py) with a view of the engine for the calling client; progress from Claude's stream goes out
as MCP progress notifications, and a cancelled tools/call cancels the task's process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.shared.exceptions import MCPError
from starlette.requests import Request

from .client_view import ClientView
from .elicitation import AskHost, Elicitation, Resumed, resume
from .execution_state import ProgressListener, ProgressUpdate
from .executions import ExecutionManager, QueueFull
from .mcp_server import ToolsSource
from .tool_specs import ToolSpec, load_tools
from .tools import TOOLS, ToolFailure

log = logging.getLogger("cc_executor.bridge")
#: How long the last progress updates may take to go out before the result does: a client that reads nothing
#: would not read the result either, so this only has to outlast a slow (or loaded) one.
PROGRESS_FLUSH_S = 5.0


class ToolProgress:
    """One tools/call's context and progress: every execution step the call follows becomes an MCP progress
    notification. Values only grow on the call's progress token, across all the tasks of a list too, run one
    after another or at once: a list's value is the number of its tasks that have ended plus a fraction that
    grows with every step since the last one ended (total N); a single task counts its steps. One sender
    sends them all, in order."""

    def __init__(self, manager: ClientView, ctx: ServerRequestContext, resumed: Resumed | None = None) -> None:
        self.manager = manager
        self.ctx = ctx
        self.host = Elicitation.of(ctx)
        self.resumed = resumed
        self._queue: asyncio.Queue[tuple[float, float | None, str]] = asyncio.Queue(maxsize=64)
        self._last = 0.0
        self._ended = 0  # tasks of a list that have ended
        self._steps = 0  # steps of a list's tasks since the last one ended
        self._open = 0
        self._sender: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def progress(self, index: int = 1, of: int = 1) -> AsyncIterator[ProgressListener]:
        prefix = f"task {index}/{of} · " if of > 1 else ""

        def report(update: ProgressUpdate) -> None:
            if of > 1:
                self._steps += 1
                value = self._ended + self._steps / (self._steps + 1)
            else:
                value = float(update.count)
            if value <= self._last:  # never backwards, never standing still (MCP forbids both)
                return
            self._last = value
            with contextlib.suppress(asyncio.QueueFull):  # a slow client misses intermediate steps, not the task
                self._queue.put_nowait((value, of if of > 1 else None, prefix + update.message))

        self._open += 1
        if self._sender is None:
            self._sender = asyncio.create_task(self._forward())
        flush = False
        try:
            yield report
            flush = True
        finally:
            self._ended, self._steps = self._ended + 1, 0
            self._open -= 1
            if self._open == 0:
                await self._stop_sender(flush)

    async def _forward(self) -> None:
        while True:
            value, total, message = await self._queue.get()
            try:
                with contextlib.suppress(Exception):  # a client that went away must not fail the task
                    await self.ctx.session.report_progress(value, total, message)
            finally:
                self._queue.task_done()

    async def _stop_sender(self, flush: bool) -> None:
        """The last updates (the final status) go out before the result does, then the sender stops."""
        sender, self._sender = self._sender, None
        if sender is None:
            return
        if flush:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._queue.join()), PROGRESS_FLUSH_S)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


def http_session(ctx: ServerRequestContext) -> str | None:
    """The streamable-HTTP session a call came in (its Mcp-Session-Id); None over stdio or without a session."""
    request = ctx.request
    return request.headers.get(MCP_SESSION_ID_HEADER) if isinstance(request, Request) else None


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


class ToolCalls:
    """The tools as one engine serves them."""

    def __init__(self, manager: ExecutionManager) -> None:
        self.manager = manager
        self.catalog: dict[str, ToolSpec] = load_tools()
        if set(self.catalog) != set(TOOLS):
            raise RuntimeError(f"spec/mcp/tools.yaml and the bridge disagree: {sorted(set(self.catalog) ^ set(TOOLS))}")

    def listing(self) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[spec.tool for spec in self.catalog.values()])

    async def call(
        self, ctx: ServerRequestContext, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        spec = self.catalog.get(params.name)
        if spec is None:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {params.name}")
        arguments = params.arguments or {}
        problems = spec.argument_errors(arguments)
        if problems:
            return error_result(f"Invalid arguments for {params.name}: " + "; ".join(problems))
        model, function = TOOLS[params.name]
        view = ClientView(self.manager, http_session(ctx))
        try:
            resumed = resume(view, params)  # a retry after input_required: the host's answers apply first
        except ValueError as exc:
            return error_result(f"Cannot carry on with {params.name}: {exc}")
        call = ToolProgress(view, ctx, resumed)
        try:
            # the arguments passed the spec's schema above; this only makes them typed
            answer = await function(call, model.model_validate(arguments) if model else None)
        except AskHost as ask:
            return ask.result
        except (ToolFailure, QueueFull) as exc:
            return error_result(str(exc))
        except Exception as exc:  # never a traceback to the client; the log has it
            log.exception("tool failed", extra={"event": {"tool": params.name}})
            return error_result(f"Internal error in {params.name}: {exc}")
        finally:
            if call.host is not None:
                await call.host.close()
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=answer.text)],
            # the generated model is the outputSchema's; the tests check every result against the schema itself
            structured_content=answer.structured.model_dump(mode="json", exclude_none=True),
            is_error=answer.is_error,
        )


def served(manager: ExecutionManager) -> ToolsSource:
    """The tools of an engine that is loaded already: for an MCP client in the same process (tests, benchmarks)."""
    tools = ToolCalls(manager)

    async def ready() -> ToolCalls:
        return tools

    return ready
