"""Every MCP tool of the bridge, through the SDK's in-memory client, in both protocol eras.

`mode="auto"` speaks 2026-07-28 (direct dispatch), `mode="legacy"` the 2025-11-25
JSON-RPC handshake. Tasks run for real: the local backend starts the fake `claude`
(tests/fixtures/fake_claude.py) in its own process group. Every successful result is
checked against the outputSchema the bridge advertises.
"""

from __future__ import annotations

import json
import time

import anyio
import pytest
from fixtures import bridge_helpers as b
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


# -- execute_task ----------------------------------------------------------------------


async def test_execute_task_returns_the_result_and_reports_progress(tmp_path, mode):
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with b.mcp_bridge(tmp_path, mode) as br:
        started = time.monotonic()
        result = await br.call(
            "execute_task", {"task": "take your time [fake:slow seconds=2 steps=3]"}, progress_callback=on_progress
        )
        elapsed = time.monotonic() - started
    assert not result.is_error
    data = result.structured_content
    assert list(data)[:2] == ["status", "result"], "answer first"
    assert data["status"] == "completed"
    assert data["exit_code"] == 0
    assert data["result"] == "Finished the slow task."
    assert "error" not in data and "hint" not in data
    assert data["num_turns"] >= 3 and data["session_id"]
    assert data["backend"] == "local"
    assert 1500 <= data["duration_ms"] <= elapsed * 1000 + 100
    b.assert_same_facts(data, b.text_of(result))
    # progress: human-readable steps, in order, ending with the outcome
    messages = [message for _, _, message in progress]
    assert len(progress) >= 4, progress
    assert all(isinstance(m, str) and m.strip() for m in messages)
    values = [value for value, _, _ in progress]
    assert values == sorted(set(values)), "strictly increasing"
    assert messages[0] == "started on local"
    assert any(m.startswith("turn 1 · mcp__bridge__slow: ") for m in messages), messages
    assert any(m.startswith("turn ") and "Claude: Step 1 of 3 done." in m for m in messages), messages
    assert messages[-1] == "completed: done"


async def test_wait_false_returns_at_once_and_status_waits_for_the_result(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        started = time.monotonic()
        first = await br.ok("execute_task", {"task": "later [fake:slow seconds=1.5 steps=2]", "wait": False})
        assert time.monotonic() - started < 1.0
        assert first["status"] == "running" and first["backend"] == "local"
        execution_id = first["execution_id"]
        assert f"get_execution_status with execution_id '{execution_id}' and wait_s" in first["hint"]
        early = await br.ok("get_execution_status", {"execution_id": execution_id, "wait_s": 0.2})
        assert early["execution"]["status"] == "running"
        assert "result" not in early["execution"] and "recent" not in early
        assert {"num_turns", "tool_calls", "duration_ms"} <= set(early["execution"])
        assert "get_execution_status" in early["execution"]["hint"]
        done = await br.ok("get_execution_status", {"execution_id": execution_id, "wait_s": 10})
    execution = done["execution"]
    assert execution["status"] == "completed"
    assert execution["result"] == "Finished the slow task."
    assert execution["task"] == "later [fake:slow seconds=1.5 steps=2]"
    assert execution["num_turns"] >= 2
    assert "hint" not in execution and "activity" not in execution, "nothing to do, nothing running"


async def test_claude_not_logged_in_is_a_failure_that_says_to_log_in(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call("execute_task", {"task": "anything [fake:auth]"})
        data = await br.failed("execute_task", {"task": "again [fake:auth]"})
    assert result.is_error  # the task failed: the model must not take it for an answer
    assert result.structured_content["status"] == "failed"
    assert data["status"] == "failed"
    assert data["exit_code"] == 1 and "result" not in data
    assert "log in" in data["error"] and "/login" in data["error"]
    b.assert_same_facts(result.structured_content, b.text_of(result))


async def test_a_crashing_claude_is_a_clear_failure(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.failed("execute_task", {"task": "build it [fake:crash]"})
    assert data["status"] == "failed"
    assert data["exit_code"] == -11  # claude itself, killed by SIGSEGV (not the shell's 139)
    assert "result" not in data
    assert "without a result" in data["error"] and "SIGSEGV" in data["error"]
    assert "stderr" in data["hint"] and "raw" in data["hint"]


async def test_a_missing_claude_binary_fails_clearly_and_at_once(tmp_path, mode):
    missing = str(tmp_path / "no" / "claude")
    async with b.mcp_bridge(tmp_path, mode, claude_bin=missing) as br:
        started = time.monotonic()
        result = await br.call("execute_task", {"task": "hello"})
        assert time.monotonic() - started < 5
    assert result.is_error
    data = result.structured_content
    assert data["status"] == "failed" and data["backend"] == "none"
    assert missing in data["error"] and "not found" in data["error"]
    assert "Traceback" not in b.text_of(result)


async def test_a_missing_working_directory_is_refused_and_nothing_runs(tmp_path, mode):
    missing = str(tmp_path / "not" / "here")
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.failed("execute_task", {"task": "hello", "cwd": missing})
    assert data["status"] == "failed" and data["backend"] == "none" and "exit_code" not in data
    assert data["error"] == f"working directory does not exist: {missing}"
    assert "cwd" in data["hint"] and "absolute" in data["hint"]


async def test_a_relative_working_directory_is_refused_before_anything_runs(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        message = await br.error("execute_task", {"task": "hello", "cwd": "src/project"})
        listing = await br.ok("get_execution_status", {})
    assert message.startswith("Invalid arguments for execute_task: cwd: 'src/project' does not match")
    assert "absolute path" in message
    assert listing["recent"] == []


async def test_the_bridges_working_directory_is_the_default(tmp_path, mode, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.ok("execute_task", {"task": "where [fake:echo_args]"})
    assert json.loads(data["result"])["cwd"] == str(tmp_path)


@pytest.mark.parametrize("task", ["-p --version", "--help me [fake:echo_args]", "- [fake:echo_args]"])
async def test_a_task_starting_with_a_dash_is_the_prompt(tmp_path, mode, task):
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.ok("execute_task", {"task": task})
    assert data["status"] == "completed", data
    if "[fake:echo_args]" in task:
        assert json.loads(data["result"])["prompt"] == task
    else:
        assert data["result"] == f"Echo: {task}"


# -- execute_task_list -------------------------------------------------------------------


@pytest.mark.parametrize("stop_on_failure", [True, False])
async def test_execute_task_list_runs_in_order_and_sums_up(tmp_path, mode, stop_on_failure):
    tasks = [{"task": "first"}, {"task": "second [fake:auth]"}, {"task": "third"}]
    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call(
            "execute_task_list", {"tasks": tasks, "stop_on_failure": stop_on_failure}, progress_callback=on_progress
        )
    assert result.is_error, "a task of the list did not complete"
    data = result.structured_content
    statuses = [r["status"] for r in data["results"]]
    summary = data["summary"]
    if stop_on_failure:
        assert statuses == ["completed", "failed"]
        assert summary | {"duration_ms": 0} == {
            "total": 3, "completed": 1, "failed": 1, "canceled": 0, "timed_out": 0, "skipped": 1, "duration_ms": 0
        }  # fmt: skip
    else:
        assert statuses == ["completed", "failed", "completed"]
        assert data["results"][2]["result"] == "Echo: third"
        assert summary | {"duration_ms": 0} == {
            "total": 3, "completed": 2, "failed": 1, "canceled": 0, "timed_out": 0, "skipped": 0, "duration_ms": 0
        }  # fmt: skip
    assert data["results"][0]["result"] == "Echo: first"
    assert "/login" in data["results"][1]["error"]
    assert len({r["execution_id"] for r in data["results"]}) == len(statuses)
    text = b.text_of(result)
    assert f"{summary['completed']} of 3 completed" in text and f"{summary['skipped']} skipped" in text
    assert any(m and m.startswith("task 1/3 · ") for m in progress)
    assert any(m and m.startswith("task 2/3 · ") for m in progress)


async def test_execute_task_list_checks_every_task_before_running_any(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        message = await br.error("execute_task_list", {"tasks": [{"task": "fine"}, {"task": "x", "max_turns": 0}]})
        listing = await br.ok("get_execution_status", {})
    assert "tasks.1.max_turns" in message
    assert listing["recent"] == []


# -- get_execution_status ------------------------------------------------------------------


async def test_get_execution_status_of_an_unknown_id_names_it(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        message = await br.error("get_execution_status", {"execution_id": "no-such-execution"})
    assert "no-such-execution" in message


async def test_get_execution_status_lists_recent_executions_newest_first(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        empty = await br.call("get_execution_status", {})
        assert empty.structured_content == {"recent": []}
        ids = [(await br.ok("execute_task", {"task": f"job {n}"}))["execution_id"] for n in range(3)]
        listing = await br.ok("get_execution_status", {})
        limited = await br.ok("get_execution_status", {"limit": 2})
    assert "execution" not in listing
    assert [row["execution_id"] for row in listing["recent"]] == ids[::-1]
    assert [row["task"] for row in listing["recent"]] == ["job 2", "job 1", "job 0"]
    assert {row["status"] for row in listing["recent"]} == {"completed"}
    assert [row["execution_id"] for row in limited["recent"]] == ids[:0:-1]


# -- get_execution_output --------------------------------------------------------------------


async def page_through(
    br: b.McpBridge, execution_id: str, stream: str = "stdout", limit: int = 20000, form: str = "raw", offset: int = 0
) -> tuple[str, int]:
    """The whole stream from `offset`, page by page; also how many pages it took."""
    pieces, pages = [], 0
    while True:
        arguments = {"execution_id": execution_id, "stream": stream, "format": form, "offset": offset, "limit": limit}
        page = await br.ok("get_execution_output", arguments)
        pages += 1
        assert page["offset"] == offset and page["stream"] == stream and page["format"] == form
        assert len(page["data"].encode()) <= limit
        pieces.append(page["data"])
        if page["complete"]:
            assert "next_offset" not in page
            assert offset + len(page["data"].encode()) == page["total_bytes"]
            return "".join(pieces), pages
        assert page["next_offset"] > offset
        offset = page["next_offset"]


async def test_paging_through_the_output_reassembles_it_exactly(tmp_path, mode):
    task = "résumé ✓ 日本語 [fake:echo_args]"  # echoed back: multi-byte characters, so small pages cut inside them
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.ok("execute_task", {"task": task})
        execution_id = data["execution_id"]
        stdout, pages = await page_through(br, execution_id, limit=97)
        whole, _ = await page_through(br, execution_id, limit=100000)
        result_text, _ = await page_through(br, execution_id, stream="result")
        result_in_pieces, _ = await page_through(br, execution_id, stream="result", limit=5)
        stderr, _ = await page_through(br, execution_id, stream="stderr")
        past_the_end = await br.ok("get_execution_output", {"execution_id": execution_id, "offset": 10**9})
        unknown = await br.error("get_execution_output", {"execution_id": "nope-nope"})
    stored = (tmp_path / "outputs" / execution_id / "stdout.txt").read_bytes()
    assert stdout.encode() == stored == whole.encode()
    assert pages > 10
    assert [json.loads(line)["type"] for line in stdout.splitlines()][-1] == "result"
    assert "日本語" in stdout
    assert result_text == result_in_pieces == data["result"] and json.loads(result_text)["prompt"] == task
    assert not (tmp_path / "outputs" / execution_id / "result.txt").exists(), "an answer shown whole is stored once"
    assert stderr == ""
    assert past_the_end["data"] == "" and past_the_end["complete"] is True
    assert "nope-nope" in unknown


async def test_huge_output_stays_out_of_the_result_but_can_be_paged(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call("execute_task", {"task": "dump it [fake:huge mb=5]"})
        data = result.structured_content
        assert data["status"] == "completed"
        assert len(json.dumps(data)) < 1000
        assert len(b.text_of(result)) < 1000
        stdout, pages = await page_through(br, data["execution_id"], limit=100000)
        transcript, _ = await page_through(br, data["execution_id"], limit=100000, form="text")
    stored = (tmp_path / "outputs" / data["execution_id"] / "stdout.txt").read_bytes()
    assert len(stored) > 5 * 1024 * 1024
    assert stdout.encode() == stored
    assert pages >= len(stored) // 100000
    assert len(transcript) < len(stored) / 50, "tool results are shortened in the readable transcript"
    assert "turn 1 · Bash: cat part-1.log" in transcript


async def test_output_past_the_cap_is_dropped_and_said_so(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode, max_output_bytes=50_000) as br:
        result = await br.call("execute_task", {"task": "[fake:huge mb=1]"})
        data = result.structured_content
        stdout, _ = await page_through(br, data["execution_id"], limit=100000)
    assert data["status"] == "completed", "the stream is still read to the end"
    assert data["result"].startswith("Read ") and data["result"].endswith(" parts.") and data["num_turns"] > 1
    assert data["output_truncated"] is True
    assert len(stdout.encode()) <= 50_000
    assert "hit the bridge's cap" in b.text_of(result)


# -- control_execution ----------------------------------------------------------------------------


async def test_pause_resume_and_cancel_a_running_task(tmp_path, mode):
    tag = b.marker()
    async with b.mcp_bridge(tmp_path, mode) as br:
        started = await br.ok("execute_task", {"task": f"{tag} [fake:slow seconds=20 steps=20]", "wait": False})
        execution_id = started["execution_id"]
        (leader,) = await b.wait_for_processes(tag)

        paused = await br.ok("control_execution", {"execution_id": execution_id, "action": "pause"})
        assert paused | {"message": ""} == {
            "execution_id": execution_id, "action": "pause", "status": "paused", "changed": True, "message": ""
        }  # fmt: skip
        await anyio.sleep(0.1)
        assert {p.state for p in b.processes(tag)} == {"T"}, "the whole group is stopped"
        status = await br.ok("get_execution_status", {"execution_id": execution_id})
        assert status["execution"]["status"] == "paused"
        assert "'resume'" in status["execution"]["hint"]
        again = await br.ok("control_execution", {"execution_id": execution_id, "action": "pause"})
        assert again["changed"] is False and again["status"] == "paused"

        resumed = await br.ok("control_execution", {"execution_id": execution_id, "action": "resume"})
        assert resumed["changed"] is True and resumed["status"] == "running"
        await anyio.sleep(0.1)
        assert "T" not in {p.state for p in b.processes(tag)}
        not_paused = await br.ok("control_execution", {"execution_id": execution_id, "action": "resume"})
        assert not_paused["changed"] is False

        canceled = await br.ok("control_execution", {"execution_id": execution_id, "action": "cancel"})
        assert canceled["changed"] is True
        final = await br.ok("get_execution_status", {"execution_id": execution_id, "wait_s": 10})
        assert await b.wait_gone(tag) == []
        assert not b.group_alive(leader.pgid)
        late = await br.ok("control_execution", {"execution_id": execution_id, "action": "cancel"})
        unknown = await br.error("control_execution", {"execution_id": "ghost-id", "action": "cancel"})
    result = final["execution"]
    assert result["status"] == "canceled"
    assert result["error"] == "Canceled by control_execution"
    assert late["changed"] is False and late["status"] == "canceled"
    assert "ghost-id" in unknown


async def test_cancelling_the_mcp_call_kills_the_process_group(tmp_path, mode):
    """The client gives up on a running execute_task: the bridge ends the whole group and records it."""
    tag = b.marker()
    async with b.mcp_bridge(tmp_path, mode) as br:
        scope = anyio.CancelScope()

        async def call() -> None:
            with scope:
                await br.client.call_tool("execute_task", {"task": f"{tag} [fake:hang children=2]"})

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            found = await b.wait_for_processes(tag, count=3)  # claude and the two sleepers it forked
            scope.cancel()
        assert len({p.pgid for p in found}) == 1
        assert await b.wait_gone(tag, timeout_s=10) == [], "the fake claude and its children are gone"
        assert not b.group_alive(found[0].pgid)
        with anyio.fail_after(10):
            while True:
                listing = await br.ok("get_execution_status", {})
                if listing["recent"] and listing["recent"][0]["status"] != "running":
                    break
                await anyio.sleep(0.05)
        status = await br.ok("get_execution_status", {"execution_id": listing["recent"][0]["execution_id"]})
    assert status["execution"]["status"] == "canceled"
    assert status["execution"]["error"] == "Canceled by the MCP client"


# -- the rest -------------------------------------------------------------------------------------


async def test_get_hook_status_without_a_handler_or_hooks_file(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call("get_hook_status", {})
    assert result.structured_content == {
        "enabled": False,
        "message": "Hook integration not configured",
        "backend": "local",
    }


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("execute_task", {}, "'task' is a required property"),
        ("execute_task", {"task": ""}, "task:"),
        ("execute_task", {"task": "x", "timeout_s": 0}, "timeout_s:"),
        ("execute_task", {"task": "x", "permission_mode": "yolo"}, "permission_mode:"),
        ("execute_task", {"task": "x", "bogus": 1}, "'bogus'"),
        ("execute_task", {"task": "x", "wait": "yes"}, "wait:"),
        ("execute_task_list", {"tasks": []}, "tasks:"),
        ("get_execution_status", {"wait_s": 301}, "wait_s:"),
        ("get_execution_output", {"execution_id": "x", "limit": 0}, "limit:"),
        ("get_execution_output", {"execution_id": "x", "stream": "both"}, "stream:"),
        ("control_execution", {"execution_id": "x", "action": "explode"}, "action:"),
        ("control_execution", {"action": "cancel"}, "'execution_id' is a required property"),
        ("get_hook_status", {"verbose": True}, "'verbose'"),
    ],
)
async def test_invalid_arguments_are_a_tool_error_naming_the_field(tmp_path, mode, tool, arguments, field):
    async with b.mcp_bridge(tmp_path, mode) as br:
        message = await br.error(tool, arguments)
        listing = await br.ok("get_execution_status", {})
    assert message.startswith(f"Invalid arguments for {tool}: ")
    assert field in message
    assert listing["recent"] == [], "nothing ran"


async def test_an_unknown_tool_is_a_protocol_error(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        with pytest.raises(MCPError) as raised:
            await br.client.call_tool("execute_tasks", {"task": "x"})
        still_serving = await br.ok("get_hook_status", {})
    assert raised.value.code == -32602
    assert "execute_tasks" in raised.value.message
    assert still_serving["backend"] == "local"


async def test_tasks_beyond_max_concurrent_wait_queued_for_a_slot(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode, max_concurrent=1) as br:
        first = await br.ok("execute_task", {"task": "one [fake:slow seconds=1.5 steps=2]", "wait": False})
        second = await br.ok("execute_task", {"task": "two", "wait": False})
        assert second["status"] == "queued" and second["backend"] == "pending"
        assert "--max-concurrent" in second["hint"]
        waiting = await br.ok("get_execution_status", {"execution_id": second["execution_id"]})
        assert waiting["execution"]["status"] == "queued" and waiting["execution"]["backend"] == "pending"
        third = await br.ok("execute_task", {"task": "three", "wait": False})
        canceled = await br.ok("control_execution", {"execution_id": third["execution_id"], "action": "cancel"})
        done = await br.ok("get_execution_status", {"execution_id": second["execution_id"], "wait_s": 15})
        finished_first = await br.ok("get_execution_status", {"execution_id": first["execution_id"]})
        never_ran = await br.ok("get_execution_status", {"execution_id": third["execution_id"], "wait_s": 15})
    assert done["execution"]["status"] == "completed"
    assert finished_first["execution"]["status"] == "completed"
    assert canceled["changed"] is True
    assert never_ran["execution"]["status"] == "canceled" and never_ran["execution"]["backend"] == "none"
