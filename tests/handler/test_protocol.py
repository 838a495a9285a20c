"""The protocol core without a socket: every error class, one execution at a time, notifications, both modes."""

from __future__ import annotations

import json

import pytest

from cc_executor.generated.ws.notifications.process_output import ProcessOutputNotification, ProcessOutputParams
from cc_executor.generated.ws.requests.sessions import SessionInfo
from cc_executor.generated.ws.requests.status import QueuedExecution, StartingExecution
from cc_executor.handler.execution_types import Completion, OutputPiece
from cc_executor.handler.hooks import HooksEngine
from cc_executor.handler.protocol import (
    ConnectionProtocol,
    ControlExecution,
    OutputEncoder,
    ReportHookStatus,
    ReportStatus,
    Send,
    StartExecution,
    encode,
)
from cc_executor.handler.protocol_mode import OLD_CLIENTS, V2, mode_for


@pytest.fixture
def core() -> ConnectionProtocol:
    """Protocol 2.0 (cc-executor.v2): strict."""
    return ConnectionProtocol(session_id="s-1", version="2.0.0", mode=V2, max_frame_bytes=1000)


@pytest.fixture
def old() -> ConnectionProtocol:
    """Protocol 1.0: what a client without the subprotocol gets."""
    return ConnectionProtocol(session_id="s-1", version="2.0.0", mode=OLD_CLIENTS, max_frame_bytes=1000)


def sent(actions) -> list[dict]:
    return [json.loads(action.frame) for action in actions if isinstance(action, Send)]


def done(status: str = "completed", timeout_s=None) -> Completion:
    return Completion(status, 0, None, None, 1.0, 5, 0, timeout_s)


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
    [completed] = sent(core.completed(done()))
    assert completed["method"] == "process.completed" and completed["params"]["execution_id"] == "job-1"
    assert completed["params"]["time_saved"] == 0 and isinstance(completed["params"]["time_saved"], int)
    assert isinstance(core.receive(request("execute", {"command": "echo"}, 5))[0], StartExecution)


def test_a_failed_spawn_frees_the_connection(core):
    [start] = core.receive(request("execute", {"command": "echo", "cwd": "/nonexistent"}))
    [error] = core.execution_not_started(start, "working directory does not exist: /nonexistent")
    assert json.loads(error.frame)["error"]["code"] == -32000
    assert isinstance(core.receive(request("execute", {"command": "echo"}, 2))[0], StartExecution)


def test_notifications_are_acted_on_but_never_answered(core):
    assert core.receive('{"jsonrpc": "2.0", "method": "frobnicate"}') == []
    assert core.receive('{"jsonrpc": "2.0", "method": "hook_status"}') == []
    [start] = core.receive('{"jsonrpc": "2.0", "method": "execute", "params": {"command": "echo"}}')
    assert isinstance(start, StartExecution) and not start.answer
    assert [json.loads(f)["method"] for f in core.execution_started(start, 7, 7)] == ["process.started"]


def test_hook_status_and_status(core):
    [asked] = core.receive(request("hook_status", {}))
    assert isinstance(asked, ReportHookStatus)
    [reply] = core.hook_status(asked, HooksEngine().status())
    assert json.loads(reply)["result"] == {"enabled": False, "message": "Hook integration not configured"}
    [status] = core.receive(request("status"))
    assert isinstance(status, ReportStatus)
    [frame] = core.status(status, None, None, None, active_sessions=1, max_sessions=4)
    assert json.loads(frame)["result"] == {
        "session_id": "s-1",
        "version": "2.0.0",
        "active_sessions": 1,
        "max_sessions": 4,
        "execution": None,
        "queued_execution": None,
        "starting_execution": None,
    }


WAITING = QueuedExecution(execution_id="q-1", state="queued", command="sleep 1", queued_s=0.5, position=1)
STARTING = StartingExecution(execution_id="h-1", state="starting", command="sleep 2", starting_s=0.2)


def test_protocol_2_shows_executions_that_have_not_started_and_1_0_keeps_the_old_shapes(core, old):
    """status and sessions: 2.0 shows queued_execution and starting_execution; a 1.0 reply has exactly the fields it
    always had."""
    waiting, starting = WAITING.model_dump(mode="json"), STARTING.model_dump(mode="json")
    listed = [
        SessionInfo(session_id="s-2", connected_s=1.0, execution=None, queued_execution=WAITING),
        SessionInfo(session_id="s-3", connected_s=1.0, execution=None, starting_execution=STARTING),
    ]
    [asked] = core.receive(request("status"))
    result = json.loads(core.status(asked, None, WAITING, STARTING, 2, 4)[0])["result"]
    assert (result["queued_execution"], result["starting_execution"]) == (waiting, starting)
    [asked] = core.receive(request("sessions", {}))
    shown = json.loads(core.sessions(asked, listed, 4)[0])["result"]["sessions"]
    assert (shown[0]["queued_execution"], shown[1]["starting_execution"]) == (waiting, starting)
    [asked] = old.receive(request("status"))
    status = json.loads(old.status(asked, None, WAITING, STARTING, 2, 4)[0])["result"]
    assert set(status) == {"session_id", "version", "active_sessions", "max_sessions", "execution"}
    [asked] = old.receive(request("sessions"))
    sessions = json.loads(old.sessions(asked, listed, 4)[0])["result"]["sessions"]
    assert sessions == [{"session_id": s, "connected_s": 1.0, "execution": None} for s in ("s-2", "s-3")]


def test_frames_keep_the_old_handlers_field_order_and_explicit_nulls(core):
    [start] = core.receive(request("execute", {"command": "echo"}))
    core.execution_started(start, 9, 9)
    [output] = [json.loads(frame) for frame in core.output("stdout", [OutputPiece("hi\n")])]
    assert list(output) == ["jsonrpc", "method", "params"]
    assert list(output["params"])[:5] == ["type", "data", "truncated", "chunk_index", "total_chunks"]
    assert output["params"]["chunk_index"] is None and output["params"]["truncated"] is False
    greeting = json.loads(core.greeting())
    assert greeting["method"] == "connected" and {"execute", "control", "stream"} <= set(
        greeting["params"]["capabilities"]
    )


def test_the_subprotocol_picks_the_mode():
    assert mode_for("cc-executor.v2") is V2
    assert mode_for(None) is OLD_CLIENTS and mode_for("something-else") is OLD_CLIENTS


def test_the_fast_output_frames_are_the_models_encoding():
    encoder = OutputEncoder("job-1")
    for piece in [OutputPiece('a "quoted" \\ line ✓\n'), OutputPiece("\x00\x1b[0m\n"), OutputPiece("xx", 3, 4)]:
        params = ProcessOutputParams(
            type="stderr",
            data=piece.data,
            truncated=False,
            chunk_index=piece.chunk_index,
            total_chunks=piece.total_chunks,
            execution_id="job-1",
        )
        model = ProcessOutputNotification(jsonrpc="2.0", method="process.output", params=params)
        assert encoder.frame("stderr", piece) == encode(model)


@pytest.mark.parametrize(
    "params",
    [
        {"command": "echo", "id": "health-1", "path": "/tmp"},  # the old health checker
        {"command": "echo", "model": "opus", "temp": 0.2},  # the old CLI
    ],
)
def test_old_clients_unknown_params_and_fields_are_ignored(old, core, params):
    frame = json.dumps({"jsonrpc": "2.0", "method": "execute", "id": 1, "params": params, "client": "old"})
    [start] = old.receive(frame)
    assert isinstance(start, StartExecution) and start.execute.command == "echo"
    assert only_error(core.receive(frame))["error"]["code"] == -32600


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [(5, 5), ("5", 5), (" 5 ", 5), ("5.0", 5), (5.0, 5), ("+5", 5), (True, 1), (False, None), (0, None),
     (None, None), ("0", None), (-2, -2), (10**30, None)],
)  # fmt: skip
def test_old_clients_timeouts_are_converted_as_the_old_handler_did(old, timeout, seconds):
    [start] = old.receive(request("execute", {"command": "sleep 1", "timeout": timeout}))
    assert isinstance(start, StartExecution) and start.execute.timeout_s == seconds


@pytest.mark.parametrize("timeout", [5.5, "soon", "1e3", [], {}])
def test_old_clients_impossible_timeouts_are_invalid_params(old, timeout):
    reply = only_error(old.receive(request("execute", {"command": "sleep 1", "timeout": timeout})))
    assert reply["error"]["code"] == -32602 and reply["error"]["data"]["field"] == "timeout"


def test_old_clients_an_empty_command_gets_the_old_answer(old, core):
    for command in ("", "   "):
        reply = only_error(old.receive(request("execute", {"command": command})))
        assert (reply["error"]["code"], reply["error"]["message"]) == (-32001, "Command cannot be empty")
    assert only_error(core.receive(request("execute", {"command": ""})))["error"]["code"] == -32602


def test_allowed_commands_refuse_other_first_words():
    limited = ConnectionProtocol(session_id="s", version="2.0.0", mode=OLD_CLIENTS, allowed_commands=("echo", "ls"))
    assert isinstance(limited.receive(request("execute", {"command": "ls -la"}))[0], StartExecution)
    reply = only_error(limited.receive(request("execute", {"command": "rm -rf /tmp/x"}, 2)))
    assert reply["error"]["code"] == -32001 and reply["error"]["message"] == "Command 'rm' is not allowed"


def test_old_clients_pong_is_accepted_silently_v2_does_not_know_it(old, core):
    assert old.receive('{"jsonrpc": "2.0", "method": "pong", "id": 9}') == []
    assert old.receive('{"jsonrpc": "2.0", "method": "pong", "params": {"timestamp": 1.5}}') == []
    assert only_error(core.receive(request("pong", {}, 9)))["error"]["code"] == -32601
    ping = json.loads(old.ping(1764539651.5))
    assert ping == {"jsonrpc": "2.0", "method": "ping", "params": {"timestamp": 1764539651.5}}
    with pytest.raises(AssertionError):
        core.ping(1.0)


@pytest.mark.parametrize("mode", [OLD_CLIENTS, V2], ids=["1.0", "2.0"])
def test_an_execute_right_after_cancel_waits_for_the_group_then_starts(mode):
    core = ConnectionProtocol(session_id="s", version="2.0.0", mode=mode)
    [first] = core.receive(request("execute", {"command": "sleep 30"}))
    core.execution_started(first, 10, 10)
    [cancel] = core.receive(request("control", {"type": "CANCEL"}, 2))
    assert [f.get("method") for f in map(json.loads, core.control_done(cancel, "canceled", True))] == [
        None,
        "process.canceled",
    ]
    assert core.receive(request("execute", {"command": "echo next"}, 3)) == [], "accepted, not refused"
    busy = only_error(core.receive(request("execute", {"command": "echo third"}, 4)))
    assert busy["error"]["data"]["reason"] == "execution_running", "only one waits"
    actions = core.completed(done("canceled"))
    assert [f["method"] for f in sent(actions)] == ["process.completed"]
    [start] = [a for a in actions if isinstance(a, StartExecution)]
    assert start.execute.command == "echo next" and start.request_id == 3 and core.execution_id == start.execution_id


def test_an_execute_while_one_runs_is_still_refused(old):
    [first] = old.receive(request("execute", {"command": "sleep 30"}))
    old.execution_started(first, 10, 10)
    [pause] = old.receive(request("control", {"type": "PAUSE"}, 2))
    old.control_done(pause, "paused", True)
    assert only_error(old.receive(request("execute", {"command": "echo"}, 3)))["error"]["code"] == -32602


@pytest.mark.parametrize(("mode", "markers"), [(OLD_CLIENTS, True), (V2, False)], ids=["1.0", "2.0"])
def test_a_timeout_writes_the_old_marker_lines_for_old_clients(mode, markers):
    core = ConnectionProtocol(session_id="s", version="2.0.0", mode=mode)
    [start] = core.receive(request("execute", {"command": "sleep 30", "timeout": 5}))
    core.execution_started(start, 10, 10)
    frames = sent(core.completed(done("timed_out", timeout_s=5)))
    expected = ["process.output", "process.output", "process.completed"] if markers else ["process.completed"]
    assert [f["method"] for f in frames] == expected
    if markers:
        assert [(f["params"]["type"], f["params"]["data"]) for f in frames[:2]] == [
            ("stdout", "\n[Stream timed out after 5s]\n"),
            ("stderr", "\n[Stream timed out after 5s]\n"),
        ]
    assert frames[-1]["params"]["status"] == "timed_out"


@pytest.mark.parametrize(("mode", "frames"), [(OLD_CLIENTS, ["a\n", "\n", "b\n", "c"]), (V2, ["a\n\nb\nc"])])
def test_old_clients_get_one_line_per_frame(mode, frames):
    core = ConnectionProtocol(session_id="s", version="2.0.0", mode=mode)
    [start] = core.receive(request("execute", {"command": "x"}))
    core.execution_started(start, 10, 10)
    sent_frames = [json.loads(frame) for frame in core.output("stdout", [OutputPiece("a\n\nb\nc")])]
    assert [frame["params"]["data"] for frame in sent_frames] == frames
    long_piece = [json.loads(f) for f in core.output("stdout", [OutputPiece("x\ny", 0)])]
    assert [(f["params"]["data"], f["params"]["chunk_index"]) for f in long_piece] == [("x\ny", 0)]
