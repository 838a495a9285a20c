"""How a task's Claude Code is given cc-executor's permission relay as its `--permission-prompt-tool`.

Whoever builds a task's command (the bridge) needs only these names and the `--mcp-config`;
the relay itself (permission_relay.py, with the MCP SDK) runs inside the task's Claude Code,
so building a command does not load the SDK.
"""

from __future__ import annotations

import json

from cc_executor.handler.relay_channel import RELAY_PYTHON_ENV

SERVER_NAME = "cc-executor-permissions"
TOOL_NAME = "approve"
#: What `--permission-prompt-tool` names: Claude Code's name for the relay's tool.
PROMPT_TOOL = f"mcp__{SERVER_NAME}__{TOOL_NAME}"
#: The relay waits this much longer than the bridge (which denies at the task's permission_timeout_s), and
#: Claude Code this much longer again than the relay, so the answer that arrives is always the bridge's.
RELAY_GRACE_S = 30


def mcp_config(permission_timeout_s: float) -> str:
    """The --mcp-config that gives a task's Claude Code the relay. Its command is the interpreter of whoever runs
    the task (CC_EXECUTOR_RELAY_PYTHON, which Claude Code expands from its environment): a handler's
    machine need not have the bridge's."""
    relay_timeout = permission_timeout_s + RELAY_GRACE_S
    server = {
        "type": "stdio",
        "command": "${" + RELAY_PYTHON_ENV + "}",
        "args": ["-m", "cc_executor", "permission-relay", "--timeout", f"{relay_timeout:g}"],
        "timeout": int((relay_timeout + RELAY_GRACE_S) * 1000),  # ms: Claude Code's own limit on one call
    }
    return json.dumps({"mcpServers": {SERVER_NAME: server}}, separators=(",", ":"))
