"""Permission prompts of a task's Claude reach the orchestrator (permission_prompts 'orchestrator').

The fake claude calls its permission prompt tool over MCP, as the real CLI does: the relay
(`cc-executor permission-relay`, started by the fake from the --mcp-config the bridge gave
it) asks over the execution's relay channel, the bridge's own socket for a local task and
the handler's for a task on a handler, which forwards the question over the task's
connection. Every test runs both ways, with a real MCP client (in memory) on the bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fixtures import bridge_helpers as b

from cc_executor.contract_tests.live_handler import LiveHandler

pytestmark = pytest.mark.timeout(90)

ORCHESTRATOR = {"permission_prompts": "orchestrator"}


@pytest.fixture(params=["local", "handler"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Bridge settings for a local task, or one on a real handler process."""
    if request.param == "local":
        return {}
    handler: LiveHandler = request.getfixturevalue("handler")
    return {"handler_urls": (handler.url,), "token": handler.token, "backend": "handler"}


@contextlib.asynccontextmanager
async def bridge_on(backend: dict[str, Any], tmp_path: Path) -> AsyncIterator[b.McpBridge]:
    async with b.mcp_bridge(tmp_path / "data", **backend) as br:
        yield br


def task(directive: str, cwd: Path, **options: Any) -> dict[str, Any]:
    return {"task": f"{directive} {b.marker()}", "cwd": str(cwd), **ORCHESTRATOR, **options}


async def waiting(br: b.McpBridge, execution_id: str) -> list[dict[str, Any]]:
    """The requests that wait, once one does (get_execution_status returns as soon as one waits)."""
    status = (await br.ok("get_execution_status", {"execution_id": execution_id, "wait_s": 30}))["execution"]
    assert status["status"] == "running", status
    return status["permission_requests"]


async def until_ended(br: b.McpBridge, execution_id: str, within_s: float) -> dict[str, Any]:
    """Poll until the task has ended (a poll returns at once while a request waits)."""
    deadline = time.monotonic() + within_s
    while True:
        status = (await br.ok("get_execution_status", {"execution_id": execution_id, "wait_s": 0.5}))["execution"]
        if status["status"] not in ("running", "paused"):
            return status
        assert time.monotonic() < deadline, f"still {status['status']} after {within_s} s"
        await asyncio.sleep(0.2)


async def final(br: b.McpBridge, execution_id: str) -> dict[str, Any]:
    status = (await br.ok("get_execution_status", {"execution_id": execution_id, "wait_s": 30}))["execution"]
    assert "permission_requests" not in status, f"still asking: {status}"
    return status


async def test_allow_runs_the_call_and_deny_tells_claude_why(backend: dict[str, Any], tmp_path: Path) -> None:
    """execute_task returns as soon as Claude asks; respond_permission answers; the log says who answered."""
    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    async with bridge_on(backend, tmp_path) as bridge:
        first = await bridge.ok("execute_task", task("[fake:deny]", tmp_path), progress_callback=on_progress)
        assert first["status"] == "running", "it returned early, with the question"
        asking = f"permission p1: Claude asks to use Write {tmp_path / 'notes.md'}; waiting for an answer"
        assert any(asking in str(message) for message in progress), "progress says so"
        [write] = first["permission_requests"]
        assert write["tool"] == "Write" and write["input"] == str(tmp_path / "notes.md")
        assert write["request_id"] in first["hint"] and "respond_permission" in first["hint"]
        assert 0 <= write["waited_s"] < 30 and 270 < write["timeout_s"] <= 300
        assert not (tmp_path / "notes.md").exists(), "nothing written before the answer"

        answered = await bridge.ok(
            "respond_permission",
            {"execution_id": first["execution_id"], "request_id": write["request_id"], "decision": "allow"},
        )
        assert answered["answered"] is True and answered["status"] == "running"
        [shell] = await waiting(bridge, first["execution_id"])
        assert (shell["tool"], shell["input"]) == ("Bash", "rm -rf build")
        assert (tmp_path / "notes.md").read_text() == "notes\n", "the allowed Write ran"

        await bridge.ok(
            "respond_permission",
            {
                "execution_id": first["execution_id"],
                "request_id": shell["request_id"],
                "decision": "deny",
                "message": "Leave the build folder alone.",
            },
        )
        result = await final(bridge, first["execution_id"])
        assert result["status"] == "completed" and result["result"] == "Done, as far as I was allowed."
        assert result["permission_denials"] == [{"tool": "Bash", "input": "rm -rf build"}]
        assert [(e["tool"], e["decision"], e["answered_by"]) for e in result["permission_log"]] == [
            ("Write", "allow", "orchestrator"),
            ("Bash", "deny", "orchestrator"),
        ]
        assert result["permission_log"][1]["message"] == "Leave the build folder alone."
        assert "permission_log" in result["hint"]
        transcript = (await bridge.ok("get_execution_output", {"execution_id": first["execution_id"]}))["data"]
        assert "Leave the build folder alone." in transcript, "Claude saw the denial's message"
        assert f"permission {shell['request_id']}: Bash rm -rf build denied by the orchestrator" in transcript


async def test_an_unanswered_request_is_denied_after_its_timeout(backend: dict[str, Any], tmp_path: Path) -> None:
    async with bridge_on(backend, tmp_path) as bridge:
        arguments = task("[fake:deny]", tmp_path, permission_timeout_s=1, wait=False)
        execution_id = (await bridge.ok("execute_task", arguments))["execution_id"]
        result = await until_ended(bridge, execution_id, within_s=30)  # the requests wait 1 s each, unanswered
        assert result["status"] == "completed"
        assert [(e["tool"], e["answered_by"], e["decision"]) for e in result["permission_log"]] == [
            ("Write", "timeout", "deny"),
            ("Bash", "timeout", "deny"),
        ]
        assert all(1.0 <= e["waited_s"] < 10 for e in result["permission_log"])
        transcript = (await bridge.ok("get_execution_output", {"execution_id": execution_id}))["data"]
        assert "nobody answered within 1 s" in transcript, "Claude is told why"
        assert not (tmp_path / "notes.md").exists()


async def test_remember_answers_the_same_tool_later_without_asking(backend: dict[str, Any], tmp_path: Path) -> None:
    async with bridge_on(backend, tmp_path) as bridge:
        first = await bridge.ok("execute_task", task("[fake:deny repeat=2]", tmp_path))
        execution_id = first["execution_id"]
        [write] = first["permission_requests"]
        answered = await bridge.ok(
            "respond_permission",
            {"execution_id": execution_id, "request_id": write["request_id"], "decision": "allow", "remember": True},
        )
        assert "later Write requests of this task are allowed without asking" in answered["message"]
        [shell] = await waiting(bridge, execution_id)
        await bridge.ok(
            "respond_permission",
            {"execution_id": execution_id, "request_id": shell["request_id"], "decision": "deny", "remember": True},
        )
        result = await final(bridge, execution_id)
        assert [(e["tool"], e["decision"], e["answered_by"]) for e in result["permission_log"]] == [
            ("Write", "allow", "orchestrator"),
            ("Bash", "deny", "orchestrator"),
            ("Write", "allow", "remembered"),
            ("Bash", "deny", "remembered"),
        ]
        assert (tmp_path / "notes-2.md").exists(), "the second Write ran without asking"


async def test_rules_answer_without_asking(backend: dict[str, Any], tmp_path: Path) -> None:
    """An allow rule and a deny rule: the task never stops to ask, and the log names the rules."""
    async with bridge_on(backend, tmp_path) as bridge:
        arguments = task(
            "[fake:deny bash=git_push_origin_main]",
            tmp_path,
            allow_rules=["Edit(*.md)", "Bash(git status:*)"],
            deny_rules=["Bash(git push:*)"],
        )
        result = await bridge.ok("execute_task", arguments)
        assert result["status"] == "completed", result
        assert [(e["tool"], e["decision"], e["answered_by"], e.get("rule")) for e in result["permission_log"]] == [
            ("Write", "allow", "rule", "Edit(*.md)"),
            ("Bash", "deny", "rule", "Bash(git push:*)"),
        ]
        assert (
            result["permission_log"][1]["message"] == "Denied by the rule Bash(git push:*) (deny_rules of this task)."
        )
        assert (tmp_path / "notes.md").exists()
    async with bridge_on(backend, tmp_path) as later:  # another bridge, the same data dir: from the history
        stored = (await later.ok("get_execution_status", {"execution_id": result["execution_id"]}))["execution"]
        assert stored["permission_log"] == result["permission_log"]


async def test_cancel_while_a_request_waits(backend: dict[str, Any], tmp_path: Path) -> None:
    """The task's whole group goes (the relay with it); the waiting request is recorded as ended."""
    async with bridge_on(backend, tmp_path) as bridge:
        arguments = task("[fake:deny]", tmp_path, wait=False)
        marker = arguments["task"].split()[-1]
        execution_id = (await bridge.ok("execute_task", arguments))["execution_id"]
        [write] = await waiting(bridge, execution_id)
        assert b.processes("permission-relay"), "the relay runs while it waits"
        control = await bridge.ok("control_execution", {"execution_id": execution_id, "action": "cancel"})
        assert control["changed"] is True
        result = await final(bridge, execution_id)
        assert result["status"] == "canceled"
        assert [(e["request_id"], e["answered_by"]) for e in result["permission_log"]] == [
            (write["request_id"], "task_ended")
        ]
        assert await b.wait_gone(marker) == []
        late = await bridge.ok(
            "respond_permission", {"execution_id": execution_id, "request_id": write["request_id"], "decision": "allow"}
        )
        assert late["answered"] is False and "ended" in late["message"]


async def test_pause_and_resume_while_a_request_waits(backend: dict[str, Any], tmp_path: Path) -> None:
    async with bridge_on(backend, tmp_path) as bridge:
        first = await bridge.ok("execute_task", task("[fake:deny]", tmp_path))
        execution_id = first["execution_id"]
        paused = await bridge.ok("control_execution", {"execution_id": execution_id, "action": "pause"})
        assert paused["changed"] is True and paused["status"] == "paused"
        [write] = first["permission_requests"]
        await bridge.ok(
            "respond_permission", {"execution_id": execution_id, "request_id": write["request_id"], "decision": "allow"}
        )
        await asyncio.sleep(0.3)
        assert not (tmp_path / "notes.md").exists(), "paused: the answer waits for it"
        await bridge.ok("control_execution", {"execution_id": execution_id, "action": "resume"})
        [shell] = await waiting(bridge, execution_id)
        assert (tmp_path / "notes.md").exists()
        await bridge.ok(
            "respond_permission", {"execution_id": execution_id, "request_id": shell["request_id"], "decision": "deny"}
        )
        assert (await final(bridge, execution_id))["status"] == "completed"


async def test_the_task_timeout_counts_time_spent_waiting_for_an_answer(
    backend: dict[str, Any], tmp_path: Path
) -> None:
    """timeout_s 6, and nobody answers: the task times out while its request waits (recorded as ended)."""
    async with bridge_on(backend, tmp_path) as bridge:
        arguments = task("[fake:deny]", tmp_path, timeout_s=6, wait=False)
        execution_id = (await bridge.ok("execute_task", arguments))["execution_id"]
        await waiting(bridge, execution_id)
        result = await until_ended(bridge, execution_id, within_s=30)
        assert result["status"] == "timed_out", result
        assert [e["answered_by"] for e in result["permission_log"]] == ["task_ended"]


async def test_pause_timeout_while_asking_keeps_the_task_timeout_for_its_work(
    backend: dict[str, Any], tmp_path: Path
) -> None:
    """timeout_s 8 and 9 s waiting for an answer: the task completes, having run longer than its timeout_s."""
    async with bridge_on(backend, tmp_path) as bridge:
        options = {"timeout_s": 8, "pause_timeout_while_asking": True, "wait": False}
        execution_id = (await bridge.ok("execute_task", task("[fake:deny]", tmp_path, **options)))["execution_id"]
        [write] = await waiting(bridge, execution_id)
        await asyncio.sleep(9)
        await bridge.ok(
            "respond_permission", {"execution_id": execution_id, "request_id": write["request_id"], "decision": "allow"}
        )
        [shell] = await waiting(bridge, execution_id)
        await bridge.ok(
            "respond_permission", {"execution_id": execution_id, "request_id": shell["request_id"], "decision": "allow"}
        )
        result = await final(bridge, execution_id)
        assert result["status"] == "completed", result
        assert result["duration_ms"] > 9000, "it ran longer than its timeout_s, most of it waiting for an answer"


async def test_wait_executions_returns_when_one_asks(backend: dict[str, Any], tmp_path: Path) -> None:
    async with bridge_on(backend, tmp_path) as bridge:
        slow = (await bridge.ok("execute_task", {"task": "[fake:slow seconds=20 steps=2]", "wait": False}))[
            "execution_id"
        ]
        asking = (await bridge.ok("execute_task", task("[fake:deny]", tmp_path, wait=False)))["execution_id"]
        started = time.monotonic()
        answer = await bridge.ok("wait_executions", {"execution_ids": [slow, asking], "wait_s": 60})
        assert time.monotonic() - started < 15, "it did not wait for the slow one"
        briefs = {entry["execution_id"]: entry for entry in answer["executions"]}
        assert [r["tool"] for r in briefs[asking]["permission_requests"]] == ["Write"]
        assert "permission_requests" not in briefs[slow]
        assert "respond_permission" in answer["hint"] and asking in answer["hint"]
        await bridge.ok("control_execution", {"execution_id": slow, "action": "cancel"})
        await bridge.ok("control_execution", {"execution_id": asking, "action": "cancel"})


async def test_respond_permission_refuses_what_it_cannot_answer(backend: dict[str, Any], tmp_path: Path) -> None:
    async with bridge_on(backend, tmp_path) as bridge:
        plain = await bridge.ok("execute_task", {"task": "[fake:slow seconds=20 steps=1]", "wait": False})
        refused = await bridge.error(
            "respond_permission", {"execution_id": plain["execution_id"], "request_id": "p1", "decision": "allow"}
        )
        assert "was not started with permission_prompts 'orchestrator': it asks nothing" in refused
        await bridge.ok("control_execution", {"execution_id": plain["execution_id"], "action": "cancel"})
        await until_ended(bridge, plain["execution_id"], within_s=30)
        ended = await bridge.ok(
            "respond_permission", {"execution_id": plain["execution_id"], "request_id": "p1", "decision": "allow"}
        )
        assert ended["answered"] is False and ended["status"] == "canceled"
        assert (
            ended["message"] == "Nothing changed: the task has ended (canceled), and its permission requests with it."
        )
        first = await bridge.ok("execute_task", task("[fake:deny]", tmp_path))
        unknown = await bridge.error(
            "respond_permission", {"execution_id": first["execution_id"], "request_id": "p99", "decision": "allow"}
        )
        assert "no permission request 'p99'" in unknown and "waiting: p1" in unknown
        assert "Unknown execution_id" in await bridge.error(
            "respond_permission", {"execution_id": "nope", "request_id": "p1", "decision": "allow"}
        )
        twice = {"execution_id": first["execution_id"], "request_id": "p1", "decision": "deny"}
        assert (await bridge.ok("respond_permission", twice))["answered"] is True
        again = await bridge.ok("respond_permission", twice)
        assert again["answered"] is False and "answered already" in again["message"]
        await bridge.ok("control_execution", {"execution_id": first["execution_id"], "action": "cancel"})


async def test_options_need_orchestrator_prompts_and_readable_rules(backend: dict[str, Any], tmp_path: Path) -> None:
    async with bridge_on(backend, tmp_path) as bridge:
        without = await bridge.error("execute_task", {"task": "x", "allow_rules": ["Write"], "permission_timeout_s": 5})
        assert "allow_rules, permission_timeout_s need permission_prompts 'orchestrator'" in without
        bad = await bridge.error("execute_task", {"task": "x", **ORCHESTRATOR, "deny_rules": ["Bash("]})
        assert "deny_rules" in bad or "is not a permission rule" in bad


async def test_execute_task_list_refuses_tasks_that_would_ask(tmp_path: Path) -> None:
    """A list's call cannot return early to let the orchestrator answer: such tasks go through execute_task."""
    async with bridge_on({}, tmp_path) as bridge:
        tasks = [{"task": "first"}, task("[fake:deny]", tmp_path), task("[fake:deny]", tmp_path)]
        refused = await bridge.error("execute_task_list", {"tasks": tasks})
        assert refused.startswith("Nothing ran: task 2, 3 of the list have permission_prompts 'orchestrator'")
        assert "execute_task and wait false, then wait_executions" in refused
        assert (await bridge.ok("get_execution_status", {}))["recent"] == []
