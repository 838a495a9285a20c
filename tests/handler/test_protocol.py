"""The protocol core without a socket: every error class, one execution at a time, notifications."""

from __future__ import annotations

import json

import pytest

from cc_executor.handler.output_framer import OutputPiece
from cc_executor.handler.process_runner import Completion
from cc_executor.handler.protocol import (
    ConnectionProtocol,
    ControlExecution,
    ReportStatus,
    Send,
    StartExecution,
)


@pytest.fixture
def core() -> ConnectionProtocol:
    return ConnectionProtocol(session_id="s-1", version="2.0.0", max_frame_bytes=1000)


def only_error(actions) -> dict:
    assert len(actions) == 1 and isinstance(actions[0], Send), actions
    frame = json.loads(actions[0].frame)
    assert set(frame) == {"jsonrpc", "error", "id"}
    return frame


def request(method: str, params=None, request_id=1) -> str:
    frame = {"jsonrpc": "2.0", "method": method, "id": request_id}
    if params is not None:
        frame["params"] = params
    return json.dumps(frame)


@pytest.mark.parametrize(
    ("frame", "code", "reason"),
    [
        ("{not json", -32700, "parse_error"),
        ('{"a": NaN}', -32700, "parse_error"),
        (b"\x00\x01binary", -32700, "parse_error"),
        ("[" * 100_000 + "]" * 100_000, -32600, "frame_too_large"),
        ("[]", -32600, "invalid_request"),
        ("[1, 2]", -32600, "invalid_request"),
        ("42", -32600, "invalid_request"),
        ('"execute"', -32600, "invalid_request"),
        ('{"jsonrpc": "2.0", "id": 1}', -32600, "invalid_request"),
        ('{"jsonrpc": "1.0", "method": "status", "id": 1}', -32600, "invalid_request"),
        ('{"jsonrpc": "2.0", "method": 5, "id": 1}', -32600, "invalid_request"),
        ('{"jsonrpc": "2.0", "method": "status", "id": {"x": 1}}', -32600, "invalid_request"),
        ('{"jsonrpc": "2.0", "method": "status", "id": 1, "extra": true}', -32600, "invalid_request"),
        (request("frobnicate", {}), -32601, "method_not_found"),
        (request("execute", {}), -32602, "invalid_params"),
        (request("execute", {"command": 7}), -32602, "invalid_params"),
        (request("execute", {"command": "x", "timeout": "5"}), -32602, "invalid_params"),
        (request("execute", {"command": "x", "timeout": 0}), -32602, "invalid_params"),
        (request("execute", {"command": "x", "bogus": 1}), -32602, "invalid_params"),
        (request("execute", ["echo"]), -32602, "invalid_params"),
        (request("control", {"type": "STOP"}), -32602, "invalid_params"),
        (request("execute", {"command": "echo a\u0000b"}), -32602, "invalid_params"),
        (request("execute", {"command": "echo", "execution_id": "has space"}), -32602, "invalid_params"),
        (request("control", {"type": "PAUSE"}), -32602, "no_execution"),
    ],
)
def test_every_error_class_gets_its_code_and_a_readable_message(core, frame, code, reason):
    reply = only_error(core.receive(frame))
    assert reply["error"]["code"] == code
    assert reply["error"]["data"]["reason"] == reason
    message = reply["error"]["message"]
    assert message and "pydantic" not in message and "https://" not in message and len(message) < 300


def test_invalid_params_name_the_field(core):
    reply = only_error(core.receive(request("execute", {"command": "x", "timeout": "soon"})))
    assert reply["error"]["data"]["field"] == "timeout"
    assert reply["error"]["message"].startswith("Invalid params: timeout:")


def test_the_request_id_is_echoed_whatever_its_type(core):
    for request_id in ("abc", 0, -5, 2**40, 2**80, -(2**70), None):
        assert only_error(core.receive(request("nope", {}, request_id)))["id"] == request_id


def test_one_execution_at_a_time(core):
    [start] = core.receive(request("execute", {"command": "sleep 1", "execution_id": "job-1"}))
    assert isinstance(start, StartExecution) and start.execution_id == "job-1"
    busy = only_error(core.receive(request("execute", {"command": "echo"}, 2)))
    assert busy["error"] == {
        "code": -32602,
        "message": "A process is already running",
        "data": {"reason": "execution_running", "field": None, "execution_id": "job-1"},
    }
    frames = core.execution_started(start, pid=100, pgid=100)
    assert [json.loads(f).get("method") for f in frames] == [None, "process.started"]
    assert json.loads(frames[0])["result"] == {"status": "started", "pid": 100, "pgid": 100, "execution_id": "job-1"}
    [control] = core.receive(request("control", {"type": "PAUSE"}, 3))
    assert isinstance(control, ControlExecution) and control.action == "PAUSE"
    wrong = only_error(core.receive(request("control", {"type": "CANCEL", "execution_id": "job-0"}, 4)))
    assert wrong["error"]["data"]["reason"] == "no_execution"
    completed = json.loads(core.completed(Completion("completed", 0, None, None, 1.0, 5, 0)))
    assert completed["method"] == "process.completed" and completed["params"]["execution_id"] == "job-1"
    assert isinstance(core.receive(request("execute", {"command": "echo"}, 5))[0], StartExecution)


def test_a_failed_spawn_frees_the_connection(core):
    [start] = core.receive(request("execute", {"command": "echo", "cwd": "/nonexistent"}))
    [error] = core.execution_not_started(start, "working directory does not exist: /nonexistent")
    assert json.loads(error)["error"]["code"] == -32000
    assert isinstance(core.receive(request("execute", {"command": "echo"}, 2))[0], StartExecution)


def test_notifications_are_acted_on_but_never_answered(core):
    assert core.receive('{"jsonrpc": "2.0", "method": "frobnicate"}') == []
    assert core.receive('{"jsonrpc": "2.0", "method": "hook_status"}') == []
    [start] = core.receive('{"jsonrpc": "2.0", "method": "execute", "params": {"command": "echo"}}')
    assert isinstance(start, StartExecution) and not start.answer
    assert [json.loads(f)["method"] for f in core.execution_started(start, 7, 7)] == ["process.started"]


def test_hook_status_and_status(core):
    [reply] = core.receive(request("hook_status", {}))
    assert json.loads(reply.frame)["result"] == {"enabled": False, "message": "Hook integration not configured"}
    [status] = core.receive(request("status"))
    assert isinstance(status, ReportStatus)
    [frame] = core.status(status, None, active_sessions=1, max_sessions=4)
    assert json.loads(frame)["result"] == {
        "session_id": "s-1",
        "version": "2.0.0",
        "active_sessions": 1,
        "max_sessions": 4,
        "execution": None,
    }


def test_frames_keep_the_old_handlers_field_order_and_explicit_nulls(core):
    [start] = core.receive(request("execute", {"command": "echo"}))
    core.execution_started(start, 9, 9)
    output = json.loads(core.output("stdout", OutputPiece("hi\n")))
    assert list(output) == ["jsonrpc", "method", "params"]
    assert list(output["params"])[:5] == ["type", "data", "truncated", "chunk_index", "total_chunks"]
    assert output["params"]["chunk_index"] is None and output["params"]["truncated"] is False
    greeting = json.loads(core.greeting())
    assert greeting["method"] == "connected" and {"execute", "control", "stream"} <= set(
        greeting["params"]["capabilities"]
    )
