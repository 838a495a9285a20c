"""`cc-executor permission-relay` as a real process, an MCP client on its stdio as Claude Code is: it lists the
one tool Claude Code calls, and whatever goes wrong on the way to an answer is a denial that says why (nothing
is allowed by accident, nothing waits forever). The way to an answer is a bridge's own relay channel
(bridge/relay_listener.py), here in the test process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from cc_executor.bridge.relay_listener import LocalRelay
from cc_executor.generated.common.permissions import PermissionDecision
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams
from cc_executor.handler.relay_channel import RELAY_KEY_ENV, RELAY_URL_ENV
from cc_executor.permission_prompt import PROMPT_TOOL, SERVER_NAME, TOOL_NAME, mcp_config

pytestmark = pytest.mark.timeout(60)

WRITE = {"tool_name": "Write", "input": {"file_path": "/tmp/x", "content": "x"}, "tool_use_id": "toolu_1"}


@contextlib.asynccontextmanager
async def relay(tmp_path: Path, timeout_s: float = 30, **env: str) -> AsyncIterator[ClientSession]:
    """A `cc-executor permission-relay` process and an MCP session with it, Claude Code's way (2025-11-25)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CC_EXECUTOR_RELAY_")} | env
    command = ["-m", "cc_executor", "permission-relay", "--timeout", str(timeout_s)]
    params = StdioServerParameters(command=sys.executable, args=command, env=environment)
    with open(tmp_path / "relay-stderr.log", "a") as errlog, anyio.fail_after(40):
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session
    assert "Traceback" not in (tmp_path / "relay-stderr.log").read_text()


async def answer(session: ClientSession, arguments: dict[str, object]) -> tuple[bool, str]:
    result = await session.call_tool(TOOL_NAME, arguments)
    return result.is_error, result.content[0].text


def test_the_mcp_config_names_the_relay_that_permission_prompt_tool_names() -> None:
    """Claude Code expands ${CC_EXECUTOR_RELAY_PYTHON} (the interpreter of whoever runs the task) itself, and waits
    longer than the relay, which waits longer than the bridge."""
    server = json.loads(mcp_config(300))["mcpServers"][SERVER_NAME]
    assert PROMPT_TOOL == f"mcp__{SERVER_NAME}__{TOOL_NAME}"
    assert server["command"] == "${CC_EXECUTOR_RELAY_PYTHON}"
    assert server["args"] == ["-m", "cc_executor", "permission-relay", "--timeout", "330"]
    assert server["timeout"] == 360_000


async def test_it_lists_the_tool_claude_code_calls_and_denies_without_a_channel(tmp_path: Path) -> None:
    async with relay(tmp_path) as session:
        [tool] = (await session.list_tools()).tools
        assert tool.name == TOOL_NAME and set(tool.input_schema["required"]) == {"tool_name", "input"}
        is_error, text = await answer(session, WRITE)
        assert not is_error
        assert json.loads(text) == {
            "behavior": "deny",
            "message": "Denied: cc-executor's permission relay got no answer (no relay channel: "
            f"{RELAY_URL_ENV} and {RELAY_KEY_ENV} are not set).",
        }
        is_error, text = await answer(session, {"tool_name": "Write"})
        assert is_error and text.startswith("Invalid arguments:"), "a call Claude Code would never make"


async def test_an_answer_goes_back_as_claude_code_reads_it(tmp_path: Path) -> None:
    """allow: updatedInput is the input as asked; deny: the message."""
    channel = LocalRelay(tmp_path)
    asked: list[AskPermissionParams] = []

    async def decide(question: AskPermissionParams) -> PermissionDecision:
        asked.append(question)
        if question.tool_name == "Write":
            return PermissionDecision(behavior="allow")
        return PermissionDecision(behavior="deny", message="Not that one.")

    key = channel.keys.issue(decide)
    try:
        url = await channel.url()
        [socket] = tmp_path.glob("relay-*.sock")
        assert url == f"ws+unix://{socket}" and stat.S_IMODE(socket.stat().st_mode) == 0o600, "the user's alone"
        async with relay(tmp_path, **{RELAY_URL_ENV: url, RELAY_KEY_ENV: key}) as session:
            assert json.loads((await answer(session, WRITE))[1]) == {
                "behavior": "allow",
                "updatedInput": WRITE["input"],
            }
            bash = {"tool_name": "Bash", "input": {"command": "rm -rf /"}}
            assert json.loads((await answer(session, bash))[1]) == {"behavior": "deny", "message": "Not that one."}
    finally:
        await channel.close()
    assert [(q.tool_name, q.tool_use_id) for q in asked] == [("Write", "toolu_1"), ("Bash", None)]


async def test_a_wrong_key_and_a_missing_answer_are_denials_that_say_why(tmp_path: Path) -> None:
    channel = LocalRelay(tmp_path)
    never = asyncio.Event()

    async def nobody_answers(question: AskPermissionParams) -> PermissionDecision:
        await never.wait()
        raise AssertionError("unreachable")

    key = channel.keys.issue(nobody_answers)
    try:
        url = await channel.url()
        async with relay(tmp_path, **{RELAY_URL_ENV: url, RELAY_KEY_ENV: "not-the-key"}) as session:
            message = json.loads((await answer(session, WRITE))[1])["message"]
            assert message.startswith("Denied: cc-executor's permission relay got no answer (")
            assert "refused the relay (HTTP 401)" in message
        async with relay(tmp_path, timeout_s=1, **{RELAY_URL_ENV: url, RELAY_KEY_ENV: key}) as session:
            message = json.loads((await answer(session, WRITE))[1])["message"]
            assert message.endswith("(no answer came within 1 s).")
    finally:
        await channel.close()
    assert not list(tmp_path.glob("relay-*.sock")), "the bridge's relay socket goes with it"
