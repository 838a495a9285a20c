"""Permission requests put to the MCP host's user (elicitation) when the host supports it: an
`elicitation/create` within the waiting tool call (MCP 2025-11-25), or an `input_required` result that the
host answers by calling the tool again (MCP 2026-07-28; a retried execute_task follows the task it started).
A real MCP client (in memory) with an elicitation callback plays the host; the fake claude asks over MCP.
accept answers, decline denies, cancel leaves the request to respond_permission."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from fixtures import bridge_helpers as b
from mcp.client.context import ClientRequestContext

pytestmark = pytest.mark.timeout(90)

ORCHESTRATOR = {"permission_prompts": "orchestrator"}


class Host:
    """The host's user: answers each question by the tool it names ({tool: (action, content)}), and remembers
    what it was asked."""

    def __init__(self, answers: dict[str, tuple[str, dict[str, Any] | None]]) -> None:
        self.answers = answers
        self.asked: list[types.ElicitRequestParams] = []

    async def __call__(self, context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params)
        [tool] = [tool for tool in self.answers if f"Claude asks to use {tool} " in params.message]
        action, content = self.answers[tool]
        return types.ElicitResult(action=action, content=content)


def task(directive: str, cwd: Path, **options: Any) -> dict[str, Any]:
    return {"task": f"{directive} {b.marker()}", "cwd": str(cwd), **ORCHESTRATOR, **options}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_hosts_user_allows_and_denies(tmp_path: Path, mode: str) -> None:
    """accept {allow, remember} allows the Write and the later one; decline denies the Bash: execute_task never
    returns early, and the log says the host's user answered."""
    host = Host({"Write": ("accept", {"decision": "allow", "remember": True}), "Bash": ("decline", None)})
    async with b.mcp_bridge(tmp_path / "data", mode, elicitation=host) as bridge:
        result = await bridge.ok("execute_task", task("[fake:deny repeat=2]", tmp_path))
    assert result["status"] == "completed", result
    assert [(e["tool"], e["decision"], e["answered_by"]) for e in result["permission_log"]] == [
        ("Write", "allow", "elicitation"),
        ("Bash", "deny", "elicitation"),
        ("Write", "allow", "remembered"),
        ("Bash", "deny", "elicitation"),
    ]
    assert result["permission_log"][1]["message"] == "Denied by the user."
    assert (tmp_path / "notes.md").exists() and (tmp_path / "notes-2.md").exists()
    assert len(host.asked) == 3, "never about what a remembered answer decided"
    first = host.asked[0]
    assert isinstance(first, types.ElicitRequestFormParams)
    assert f"Write {tmp_path / 'notes.md'}" in first.message and result["execution_id"] in first.message
    assert first.requested_schema["required"] == ["decision"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_message_from_the_hosts_user_reaches_claude(tmp_path: Path, mode: str) -> None:
    host = Host(
        {
            "Write": ("accept", {"decision": "deny", "message": "Write to docs/ instead."}),
            "Bash": ("accept", {"decision": "allow"}),
        }
    )
    async with b.mcp_bridge(tmp_path / "data", mode, elicitation=host) as bridge:
        result = await bridge.ok("execute_task", task("[fake:deny]", tmp_path))
        transcript = (await bridge.ok("get_execution_output", {"execution_id": result["execution_id"]}))["data"]
    assert [(e["tool"], e["decision"], e.get("message")) for e in result["permission_log"]] == [
        ("Write", "deny", "Write to docs/ instead."),
        ("Bash", "allow", None),
    ]
    assert "Write to docs/ instead." in transcript and not (tmp_path / "notes.md").exists()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_cancel_leaves_the_request_to_respond_permission(tmp_path: Path, mode: str) -> None:
    """A host with nobody to ask cancels: the call returns with the request waiting, which is put to the host
    only once; respond_permission answers it."""
    host = Host({"Write": ("cancel", None), "Bash": ("cancel", None)})
    async with b.mcp_bridge(tmp_path / "data", mode, elicitation=host) as bridge:
        first = await bridge.ok("execute_task", task("[fake:deny]", tmp_path))
        assert first["status"] == "running", first
        [write] = first["permission_requests"]
        status = await bridge.ok("get_execution_status", {"execution_id": first["execution_id"], "wait_s": 30})
        assert [r["request_id"] for r in status["execution"]["permission_requests"]] == [write["request_id"]]
        answer = {"execution_id": first["execution_id"], "request_id": write["request_id"], "decision": "allow"}
        await bridge.ok("respond_permission", answer)
        status = await bridge.ok("get_execution_status", {"execution_id": first["execution_id"], "wait_s": 30})
        [bash] = status["execution"]["permission_requests"]
        answer = {"execution_id": first["execution_id"], "request_id": bash["request_id"], "decision": "deny"}
        await bridge.ok("respond_permission", answer)
        result = await bridge.ok("get_execution_status", {"execution_id": first["execution_id"], "wait_s": 30})
    assert [m.message.split(": Claude asks to use ")[1].split()[0] for m in host.asked] == ["Write", "Bash"]
    assert [(e["tool"], e["answered_by"]) for e in result["execution"]["permission_log"]] == [
        ("Write", "orchestrator"),
        ("Bash", "orchestrator"),
    ]
    assert (tmp_path / "notes.md").exists()
