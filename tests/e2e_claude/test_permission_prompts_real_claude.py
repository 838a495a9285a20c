"""Issue 14 with the real ``claude`` CLI (2.1.330), offline: a task with permission_prompts 'orchestrator' whose
model (the stand-in Messages API) writes a file. The real CLI calls its permission prompt tool, the relay
(`cc-executor permission-relay`, started by the CLI from the --mcp-config the bridge gave it) asks the bridge,
and the orchestrator's respond_permission decides: allowed, the file is written; denied, it is not, Claude gets
the orchestrator's message as the Write's error, and the result says so. Through a real handler and locally,
with an MCP client (in memory) on the bridge, as an orchestrating model would call it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from e2e_claude import support
from fixtures import bridge_helpers as b

from cc_executor.contract_tests.live_handler import live_handler

fake = support.fake_api

pytestmark = pytest.mark.timeout(90)

DENIAL = "Not in this folder: write under notes/ instead."


@contextlib.asynccontextmanager
async def bridge(how: str, box, api, claude_bin: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[b.McpBridge]:
    """A bridge whose tasks run the real CLI against the fake API: on a real handler, or locally."""
    if how == "local":
        for name, value in box.env(api.url).items():  # the local backend passes the bridge's environment on
            monkeypatch.setenv(name, value)
        async with b.mcp_bridge(box.data_dir, claude_bin=str(claude_bin)) as br:
            yield br
        return
    with live_handler(env=box.env(api.url)) as handler:
        overrides: dict[str, Any] = {"handler_urls": (handler.url,), "token": handler.token, "backend": "handler"}
        async with b.mcp_bridge(box.data_dir, claude_bin=str(claude_bin), **overrides) as br:
            yield br


async def asked(br: b.McpBridge, arguments: dict[str, Any]) -> dict[str, Any]:
    """execute_task, which returns as soon as Claude asks: the one waiting request."""
    first = await br.ok("execute_task", arguments)
    assert first["status"] == "running", first
    [request] = first["permission_requests"]
    return {"execution_id": first["execution_id"], **request}


@pytest.mark.parametrize("how", ["handler", "local"])
async def test_the_orchestrator_allows_and_denies_a_real_claudes_write(
    claude_bin, sandbox, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    allowed_file, denied_file = sandbox.project / "allowed.md", sandbox.project / "denied.md"
    allowed_task, denied_task = f"Write allowed.md {b.marker()}", f"Write denied.md {b.marker()}"
    script = fake.routed(
        {
            allowed_task: fake.tool_then_text(
                "Write", {"file_path": str(allowed_file), "content": "allowed\n"}, lambda seen: f"Wrote it: {seen}"
            ),
            denied_task: fake.tool_then_text(
                "Write", {"file_path": str(denied_file), "content": "denied\n"}, lambda seen: f"Refused: {seen}"
            ),
        },
        fake.text_answer("unexpected task"),
    )
    with fake.fake_anthropic_api(script) as api:
        async with bridge(how, sandbox, api, claude_bin, monkeypatch) as br:
            options = {"cwd": str(sandbox.project), "permission_prompts": "orchestrator"}

            allow = await asked(br, {"task": allowed_task, **options})
            assert (allow["tool"], allow["input"]) == ("Write", str(allowed_file))
            assert not allowed_file.exists(), "nothing is written before the answer"
            answer = {"execution_id": allow["execution_id"], "request_id": allow["request_id"], "decision": "allow"}
            assert (await br.ok("respond_permission", answer))["answered"] is True
            done = await b_final(br, allow["execution_id"])
            assert done["status"] == "completed", done
            assert allowed_file.read_text() == "allowed\n", "the real CLI wrote the allowed file"
            assert done["result"].startswith("Wrote it: File created successfully")
            assert "permission_denials" not in done
            assert [(e["tool"], e["decision"], e["answered_by"]) for e in done["permission_log"]] == [
                ("Write", "allow", "orchestrator")
            ]

            deny = await asked(br, {"task": denied_task, **options})
            answer = {
                "execution_id": deny["execution_id"],
                "request_id": deny["request_id"],
                "decision": "deny",
                "message": DENIAL,
            }
            assert (await br.ok("respond_permission", answer))["answered"] is True
            refused = await b_final(br, deny["execution_id"])
            transcript = (await br.ok("get_execution_output", {"execution_id": deny["execution_id"]}))["data"]

    assert not denied_file.exists(), "a denied Write writes nothing"
    assert refused["status"] == "completed", refused
    assert refused["result"] == f"Refused: {DENIAL}", "Claude got the orchestrator's message as the Write's error"
    assert refused["permission_denials"] == [{"tool": "Write", "input": str(denied_file)}]
    [entry] = refused["permission_log"]
    assert (entry["tool"], entry["decision"], entry["answered_by"], entry["message"]) == (
        "Write",
        "deny",
        "orchestrator",
        DENIAL,
    )
    assert "permission_log" in refused["hint"]
    assert "denied by the orchestrator" in transcript
    [denied_result] = [r for r in api.messages_requests if denied_task in r.prompt_text() and r.tool_results()]
    assert denied_result.tool_results()[0].get("is_error") is True


async def b_final(br: b.McpBridge, execution_id: str) -> dict[str, Any]:
    status = (await br.ok("get_execution_status", {"execution_id": execution_id, "wait_s": 30}))["execution"]
    assert "permission_requests" not in status, f"still asking: {status}"
    return status
