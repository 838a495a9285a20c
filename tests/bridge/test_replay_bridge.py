"""The bridge against the handler's recorded behaviour, without the handler.

A fake handler (tests/fixtures/fake_handler.py) plays back the transcripts in
contract_tests/recordings/ (recorded from the real handler) and, for compatibility, the
original handler's reference transcripts. The bridge sends the requests the recording's
client sent; it must reach the result the recorded frames imply, and every request it
sends must conform to spec/ws.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fixtures import bridge_helpers as b
from fixtures import fake_handler as fake
from mcp import Client

from cc_executor.bridge.executions import BridgeSettings, ExecutionManager, TaskRequest
from cc_executor.bridge.mcp_server import build_server
from cc_executor.bridge.output_store import read_page
from cc_executor.bridge.tool_calls import served
from cc_executor.generated.mcp.common import TaskResult

pytestmark = pytest.mark.timeout(30)


def recording(name: str, folder: Path = fake.RECORDINGS) -> list[dict[str, Any]]:
    path = folder / name
    if not path.is_file():
        pytest.fail(f"{path} is not there (the reference transcripts live in tests/reference/)")
    return fake.load(path)


def recorded_command(events: list[dict[str, Any]], request_id: Any = 1) -> str:
    sent = [e["frame"] for e in events if e["dir"] == "send" and isinstance(e.get("frame"), dict)]
    (execute,) = [f for f in sent if f.get("method") == "execute" and f.get("id") == request_id]
    return execute["params"]["command"]


def recorded_output(events: list[dict[str, Any]], stream: str) -> str:
    return "".join(
        e["frame"]["params"]["data"]
        for e in events
        if e["dir"] == "recv"
        and e["frame"].get("method") == "process.output"
        and e["frame"]["params"]["type"] == stream
    )


def settings_for(handler, data_dir: Path) -> BridgeSettings:
    return b.settings(
        data_dir, handler_urls=(handler.url,), token="anything", backend="handler", claude_bin="/not/used/claude"
    )


@contextlib.asynccontextmanager
async def replaying(events, data_dir: Path, **options: Any) -> AsyncIterator[tuple[Any, ExecutionManager]]:
    async with fake.ReplayHandler(events, **options) as handler:
        manager = ExecutionManager(settings_for(handler, data_dir))
        try:
            yield handler, manager
        finally:
            await manager.close()
    assert handler.unexpected == [], "the bridge sent requests the recording has no answer for"
    for frame in handler.requests:
        assert fake.spec_errors(frame) == [], frame


async def run_command(manager: ExecutionManager, command: str, cwd: str | None = None) -> TaskResult:
    with anyio.fail_after(15):
        return await manager.run_to_end(TaskRequest.for_command(command, manager.settings, cwd=cwd))


def stored(manager: ExecutionManager, result: TaskResult, stream: str = "stdout") -> str:
    """What the bridge kept of a stream (read from disk: the manager, and its history, may be closed by now)."""
    text, _, total = read_page(manager.outputs_dir / str(result.execution_id) / f"{stream}.txt", 0, 10**9)
    assert len(text.encode()) == total
    return text


# -- recordings of this handler ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["echo.jsonl", "many_lines.jsonl", "long_line.jsonl", "unicode_binary_output.jsonl", "background_child.jsonl"],
)
async def test_a_recorded_run_gives_its_output_and_exit(tmp_path, name):
    events = recording(name)
    async with replaying(events, tmp_path) as (handler, manager):
        result = await run_command(manager, recorded_command(events))
    assert handler.requests[0]["params"]["command"] == recorded_command(events)
    assert result.status == "completed" and result.exit_code == 0 and result.error is None
    assert result.backend == handler.url
    assert stored(manager, result) == recorded_output(events, "stdout")
    assert stored(manager, result, "stderr") == recorded_output(events, "stderr")


async def test_exit_3_is_a_failure_with_its_output_and_stderr(tmp_path):
    events = recording("stdout_stderr_exit3.jsonl")
    async with replaying(events, tmp_path) as (_, manager):
        result = await run_command(manager, recorded_command(events))
    assert result.status == "failed"
    assert result.exit_code == 3
    assert result.error == "exit code 3"
    assert stored(manager, result) == "line1\nline2\n"
    assert stored(manager, result, "stderr") == "oops\n"


async def test_exit_3_of_a_claude_task_through_mcp(tmp_path):
    """The same recording behind execute_task: claude exited 3 without a result message."""
    events = recording("stdout_stderr_exit3.jsonl")
    async with replaying(events, tmp_path) as (handler, manager):
        async with Client(build_server(served(manager))) as client:
            result = await client.call_tool("execute_task", {"task": "anything"})
            execution_id = result.structured_content["execution_id"]
            raw = await client.call_tool("get_execution_output", {"execution_id": execution_id, "format": "raw"})
            text = await client.call_tool("get_execution_output", {"execution_id": execution_id})
    data = result.structured_content
    assert result.is_error
    assert data["status"] == "failed" and data["exit_code"] == 3
    assert "exited with code 3" in data["error"] and "oops" in data["error"]
    assert data["backend"] == handler.url
    assert raw.structured_content["data"] == "line1\nline2\n"
    assert text.structured_content["data"] == "not stream-json: line1\nnot stream-json: line2\n"
    assert handler.requests[0]["params"]["command"].startswith("exec /not/used/claude -p ")


async def test_the_recorded_timeout_is_timed_out(tmp_path):
    events = recording("timeout.jsonl")
    async with replaying(events, tmp_path) as (_, manager):
        result = await run_command(manager, recorded_command(events))
    assert result.status == "timed_out"
    assert result.exit_code == -15
    assert result.error == "Timed out after 1 s; the process group was terminated"


async def test_pause_resume_and_cancel_as_recorded(tmp_path):
    events = recording("pause_resume_cancel.jsonl")
    # the recording's client also asked for status and paused/resumed twice; the bridge knows better
    async with replaying(events, tmp_path, skip=frozenset({3, 4, 6})) as (handler, manager):
        execution = manager.submit(TaskRequest.for_command(recorded_command(events), manager.settings))
        with anyio.fail_after(10):
            while execution.handle is None:
                await anyio.sleep(0.01)
            assert await manager.control(execution.id, "pause") == (True, "Paused.")
            assert execution.status == "paused"
            assert await manager.control(execution.id, "pause") == (False, "It was already paused.")
            assert await manager.control(execution.id, "resume") == (True, "Resumed.")
            assert await manager.control(execution.id, "resume") == (False, "It was not paused.")
            changed, _ = await manager.control(execution.id, "cancel", "Canceled by the test")
            result = await manager.follow(execution)
    assert changed is True
    assert [(r["method"], r.get("params", {}).get("type")) for r in handler.requests] == [
        ("execute", None), ("control", "PAUSE"), ("control", "RESUME"), ("control", "CANCEL"),
    ]  # fmt: skip
    assert result.status == "canceled"
    assert result.exit_code == -15
    assert result.error == "Canceled by the test"
    assert stored(manager, result) == "before\nafter\n"


async def test_a_spawn_failure_is_a_clear_failure_and_the_connection_is_reused(tmp_path):
    events = recording("error_spawn_failed.jsonl")
    async with replaying(events, tmp_path, skip=frozenset({2})) as (handler, manager):
        failed = await run_command(manager, "echo never", cwd="/nonexistent/cc-executor-contract")
        after = await run_command(manager, recorded_command(events, 3))
    assert failed.status == "failed"
    assert "did not start the task" in failed.error
    assert "working directory does not exist: /nonexistent/cc-executor-contract" in failed.error
    assert after.status == "completed" and stored(manager, after) == "after\n"
    assert handler.connections == 1
    assert handler.requests[0]["params"]["cwd"] == "/nonexistent/cc-executor-contract"


async def test_a_second_execute_refused_while_running_does_not_disturb_the_first(tmp_path):
    events = recording("execute_while_running.jsonl")
    async with replaying(events, tmp_path, skip=frozenset({2})) as (_, manager):
        result = await run_command(manager, recorded_command(events))
    assert result.status == "completed"
    assert stored(manager, result) == "done1\n"


async def test_hook_status_and_a_cancel_on_one_connection(tmp_path):
    events = recording("status_and_hook_status.jsonl")
    skip = frozenset({1, 3, "five", 6, 8})  # status requests, a second hook_status, a cancel of another id
    async with replaying(events, tmp_path, skip=skip) as (handler, manager):
        async with Client(build_server(served(manager))) as client:
            hooks = await client.call_tool("get_hook_status", {})
            execution = manager.submit(TaskRequest.for_command("pwd; sleep 30", manager.settings, cwd="/tmp"))
            with anyio.fail_after(10):
                while execution.handle is None:
                    await anyio.sleep(0.01)
            canceled = await client.call_tool("control_execution", {"execution_id": execution.id, "action": "cancel"})
            final = await client.call_tool("get_execution_status", {"execution_id": execution.id, "wait_s": 10})
    assert hooks.structured_content == {
        "enabled": False,
        "message": "Hook integration not configured",
        "backend": handler.url,
    }
    assert canceled.structured_content["changed"] is True
    result = final.structured_content["execution"]
    assert result["status"] == "canceled" and result["error"] == "Canceled by control_execution"
    assert stored(manager, TaskResult.model_validate(result)) == "/tmp\n"
    assert handler.connections == 1, "the hook_status connection was reused for the task"


# -- the original handler's reference transcripts ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "exit_code", "stdout"),
    [
        ("echo.jsonl", "completed", 0, "hello\n"),
        ("stdout_stderr_exit3.jsonl", "failed", 3, "line1\nline2\n"),
    ],
)
async def test_the_bridge_understands_the_original_handler(tmp_path, name, status, exit_code, stdout):
    events = recording(name, fake.ORIGINAL)
    async with replaying(events, tmp_path, speed=0.1) as (_, manager):
        result = await run_command(manager, recorded_command(events))
    assert result.status == status
    assert result.exit_code == exit_code
    assert stored(manager, result) == stdout
