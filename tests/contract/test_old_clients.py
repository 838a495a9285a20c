"""Old clients' habits against the live handler, without the v2 subprotocol; the same steps with v2 show the fast path.

Each test acts as the old cc_executor clients did (their WebSocket client library, REST
wrapper, health checker, wire tests and stream-json readers): no token (the handler runs
with --no-auth on loopback), no subprotocol, raw JSON frames, an idle read timeout,
and every process.output frame taken on its own. The handler sends its old-client
heartbeat every 0.4 s here (WEBSOCKET_HEARTBEAT_INTERVAL, the old handler's setting).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

REPO = Path(__file__).resolve().parents[2]
FAKE_CLAUDE = REPO / "tests" / "fixtures" / "bin" / "claude"
REAL_STREAM = REPO / "tests" / "reference" / "claude-cli" / "real_stream.jsonl"
HEARTBEAT_S = 0.4
IDLE_READ_TIMEOUT_S = 1.5  # an old client's recv timeout: shorter than the silent commands below
MODES = {"old_client": None, "v2": V2_SUBPROTOCOL}


@pytest.fixture(scope="module")
def handler() -> Iterator[LiveHandler]:
    with live_handler(token=None, env={"WEBSOCKET_HEARTBEAT_INTERVAL": str(HEARTBEAT_S)}) as running:
        yield running


@dataclass
class Run:
    """What an old client collected from one execute: frames as they came, each output frame on its own."""

    reply: dict[str, Any] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)  # params of each process.output
    completed: dict[str, Any] = field(default_factory=dict)
    pings: int = 0
    others: list[dict[str, Any]] = field(default_factory=list)

    def data(self, stream: str = "stdout") -> list[str]:
        return [params["data"] for params in self.outputs if params["type"] == stream]


async def open_as(handler: LiveHandler, subprotocol: str | None, path: str = "/ws/mcp") -> ClientConnection:
    url = handler.url.replace("/ws/mcp", path)
    offered = [Subprotocol(subprotocol)] if subprotocol else None
    websocket = await connect(url, subprotocols=offered, ping_timeout=None, max_size=None)
    greeting = json.loads(await asyncio.wait_for(websocket.recv(), 5))
    assert greeting["method"] == "connected"
    return websocket


async def execute(websocket: ClientConnection, params: dict[str, Any], *, frame_extra: Any = None) -> Run:
    """The old client library's loop: send execute, read with an idle timeout until process.completed or an error."""
    request_id = str(uuid.uuid4())
    frame = {"jsonrpc": "2.0", "method": "execute", "params": params, "id": request_id, **(frame_extra or {})}
    await websocket.send(json.dumps(frame))
    run = Run()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message = json.loads(await asyncio.wait_for(websocket.recv(), IDLE_READ_TIMEOUT_S))
        method = message.get("method")
        if message.get("id") == request_id:
            run.reply = message
            if "error" in message:
                return run
        elif method == "process.output":
            run.outputs.append(message["params"])
        elif method == "process.completed":
            run.completed = message["params"]
            return run
        elif method == "ping":
            run.pings += 1
        else:
            run.others.append(message)
    raise AssertionError("no process.completed within 30 s")


def run_command(handler: LiveHandler, subprotocol: str | None, params: dict[str, Any], **options: Any) -> Run:
    async def go() -> Run:
        websocket = await open_as(handler, subprotocol, **options)
        try:
            return await execute(websocket, params)
        finally:
            await websocket.close()

    return asyncio.run(go())


@pytest.mark.parametrize("mode", MODES)
def test_claude_stream_json_parses_frame_by_frame(handler: LiveHandler, mode: str) -> None:
    """The habit: `json.loads(params["data"])` on every frame of `claude -p --output-format stream-json`."""
    command = f"{FAKE_CLAUDE} -p --output-format stream-json --verbose -- '[fake:tool calls=3]'"
    run = run_command(handler, MODES[mode], {"command": command})
    assert run.completed["exit_code"] == 0
    lines = "".join(run.data()).splitlines()
    assert len(lines) >= 8 and json.loads(lines[-1])["type"] == "result"
    parsed_per_frame = []
    for data in run.data():
        try:
            parsed_per_frame.append(json.loads(data))
        except ValueError:
            parsed_per_frame.append(None)
    if MODES[mode] is None:
        assert parsed_per_frame == [json.loads(line) for line in lines], "an old client parses every frame"
    else:  # v2 readers split the concatenation into lines (how many lines a frame holds depends on timing)
        assert [json.loads(line)["type"] for line in lines][0] == "system"


@pytest.mark.parametrize("mode", MODES)
def test_a_recorded_claude_stream_arrives_one_message_per_frame(handler: LiveHandler, mode: str) -> None:
    expected = REAL_STREAM.read_text(encoding="utf-8").splitlines(keepends=True)
    run = run_command(handler, MODES[mode], {"command": f"cat {REAL_STREAM}"})
    assert "".join(run.data()) == "".join(expected)
    if MODES[mode] is None:
        assert run.data() == expected
    else:
        assert len(run.data()) < len(expected)


@pytest.mark.parametrize("mode", MODES)
def test_key_value_lines_split_per_frame(handler: LiveHandler, mode: str) -> None:
    """The habit: `key, value = data.strip().split("=", 1)` for each frame."""
    command = (
        "awk 'BEGIN { for (i = 1; i <= 60; i++) print \"key\" i \"=\" i }'; printf 'x=1'; sleep 0.2; printf '0\\n'"
    )
    run = run_command(handler, MODES[mode], {"command": command})
    expected = {f"key{i}": str(i) for i in range(1, 61)} | {"x": "10"}
    if MODES[mode] is None:
        assert dict(data.strip().split("=", 1) for data in run.data()) == expected
    else:
        assert any(data.count("\n") > 1 for data in run.data())
        assert dict(line.split("=", 1) for line in "".join(run.data()).splitlines()) == expected


@pytest.mark.parametrize(
    "extra",
    [
        {"id": "health-1", "path": "/tmp"},  # the old health checker
        {"model": "opus", "temp": 0.2},  # the old CLI
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_unknown_params_are_ignored_for_old_clients_only(handler: LiveHandler, mode: str, extra: dict) -> None:
    run = run_command(handler, MODES[mode], {"command": "echo ran", **extra})
    if MODES[mode] is None:
        assert run.data() == ["ran\n"] and run.completed["status"] == "completed"
    else:
        assert run.reply["error"]["code"] == -32602 and run.reply["error"]["data"]["reason"] == "invalid_params"


def test_unknown_top_level_fields_are_ignored_for_old_clients(handler: LiveHandler) -> None:
    async def go(subprotocol: str | None) -> Run:
        websocket = await open_as(handler, subprotocol)
        try:
            return await execute(websocket, {"command": "echo top"}, frame_extra={"client": "old-cli", "v": 1})
        finally:
            await websocket.close()

    assert asyncio.run(go(None)).data() == ["top\n"]
    assert asyncio.run(go(V2_SUBPROTOCOL)).reply["error"]["code"] == -32600


@pytest.mark.parametrize(("timeout", "fires"), [("1", True), (1.0, True), (True, True), (0, False), (None, False)])
def test_loose_timeouts_are_converted_and_shown_as_the_old_marker_lines(handler: LiveHandler, timeout, fires) -> None:
    run = run_command(handler, None, {"command": "sleep 1.6; echo finished", "timeout": timeout})
    marker = "\n[Stream timed out after 1s]\n"
    if fires:
        assert run.data("stdout") == [marker] and run.data("stderr") == [marker], "the marker, then completed"
        assert (run.completed["status"], run.completed["error"]) == (
            "timed_out",
            "Timed out after 1 s; the process group was terminated",
        )
    else:
        assert run.data() == ["finished\n"] and run.completed["status"] == "completed"


def test_v2_has_no_timeout_marker(handler: LiveHandler) -> None:
    run = run_command(handler, V2_SUBPROTOCOL, {"command": "sleep 5", "timeout": 1})
    assert run.outputs == [] and run.completed["status"] == "timed_out"


def test_an_empty_command_gets_the_old_answer(handler: LiveHandler) -> None:
    run = run_command(handler, None, {"command": ""})
    assert (run.reply["error"]["code"], run.reply["error"]["message"]) == (-32001, "Command cannot be empty")


@pytest.mark.parametrize("mode", MODES)
def test_the_old_deployment_path_serves_the_same_protocol(handler: LiveHandler, mode: str) -> None:
    run = run_command(handler, MODES[mode], {"command": "echo via /ws"}, path="/ws")
    assert run.data() == ["via /ws\n"] and run.completed["status"] == "completed"


@pytest.mark.parametrize("mode", MODES)
def test_execute_right_after_cancel_is_accepted(handler: LiveHandler, mode: str) -> None:
    async def go() -> list[str]:
        websocket = await open_as(handler, MODES[mode])
        events: list[str] = []
        try:
            await websocket.send(
                json.dumps({"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "sleep 30"}})
            )
            await websocket.send(
                json.dumps({"jsonrpc": "2.0", "method": "control", "id": 2, "params": {"type": "CANCEL"}})
            )
            while True:  # right after the CANCEL's reply, before process.completed
                message = json.loads(await asyncio.wait_for(websocket.recv(), 5))
                if message.get("id") == 2:
                    break
            second = {"command": "echo second"}
            await websocket.send(json.dumps({"jsonrpc": "2.0", "method": "execute", "id": 3, "params": second}))
            while len([e for e in events if e.startswith("process.completed")]) < 2:
                message = json.loads(await asyncio.wait_for(websocket.recv(), 10))
                if message.get("method") == "ping":
                    continue
                label = message.get("method") or f"reply {message.get('id')}"
                status = (message.get("params") or message.get("result") or message.get("error") or {}).get("status")
                events.append(f"{label} {status}" if status else label)
            return events
        finally:
            await websocket.close()

    events = asyncio.run(go())
    assert events[:5] == [
        "process.canceled canceled",
        "process.completed canceled",
        "reply 3 started",
        "process.started started",
        "process.output",
    ], events
    assert events[-1] == "process.completed completed"


@pytest.mark.parametrize("mode", MODES)
def test_pings_keep_an_idle_reading_old_client_alive(handler: LiveHandler, mode: str) -> None:
    """A silent command longer than the client's idle read timeout: old clients get pings in between, v2 none."""
    if MODES[mode] is None:
        run = run_command(handler, None, {"command": "sleep 2.5; echo woke"})
        assert run.data() == ["woke\n"] and run.pings >= 4
        return
    with pytest.raises(TimeoutError):  # v2 clients rely on WebSocket ping frames, not on notifications
        run_command(handler, V2_SUBPROTOCOL, {"command": "sleep 2.5; echo woke"})


def test_pong_with_or_without_an_id_is_accepted_silently(handler: LiveHandler) -> None:
    async def go() -> list[Any]:
        websocket = await open_as(handler, None)
        try:
            await websocket.send(json.dumps({"jsonrpc": "2.0", "method": "pong", "id": 41}))
            await websocket.send(json.dumps({"jsonrpc": "2.0", "method": "pong", "params": {"timestamp": 1.0}}))
            await websocket.send(json.dumps({"jsonrpc": "2.0", "method": "hook_status", "id": 42, "params": {}}))
            replies = []
            while True:
                message = json.loads(await asyncio.wait_for(websocket.recv(), 5))
                if message.get("method") != "ping":
                    replies.append(message)
                if message.get("id") == 42:
                    return replies
        finally:
            await websocket.close()

    assert [reply.get("id") for reply in asyncio.run(go())] == [42]


def test_ping_notifications_have_the_old_shape(handler: LiveHandler) -> None:
    async def go() -> dict[str, Any]:
        websocket = await open_as(handler, None)
        try:
            while True:
                message = json.loads(await asyncio.wait_for(websocket.recv(), 5))
                if message.get("method") == "ping":
                    return message
        finally:
            await websocket.close()

    ping = asyncio.run(go())
    assert set(ping) == {"jsonrpc", "method", "params"} and set(ping["params"]) == {"timestamp"}
    assert abs(ping["params"]["timestamp"] - time.time()) < 5


def test_health_keeps_the_old_fields_and_healthz_answers_ok(handler: LiveHandler) -> None:
    with urllib.request.urlopen(f"{handler.http_url}/health", timeout=5) as response:
        health = json.load(response)
    assert {k: health[k] for k in ("status", "service")} == {"status": "healthy", "service": "cc_executor_mcp"}
    assert isinstance(health["active_sessions"], int) and isinstance(health["max_sessions"], int)
    assert isinstance(health["uptime_seconds"], float) and health["protocols"] == ["1.0", "2.0"]
    with urllib.request.urlopen(f"{handler.http_url}/healthz", timeout=5) as response:
        assert response.status == 200 and json.load(response) == {"status": "ok"}


def test_frames_up_to_the_old_ten_mib_are_answered_for_old_clients(handler: LiveHandler) -> None:
    async def go(subprotocol: str | None, size: int) -> dict[str, Any]:
        websocket = await open_as(handler, subprotocol)
        try:
            pad = {"pad": "x" * size}
            await websocket.send(json.dumps({"jsonrpc": "2.0", "method": "hook_status", "id": 1, "params": pad}))
            return json.loads(await asyncio.wait_for(websocket.recv(), 10))
        finally:
            await websocket.close()

    assert asyncio.run(go(None, 9 << 20))["result"]["enabled"] is False
    assert asyncio.run(go(V2_SUBPROTOCOL, 2 << 20))["error"]["data"]["reason"] == "frame_too_large"  # 1 MiB for v2


def test_beyond_the_session_limit_old_clients_get_the_old_answer() -> None:
    with live_handler(token=None, env={"MAX_SESSIONS": "1"}) as limited:

        async def go() -> tuple[dict[str, Any], int | None, int]:
            first = await open_as(limited, None)
            try:
                second = await connect(limited.url, ping_timeout=None)
                refusal = json.loads(await asyncio.wait_for(second.recv(), 5))
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(second.recv(), 5)
                with pytest.raises(InvalidStatus) as refused:
                    await connect(limited.url, subprotocols=[Subprotocol(V2_SUBPROTOCOL)])
                return refusal, second.close_code, refused.value.response.status_code
            finally:
                await first.close()

        refusal, close_code, v2_status = asyncio.run(go())
    assert refusal["error"]["code"] == -32003 and refusal["error"]["message"] == "Session limit exceeded"
    assert close_code == 1008 and v2_status == 503
