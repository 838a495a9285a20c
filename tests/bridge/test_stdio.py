"""`cc-executor mcp` as a real process: stdio and streamable HTTP, signals, and history across restarts.

The bridge runs with `--backend local` and the fake `claude`; every bridge, task and
fake is a real process, found and checked through /proc.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from fixtures import bridge_helpers as b
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from cc_executor.bridge.executions import ABANDONED

pytestmark = pytest.mark.timeout(60)
MARK = b.BRIDGE_MARK
stdio_params = b.stdio_params
stdio_session = b.stdio_session
INITIALIZE = b.INITIALIZE
INITIALIZED = b.INITIALIZED


def bridge_pid(data_dir: Path) -> int:
    (pid,) = b.child_pids_running(MARK, data_dir)
    return pid


async def test_stdio_round_trip_and_history_across_a_restart(tmp_path):
    with anyio.fail_after(30):
        async with stdio_session(tmp_path) as session:
            init = await session.initialize()
            assert init.protocol_version == "2025-11-25"
            assert init.server_info.name == "cc-executor"
            assert "execute_task" in (init.instructions or "")
            tools = await session.list_tools()
            assert {t.name for t in tools.tools} == {
                "execute_task", "execute_task_list", "get_execution_status",
                "get_execution_output", "control_execution", "get_hook_status", "wait_executions",
                "respond_permission",
            }  # fmt: skip
            result = await session.call_tool("execute_task", {"task": "over stdio"})
            first = result.structured_content
            assert first["status"] == "completed" and first["result"] == "Echo: over stdio"
            assert first["backend"] == "local"
        assert b.child_pids_running(MARK, tmp_path) == [], "the bridge exits when stdin closes"

        # a new bridge process on the same data dir, this time in the 2026-07-28 era
        async with Client(stdio_params(tmp_path), mode="auto") as client:
            assert client.protocol_version == "2026-07-28"
            status = await client.call_tool("get_execution_status", {"execution_id": first["execution_id"]})
            listing = await client.call_tool("get_execution_status", {})
            page = await client.call_tool("get_execution_output", {"execution_id": first["execution_id"]})
    execution = status.structured_content["execution"]
    assert execution == first | {"task": "over stdio"}
    assert [row["execution_id"] for row in listing.structured_content["recent"]] == [first["execution_id"]]
    assert page.structured_content["complete"] is True
    assert page.structured_content["data"].endswith(
        "turn 1 · Claude: Echo: over stdio\ndone: success after 1 turn, $0.0004\n"
    )


async def test_sigterm_ends_the_running_task_and_the_bridge(tmp_path):
    tag = b.marker()
    with anyio.fail_after(30):
        async with stdio_session(tmp_path) as session:
            await session.initialize()
            started = await session.call_tool("execute_task", {"task": f"{tag} [fake:hang children=2]", "wait": False})
            execution_id = started.structured_content["execution_id"]
            found = await b.wait_for_processes(tag, count=3)
            pid = bridge_pid(tmp_path)
            began = time.monotonic()
            os.kill(pid, signal.SIGTERM)
            with pytest.raises(MCPError):  # the bridge is gone: the call fails instead of hanging
                await session.call_tool("get_execution_status", {"execution_id": execution_id})
            while not b.pid_gone(pid) and time.monotonic() - began < 10:
                await anyio.sleep(0.02)
            assert b.pid_gone(pid), "the bridge exited"
            assert time.monotonic() - began < 8
            # checked before the stdio client cleans up: the bridge itself ended the task's group
            assert b.processes(tag) == [], "the task's whole process group is gone"
            assert not b.group_alive(found[0].pgid)
        # the cancel was recorded before the bridge exited
        async with stdio_session(tmp_path) as session:
            await session.initialize()
            status = await session.call_tool("get_execution_status", {"execution_id": execution_id})
    execution = status.structured_content["execution"]
    assert execution["status"] == "canceled"
    assert execution["error"] == "The bridge is shutting down"


async def test_a_task_running_when_the_bridge_is_sigkilled_is_failed_and_ended_on_restart(tmp_path):
    tag = b.marker()
    try:
        with anyio.fail_after(30):
            async with stdio_session(tmp_path) as session:
                await session.initialize()
                started = await session.call_tool(
                    "execute_task", {"task": f"{tag} [fake:hang children=1]", "wait": False}
                )
                execution_id = started.structured_content["execution_id"]
                await b.wait_for_processes(tag, count=2)
                pid = bridge_pid(tmp_path)
                os.kill(pid, signal.SIGKILL)
                with pytest.raises(MCPError):
                    await session.call_tool("get_execution_status", {"execution_id": execution_id})
                while not b.pid_gone(pid):
                    await anyio.sleep(0.02)
                await anyio.sleep(0.3)
                # Nothing could end them: a SIGKILLed process runs no code.
                assert b.processes(tag), "the task's processes outlive a SIGKILLed bridge until it restarts"
            async with stdio_session(tmp_path) as session:
                await session.initialize()  # the new bridge finds them by their execution tag and ends them
                status = await session.call_tool("get_execution_status", {"execution_id": execution_id})
                listing = await session.call_tool("get_execution_status", {})
                assert b.processes(tag) == [], "the restarted bridge ended the leftover processes"
    finally:
        b.kill_all(tag)
    execution = status.structured_content["execution"]
    assert execution["status"] == "failed"
    assert execution["error"] == ABANDONED
    assert listing.structured_content["recent"][0]["status"] == "failed"


async def test_streamable_http_serves_loopback_clients_and_refuses_foreign_origins_and_hosts(tmp_path):
    with b.http_bridge(tmp_path) as base_url:
        url = f"{base_url}/mcp"
        port = httpx.URL(base_url).port
        token = b.http_headers(tmp_path)
        with anyio.fail_after(30):
            async with (
                httpx.AsyncClient(timeout=5, headers=token) as http,
                httpx2.AsyncClient(headers=token) as sdk_http,
            ):
                async with streamable_http_client(url, http_client=sdk_http) as (read, write, *_):
                    async with ClientSession(read, write) as session:
                        init = await session.initialize()
                        assert init.protocol_version == "2025-11-25"
                        result = await session.call_tool("execute_task", {"task": "over http"})
                        assert result.structured_content["result"] == "Echo: over http"
                        listing = await session.call_tool("get_execution_status", {})
                        assert [r["task"] for r in listing.structured_content["recent"]] == ["over http"]
                async with Client(streamable_http_client(url, http_client=sdk_http), mode="auto") as client:
                    assert client.protocol_version == "2026-07-28"
                    listing = await client.call_tool("get_execution_status", {})
                    assert listing.structured_content["recent"] == [], "another session's executions are not listed"

                initialize = {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "probe", "version": "1"},
                    },
                }
                headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

                async def status_with(**extra: str) -> int:
                    response = await http.post(url, json=initialize, headers={**headers, **extra})
                    return response.status_code

                assert await status_with() == 200
                assert await status_with(Origin=f"http://localhost:{port}") == 200
                assert await status_with(Origin="http://evil.example") == 403
                assert await status_with(Origin="https://127.0.0.1.evil.example") == 403
                assert await status_with(Host="evil.example") == 421
                assert await status_with(Host=f"evil.example:{port}") == 421
                foreign = await http.post(url, json=initialize, headers={**headers, "Host": "evil.example"})
                assert foreign.headers["content-type"] == "text/plain; charset=utf-8"

                # The SDK alone would take a request with a fractional id for a notification and never answer.
                unanswerable = await http.post(url, json={**initialize, "id": 2.5}, headers=headers)
                assert unanswerable.status_code == 400
                assert unanswerable.json()["error"] == {
                    "code": -32600,
                    "message": "Invalid Request: id: write 2.5 as a string or an integer without a fraction",
                }
                batch = await http.post(url, json=[initialize], headers=headers)
                assert batch.status_code == 400
                assert "one JSON-RPC message" in batch.json()["error"]["message"]


def test_an_engine_that_cannot_load_ends_the_bridge_with_one_line(tmp_path):
    """The engine loads once the client has its `initialize` answer: when it then cannot load (here the history is
    a folder) the bridge says why in one line and exits 1 instead of serving tools that cannot work."""
    (tmp_path / "executions.sqlite3").mkdir()
    bridge = subprocess.Popen(
        b.BRIDGE, env=b.bridge_env(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert bridge.stdin is not None and bridge.stdout is not None
        bridge.stdin.write(json.dumps(INITIALIZE).encode() + b"\n")
        bridge.stdin.flush()
        assert json.loads(bridge.stdout.readline())["result"]["serverInfo"]["name"] == "cc-executor"
        bridge.stdin.write(json.dumps(INITIALIZED).encode() + b"\n")
        bridge.stdin.flush()
        assert bridge.wait(timeout=45) == 1, "it ends by itself, stdin still open"
        errors = bridge.stderr.read().decode().strip().splitlines() if bridge.stderr else []
    finally:
        bridge.kill()
        bridge.wait()
    assert len(errors) == 1 and "the bridge cannot start: " in errors[0] and "executions.sqlite3" in errors[0], errors


def test_answering_initialize_loads_none_of_the_engine(tmp_path):
    """What a host waits for at start is light: the engine's modules (the runner, the launcher, the handler client,
    jsonschema, websockets) load only once the client has its answer."""
    bridge = subprocess.run(
        [sys.executable, "-X", "importtime", *b.BRIDGE[1:]],
        env=b.bridge_env(tmp_path),
        input=json.dumps(INITIALIZE).encode() + b"\n",
        capture_output=True,
        timeout=60,
    )
    assert b'"serverInfo"' in bridge.stdout, bridge.stderr.decode()[-2000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in bridge.stderr.decode().splitlines() if "|" in line}
    assert "cc_executor.bridge.transports" in imported, "importtime lists what was imported"
    engine = {
        "cc_executor.bridge.executions",
        "cc_executor.handler.process_runner",
        "cc_executor.handler.launcher",
        "cc_executor.client",
        "jsonschema",
        "websockets",
    }
    assert imported & engine == set()


def test_the_engine_loads_only_once_the_client_has_its_initialize_answer(tmp_path):
    """A client that starts the bridge waits for its `initialize` answer: the engine's load (which opens the
    history) would share the CPU with that answer, so it starts at `notifications/initialized`."""
    history = tmp_path / "executions.sqlite3"
    bridge = subprocess.Popen(b.BRIDGE, env=b.bridge_env(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert bridge.stdin is not None and bridge.stdout is not None
        bridge.stdin.write(json.dumps(INITIALIZE).encode() + b"\n")
        bridge.stdin.flush()
        assert "result" in json.loads(bridge.stdout.readline())
        time.sleep(1.0)  # the load, had it started with the process, opens the history within this
        assert not history.exists()
        bridge.stdin.write(json.dumps(INITIALIZED).encode() + b"\n")
        bridge.stdin.flush()
        deadline = time.monotonic() + 30
        while not history.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert history.exists(), "the engine did not load after notifications/initialized"
    finally:
        bridge.stdin.close() if bridge.stdin else None
        try:
            bridge.wait(timeout=15)
        finally:
            bridge.kill()
            bridge.wait()
