"""The bridge as an MCP server: the tools of spec/mcp, served by the SDK's low-level Server.

The low-level Server advertises the spec's schemas exactly as written. This module stays light: the engine
behind the tools (tool_calls.py and all it uses) may still be loading while a client's `initialize` is
answered, and the first tools/list or tools/call waits for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import mcp_types as types
from mcp.server import Server, ServerRequestContext

from cc_executor import __version__

if TYPE_CHECKING:
    from .tool_calls import ToolCalls

INSTRUCTIONS = """\
cc-executor runs tasks in fresh Claude Code instances, each with a full, clean context.
Use execute_task for one task (wait=false for long ones, then get_execution_status with
wait_s to wait in bounded steps), execute_task_list for several (in sequence, or up to
max_parallel at once), or start several with wait=false and wait for them together with
wait_executions. A result's session_id continues that conversation in a follow-up task
(resume_session_id). control_execution pauses/resumes/cancels, get_execution_output
shows what a task did.
A result's hint says what to do next; a task that did not complete is an error result.
Headless, a task's Claude cannot ask for permission: give permission_mode or
allowed_tools for tasks that write files or run commands, or permission_prompts
'orchestrator' to be asked yourself (answer with respond_permission)."""


#: The tools, once the engine behind them is ready.
ToolsSource = Callable[[], Awaitable["ToolCalls"]]


def build_server(tools: ToolsSource) -> Server:
    async def list_tools(
        ctx: ServerRequestContext, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return (await tools()).listing()

    async def call_tool(
        ctx: ServerRequestContext, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        return await (await tools()).call(ctx, params)

    return Server(
        "cc-executor",
        version=__version__,
        title="cc-executor",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
