"""Bridge -> real handler process -> fake claude, over real WebSockets on loopback.

One handler serves the module. It is started the way an operator might: token in
CC_EXECUTOR_TOKEN, and launched from inside a Claude Code session (CLAUDECODE,
CLAUDE_CODE_ENTRYPOINT set), so the tests can show none of that reaches a task. Its log
is JSON lines; an "execution started" event names the session (connection) and a digest
of the command, which ties each task the bridge sent to the connection it came on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import pytest
from fixtures import bridge_helpers as b
from mcp import Client
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from cc_executor.bridge.backends import HandlerExecution
from cc_executor.bridge.executions import BridgeSettings, ExecutionManager, TaskRequest
from cc_executor.client import HandlerClient
from cc_executor.contract_tests.live_handler import live_handler, stop
from cc_executor.generated.mcp.common import TaskSpec

pytestmark = pytest.mark.timeout(60)
INHERITED = {"CLAUDECODE": "1", "CLAUDE_CODE_ENTRYPOINT": "cli"}


@dataclass(frozen=True)
class Handler:
    url: str
    http_url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.http_url}/health", timeout=2) as response:
            return json.load(response)

    def started_sessions(self) -> dict[str, str]:
        """execution id (the bridge's: it sends its own) -> session id, for every execution the handler started."""
        sessions = {}
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("msg") == "execution started":
                    sessions[event["execution_id"]] = event["session_id"]
        return sessions


@pytest.fixture(scope="module")
def handler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Handler]:
    data_dir = tmp_path_factory.mktemp("handler")
    port, token = b.free_port(), secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if k not in b.DROPPED_ENV}
    env |= {"CC_EXECUTOR_DATA_DIR": str(data_dir), "CC_EXECUTOR_TOKEN": token, **INHERITED}
    command = [sys.executable, "-m", "cc_executor", "handler", "--port", str(port), "--log-format", "json"]
    log_path = data_dir / "handler.log"
    with open(log_path, "wb") as log_file:
        # in a directory of its own: a task must run where the bridge is, not where the handler is
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stderr=log_file, cwd=data_dir)
    running = Handler(f"ws://127.0.0.1:{port}/ws/mcp", f"http://127.0.0.1:{port}", token, process, log_path)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, log_path.read_text()
            with contextlib.suppress(OSError):
                if running.health()["status"] == "healthy":
                    break
            assert time.monotonic() < deadline, "the handler did not start"
            time.sleep(0.05)
        yield running
    finally:
        stop(process)


def via(handler: Handler, data_dir: Path, **overrides: Any) -> BridgeSettings:
    return b.settings(data_dir, handler_urls=(handler.url,), token=handler.token, backend="handler", **overrides)


@contextlib.asynccontextmanager
async def mcp_bridge(settings: BridgeSettings, mode: str = "auto") -> AsyncIterator[Client]:
    async with b.in_memory_bridge(settings, mode) as (client, _):
        yield client


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_task_runs_on_the_handler(handler, tmp_path, mode):
    async with mcp_bridge(via(handler, tmp_path), mode) as client:
        result = await client.call_tool("execute_task", {"task": "through the handler"})
        hooks = await client.call_tool("get_hook_status", {})
    data = result.structured_content
    assert data["status"] == "completed", data
    assert data["result"] == "Echo: through the handler"
    assert data["backend"] == handler.url
    assert data["exit_code"] == 0 and "handler_error" not in data
    assert hooks.structured_content == {
        "enabled": False,
        "message": "Hook integration not configured",
        "backend": handler.url,
    }


async def test_cancel_through_the_handler_ends_the_process_group(handler, tmp_path):
    tag = b.marker()
    async with mcp_bridge(via(handler, tmp_path)) as client:
        started = await client.call_tool("execute_task", {"task": f"{tag} [fake:hang children=1]", "wait": False})
        execution_id = started.structured_content["execution_id"]
        found = await b.wait_for_processes(tag, count=2)
        canceled = await client.call_tool("control_execution", {"execution_id": execution_id, "action": "cancel"})
        final = await client.call_tool("get_execution_status", {"execution_id": execution_id, "wait_s": 10})
        assert await b.wait_gone(tag) == []
    assert canceled.structured_content["changed"] is True
    result = final.structured_content["execution"]
    assert result["status"] == "canceled"
    assert result["error"] == "Canceled by control_execution"
    assert result["backend"] == handler.url
    assert not b.group_alive(found[0].pgid)


async def test_pause_and_resume_through_the_handler(handler, tmp_path):
    tag = b.marker()
    async with mcp_bridge(via(handler, tmp_path)) as client:
        started = await client.call_tool(
            "execute_task", {"task": f"{tag} [fake:slow seconds=1 steps=2]", "wait": False}
        )
        execution_id = started.structured_content["execution_id"]
        await b.wait_for_processes(tag)
        paused = await client.call_tool("control_execution", {"execution_id": execution_id, "action": "pause"})
        paused_at = time.monotonic()
        assert paused.structured_content["changed"] is True
        await anyio.sleep(0.1)
        assert {p.state for p in b.processes(tag)} == {"T"}
        again = await client.call_tool("control_execution", {"execution_id": execution_id, "action": "pause"})
        assert again.structured_content["changed"] is False
        await anyio.sleep(1.2)  # longer than the task would take: paused, it must not finish
        waiting = await client.call_tool("get_execution_status", {"execution_id": execution_id})
        assert waiting.structured_content["execution"]["status"] == "paused"
        resumed = await client.call_tool("control_execution", {"execution_id": execution_id, "action": "resume"})
        paused_for = time.monotonic() - paused_at
        assert resumed.structured_content["changed"] is True
        final = await client.call_tool("get_execution_status", {"execution_id": execution_id, "wait_s": 10})
    result = final.structured_content["execution"]
    assert result["status"] == "completed"
    assert result["result"] == "Finished the slow task."
    # Wall time counts the pause (a stopped sleep may end early once continued, so not the task's own 1 s too).
    assert result["duration_ms"] >= paused_for * 1000


async def test_a_task_past_its_timeout_is_timed_out(handler, tmp_path):
    tag = b.marker()
    async with mcp_bridge(via(handler, tmp_path)) as client:
        began = time.monotonic()
        result = await client.call_tool("execute_task", {"task": f"{tag} [fake:hang]", "timeout_s": 1})
        took = time.monotonic() - began
    data = result.structured_content
    assert data["status"] == "timed_out"
    assert data["error"] == "Timed out after 1 s; the process group was terminated"
    assert data["exit_code"] == -15
    assert 1.0 <= took < 6
    assert await b.wait_gone(tag) == []


async def test_twenty_tasks_at_once_each_on_its_own_connection(handler, tmp_path):
    settings = via(handler, tmp_path, max_concurrent=20)
    tasks = [f"{b.marker()} task {n} [fake:slow seconds=1 steps=2]" for n in range(20)]
    manager = ExecutionManager(settings)
    try:
        with anyio.fail_after(40):
            results = await _gather(
                [manager.run_to_end(TaskRequest.for_claude(TaskSpec(task=t), settings)) for t in tasks]
            )
    finally:
        await manager.close()
    assert [r.status for r in results] == ["completed"] * 20, [r.error for r in results if r.status != "completed"]
    assert {r.backend for r in results} == {handler.url}
    sessions = handler.started_sessions()
    used = [sessions[r.execution_id] for r in results]
    assert len(set(used)) == 20, "one connection per concurrent task"


async def test_sequential_tasks_reuse_one_connection(handler, tmp_path):
    settings = via(handler, tmp_path)
    tasks = [f"{b.marker()} one after another {n}" for n in range(3)]
    manager = ExecutionManager(settings)
    ids = []
    try:
        for task in tasks:
            result = await manager.run_to_end(TaskRequest.for_claude(TaskSpec(task=task), settings))
            assert result.status == "completed"
            ids.append(result.execution_id)
        idle = [client for h in manager.backends.pool.handlers.values() for client in h.idle]
        assert len(idle) == 1 and not idle[0].closed
    finally:
        await manager.close()
    sessions = handler.started_sessions()
    assert len({sessions[execution_id] for execution_id in ids}) == 1


def exemplar_ids(handler: Handler) -> dict[str, set[str]]:
    """execution ids of the exemplars in /metrics (asked for as OpenMetrics), by sample name and labels."""
    request = urllib.request.Request(
        f"{handler.http_url}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        text = response.read().decode()
    ids: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.exemplar is not None:
                series = f"{sample.name}{sorted(sample.labels.items())}"
                ids.setdefault(series, set()).add(sample.exemplar.labels["execution_id"])
    return ids


async def test_one_execution_id_from_the_mcp_call_to_status_sessions_log_history_and_metrics(handler, tmp_path):
    """The id execute_task answers is the one the handler shows in sessions and status while the task runs, and
    the one in its log line, the bridge's history and the exemplars of the handler's metrics."""
    async with (
        b.in_memory_bridge(via(handler, tmp_path)) as (client, manager),
        await HandlerClient.connect(handler.url, handler.token) as viewer,
    ):
        started = await client.call_tool(
            "execute_task", {"task": "one id [fake:slow seconds=1 steps=2]", "wait": False}
        )
        execution_id = started.structured_content["execution_id"]
        shown = await client.call_tool("get_execution_status", {"execution_id": execution_id})
        assert shown.structured_content["execution"]["execution_id"] == execution_id
        with anyio.fail_after(10):  # the handler lists it as soon as its process runs
            while True:
                listed = {
                    s.execution.execution_id: s for s in (await viewer.sessions()).sessions if s.execution is not None
                }
                if execution_id in listed:
                    break
                await anyio.sleep(0.02)
        assert listed[execution_id].execution.state == "running"
        handle = manager.executions[execution_id].handle
        assert isinstance(handle, HandlerExecution)  # its connection: `status` answers for that session
        own = await handle.client.status()
        assert own.execution is not None and own.execution.execution_id == execution_id
        final = await client.call_tool("get_execution_status", {"execution_id": execution_id, "wait_s": 15})
        assert final.structured_content["execution"]["status"] == "completed"
        row = manager.history.get(execution_id)
    assert row is not None and row.status == "completed" and row.backend == handler.url
    assert handler.started_sessions()[execution_id] == listed[execution_id].session_id, "the handler's log line"
    with urllib.request.urlopen(f"{handler.http_url}/metrics", timeout=5) as plain:  # what scrapers always got
        assert plain.headers["Content-Type"].startswith("text/plain")
        assert execution_id not in plain.read().decode(), "no exemplars in the Prometheus text format"
    exemplars = exemplar_ids(handler)
    assert exemplars["cc_executor_executions_total[('status', 'completed')]"] == {execution_id}, exemplars
    buckets = [ids for series, ids in exemplars.items() if series.startswith("cc_executor_execution_duration_seconds")]
    assert {execution_id} in buckets, exemplars


async def test_the_handlers_environment_secrets_and_nesting_markers_are_scrubbed(handler, tmp_path):
    environ = Path(f"/proc/{handler.process.pid}/environ").read_bytes().split(b"\0")
    assert f"CC_EXECUTOR_TOKEN={handler.token}".encode() in environ
    assert b"CLAUDECODE=1" in environ and b"CLAUDE_CODE_ENTRYPOINT=cli" in environ
    async with mcp_bridge(via(handler, tmp_path)) as client:
        task = "[fake:echo_env vars=CLAUDECODE,CLAUDE_CODE_ENTRYPOINT,CC_EXECUTOR_TOKEN]"
        result = await client.call_tool("execute_task", {"task": task})
    data = result.structured_content
    assert data["status"] == "completed", data  # with CLAUDECODE set, claude would refuse to start
    seen = json.loads(data["result"])
    assert seen["env"]["CLAUDECODE"] is None
    assert seen["env"]["CLAUDE_CODE_ENTRYPOINT"] is None
    assert seen["env"]["CC_EXECUTOR_TOKEN"] is None
    assert handler.token not in json.dumps(data)


async def test_a_handler_killed_mid_task_fails_it_clearly_and_auto_falls_back_to_local(tmp_path, capsys):
    tag = b.marker()
    try:
        with live_handler() as doomed:
            settings = replace(b.settings(tmp_path), handler_urls=(doomed.url,), token=doomed.token, backend="handler")
            handler_only = ExecutionManager(settings)
            auto = ExecutionManager(replace(settings, data_dir=tmp_path / "auto", backend="auto"))
            try:
                execution = handler_only.submit(
                    TaskRequest.for_claude(TaskSpec(task=f"{tag} [fake:slow seconds=10]"), settings)
                )
                await b.wait_for_processes(tag)
                with anyio.fail_after(5):
                    while execution.backend != doomed.url:
                        await anyio.sleep(0.01)
                doomed.process.send_signal(signal.SIGKILL)
                began = time.monotonic()
                with anyio.fail_after(10):
                    result = await handler_only.follow(execution)
                took = time.monotonic() - began
                after = await handler_only.run_to_end(TaskRequest.for_claude(TaskSpec(task="next"), settings))
                local = await auto.run_to_end(TaskRequest.for_claude(TaskSpec(task="next, anywhere"), settings))
            finally:
                await handler_only.close()
                await auto.close()
            orphans = b.processes(tag)
            with capsys.disabled():
                print(f"\n[handler SIGKILLed] its task's processes still running: {orphans}")
    finally:
        b.kill_all(tag)
    assert result.status == "failed"
    assert result.backend == doomed.url
    assert f"Lost the connection to the handler at {doomed.url}" in result.error
    assert took < 5
    assert after.status == "failed"
    assert "no handler reachable" in after.error and doomed.url in after.error
    assert local.status == "completed"
    assert local.backend == "local"
    assert local.result == "Echo: next, anywhere"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_task_runs_in_the_bridges_working_directory_not_the_handlers(handler, tmp_path, mode, monkeypatch):
    handler_cwd = Path(f"/proc/{handler.process.pid}/cwd").resolve()
    bridge_cwd = tmp_path / "bridge-cwd"
    bridge_cwd.mkdir()
    monkeypatch.chdir(bridge_cwd)
    assert handler_cwd != bridge_cwd
    async with mcp_bridge(via(handler, tmp_path), mode) as client:
        default = await client.call_tool("execute_task", {"task": "where [fake:echo_args]"})
        named = await client.call_tool("execute_task", {"task": "where [fake:echo_args]", "cwd": str(tmp_path)})
        missing = await client.call_tool("execute_task", {"task": "x", "cwd": str(tmp_path / "missing")})
    assert default.structured_content["backend"] == handler.url
    assert json.loads(default.structured_content["result"])["cwd"] == str(bridge_cwd)
    assert json.loads(named.structured_content["result"])["cwd"] == str(tmp_path)
    assert missing.is_error
    refused = missing.structured_content
    assert refused["status"] == "failed" and refused["backend"] == "none"
    assert f"working directory does not exist: {tmp_path / 'missing'}" in refused["error"]
    assert handler.url in refused["error"] and "cwd" in refused["hint"]


@pytest.fixture
def closed_url() -> str:
    return f"ws://127.0.0.1:{b.free_port()}/ws/mcp"  # nothing listens there


async def test_backend_handler_without_a_handler_says_nothing_ran(tmp_path, closed_url):
    settings = b.settings(tmp_path, handler_urls=(closed_url,), token="t", backend="handler")
    async with mcp_bridge(settings) as client:
        answer = await client.call_tool("execute_task", {"task": "hello"})
    assert answer.is_error
    data = answer.structured_content
    assert data["status"] == "failed" and data["backend"] == "none"
    assert f"cannot reach {closed_url}" in data["error"]
    assert "cc-executor handler" in data["hint"] and "--backend auto" in data["hint"]
    assert "exit_code" not in data and "handler_error" not in data


async def test_auto_says_which_named_handler_failed_before_running_locally(tmp_path, closed_url, caplog):
    settings = b.settings(tmp_path, handler_urls=(closed_url,), token="t", backend="auto")
    with caplog.at_level(logging.INFO, logger="cc_executor.bridge"):
        async with mcp_bridge(settings) as client:
            answer = await client.call_tool("execute_task", {"task": "hello"})
    data = answer.structured_content
    assert data["status"] == "completed" and data["backend"] == "local"
    assert f"cannot reach {closed_url}" in data["handler_error"]
    assert f"cannot reach {closed_url}" in answer.content[0].text
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "running it locally" in warning.getMessage()
    assert closed_url in warning.event["handler_error"]


async def test_auto_falls_back_quietly_from_the_default_handler_nobody_named(tmp_path, closed_url, caplog):
    settings = b.settings(tmp_path, handler_urls=(closed_url,), handlers_named=False, token="t", backend="auto")
    with caplog.at_level(logging.INFO, logger="cc_executor.bridge"):
        async with mcp_bridge(settings) as client:
            answer = await client.call_tool("execute_task", {"task": "hello"})
    data = answer.structured_content
    assert data["status"] == "completed" and data["backend"] == "local"
    assert "handler_error" not in data
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def _gather(awaitables: list) -> list:
    results: list = [None] * len(awaitables)

    async def run(index: int, awaitable) -> None:
        results[index] = await awaitable

    async with anyio.create_task_group() as group:
        for index, awaitable in enumerate(awaitables):
            group.start_soon(run, index, awaitable)
    return results
