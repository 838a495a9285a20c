"""The contract scenarios: what the contract tests and `cc-executor verify` play against a handler.

Each has a committed recording in contract_tests/recordings/ (scripts/record_contracts.py).
Scenarios without a subprotocol are played as old clients play them (protocol 1.0); the
`v2_` ones offer cc-executor.v2 and show the fast path.
"""

from __future__ import annotations

from dataclasses import replace

from cc_executor.contract_tests.steps import (
    COMPLETED,
    CONNECTED,
    Close,
    NothingLeftRunning,
    Pause,
    Receive,
    Scenario,
    SendBinary,
    SendFiller,
    SendFrame,
    SendText,
    UntilCompleted,
    control,
    execute,
    hook_status,
    notification,
    output,
    raw_request,
    reply,
    status,
    until,
)
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

UNICODE_COMMAND = (
    r"printf '\377\376 héllo ✓ 日本\n'; "  # two bytes that are not UTF-8, then UTF-8 text from the command itself
    r"printf 'nul:\000 bell:\007 esc:\033[0m tab:\t\n'; "  # control characters must survive JSON escaping
    r"printf 'split: \342\234'; printf '\223 joined\n'; "  # one character written in two pieces
    r"echo 'ошибка ✗' >&2; "
    r"printf 'no newline at the end ✓'"
)


#: Lines as old clients read them, one frame each: Claude's stream-json (one line written in two parts, with a
#: pause between them, as a busy writer does) and key=value lines.
LINES_COMMAND = (
    r"""printf '{"type":"system","subtype":"init"}\n'; printf '{"type":"assistant","message":'; sleep 0.3; """
    r"""printf '{"content":"hi"}}\n{"type":"result","is_error":false}\n'; printf 'a=1\nb=2\n'; printf 'c=3'"""
)
OLD_CLIENT_PARAMS = (  # what old clients send besides command: the health checker's id and path, the CLI's model
    {"command": "echo checked", "id": "health-1", "path": "/tmp"},
    {"command": "echo talked", "model": "opus", "temp": 0.2},
)
OLD_TIMEOUTS = ("3", 3.0, True, 0, None, " +3 ")  # all run (0 and null: no timeout); True is one second


def v2(scenario: Scenario) -> Scenario:
    """The same steps as a protocol 2.0 client (cc-executor.v2) takes them."""
    return replace(scenario, name=f"v2_{scenario.name}", subprotocol=V2_SUBPROTOCOL)


def _shared() -> list[Scenario]:
    """Behaviour both modes share (played as old clients, and as v2 clients under v2_<name>)."""
    return [
        Scenario("echo", "execute -> result started -> started -> output -> completed", (
            CONNECTED, execute(1, "echo hello"), COMPLETED,
        )),
        Scenario("many_lines", "300 lines: one frame each for old clients, many lines to a frame for v2", (
            CONNECTED, execute(1, "seq 1 300"), COMPLETED,
        )),
        Scenario("lines", "stream-json and key=value lines; a line written in two parts", (
            CONNECTED, execute(1, LINES_COMMAND), COMPLETED,
        )),
        Scenario("timeout", "sleep 30 with timeout 1: group terminated, status timed_out (old clients: markers)", (
            CONNECTED, execute(1, "sleep 30", timeout=1), COMPLETED,
        )),
        Scenario("execute_after_cancel", "an execute sent right after CANCEL's reply starts once the group is gone", (
            CONNECTED,
            execute(1, "echo started; sleep 30"), output("started\n"),
            control(2, "CANCEL"), reply(2),
            execute(3, "echo next"), COMPLETED, reply(3), until("process.started"),
            Receive(UntilCompleted(2)),
        )),
    ]  # fmt: skip


def _old_clients() -> list[Scenario]:
    """How old clients use the handler (no subprotocol: protocol 1.0)."""
    return [
        Scenario("connect", "the connected greeting on a new connection", (CONNECTED,)),
        Scenario("stdout_stderr_exit3", "both streams and a non-zero exit (status failed)", (
            CONNECTED, execute(1, "printf 'line1\\nline2\\n'; echo oops >&2; exit 3"), COMPLETED,
        )),
        Scenario("unicode_binary_output", "UTF-8, invalid bytes (U+FFFD), control characters, split characters", (
            CONNECTED, execute(1, UNICODE_COMMAND), COMPLETED,
        )),
        Scenario("long_line", "one 300 KB line: pieces numbered by chunk_index, nothing lost", (
            CONNECTED, execute(1, r"head -c 300000 /dev/zero | tr '\000' x; echo; echo after"), COMPLETED,
        )),
        Scenario("pause_resume_cancel", "PAUSE holds the group (no output while paused), RESUME, CANCEL", (
            CONNECTED,
            execute(1, "echo before; sleep 0.5; echo after; sleep 30"),
            output("before\n"),
            control(2, "PAUSE"), reply(2), until("process.paused"),
            status(3), reply(3),
            Pause(1.0),  # 'after' is due 0.5 s after 'before': it must not come while paused
            control(4, "PAUSE"), reply(4),  # already paused: a result, no second notification
            control(5, "RESUME"), reply(5), until("process.resumed"),
            output("after\n"),
            control(6, "RESUME"), reply(6),  # already running: a result, no notification
            control(7, "CANCEL"), reply(7), COMPLETED,
        )),
        Scenario("timeout_not_counting_pauses", "paused time does not count towards the timeout", (
            CONNECTED,
            execute(1, "sleep 30", timeout=1), reply(1),
            control(2, "PAUSE"), reply(2), until("process.paused"),
            Pause(0.8),
            status(3), reply(3),  # 0.8 s in, paused: still running
            Pause(0.8),  # 1.6 s in: a timeout that counted paused time would have fired by now
            control(4, "RESUME"), reply(4), until("process.resumed"),
            COMPLETED,
        )),
        Scenario("background_child", "the leader exits first; a child's late output still comes before completed", (
            CONNECTED, execute(1, "(sleep 0.3; echo late) & echo early"), COMPLETED,
        )),
        Scenario("execute_while_running", "a second execute is refused while one runs; accepted after", (
            CONNECTED,
            execute(1, "sleep 1; echo done1"), reply(1),
            execute(2, "echo second"), reply(2),
            COMPLETED,
            execute(3, "echo second"), COMPLETED,
        )),
        Scenario("status_and_hook_status", "status idle and running, hook_status, execution_id guard, cwd", (
            CONNECTED,
            status(1), reply(1),
            hook_status(2), reply(2),
            raw_request("hook_status", 3), reply(3),
            execute(4, "pwd; sleep 30", cwd="/tmp", timeout=60, execution_id="job-42"), output("/tmp\n"),
            status("five"), reply("five"),
            control(6, "CANCEL", execution_id="job-41"), reply(6),
            control(7, "CANCEL", execution_id="job-42"), reply(7), COMPLETED,
            status(8), reply(8),
        )),
        Scenario("lenient_params", "unknown params and fields ignored, timeouts converted, the empty command", (
            CONNECTED,
            *[step for number, params in enumerate(OLD_CLIENT_PARAMS, 1)
              for step in (raw_request("execute", number, params), COMPLETED)],
            SendFrame({"jsonrpc": "2.0", "method": "status", "id": 3, "client": "old-cli"}), reply(3),
            *[step for number, timeout in enumerate(OLD_TIMEOUTS, 10)
              for step in (raw_request("execute", number, {"command": "echo t", "timeout": timeout}),
                           Receive(UntilCompleted(number - 7)))],
            raw_request("execute", 20, {"command": ""}), reply(20),
            raw_request("execute", 21, {"command": "   "}), reply(21),
            raw_request("control", 22, {"type": "PAUSE", "id": "ui-7"}), reply(22),
        )),
        Scenario("pong", "pong, with or without an id, is accepted silently", (
            CONNECTED,
            SendFrame({"jsonrpc": "2.0", "method": "pong", "id": 1}),
            SendFrame({"jsonrpc": "2.0", "method": "pong", "params": {"timestamp": 1.5}}),
            status(2), reply(2),
        )),
        Scenario("error_parse", "-32700 for text that is not JSON and for binary frames; the connection stays", (
            CONNECTED,
            SendText("not json"), reply(None),
            SendText('{"jsonrpc": "2.0", "method": "status", "id": 1'), reply(None),
            SendText('{"jsonrpc": "2.0", "method": "status", "id": NaN}'), reply(None),
            SendBinary(b"\x00\x01\x02 binary \xff"), reply(None),
            SendBinary(b'{"jsonrpc": "2.0", "method": "status", "id": 2}'), reply(None),
            status(3), reply(3),
        )),
        Scenario("error_invalid_request", "-32600 for JSON that is not a request object", (
            CONNECTED,
            SendFrame([{"jsonrpc": "2.0", "method": "status", "id": 1}]), reply(None),
            SendFrame([]), reply(None),
            SendFrame(42), reply(None),
            SendText('"status"'), reply(None),
            SendFrame(None), reply(None),
            SendFrame({"jsonrpc": "2.0", "id": 3}), reply(3),
            raw_request("status", 4, jsonrpc="1.0"), reply(4),
            SendFrame({"method": "status", "id": 5}), reply(5),
            raw_request(7, 6), reply(6),
            raw_request("status", True), reply(None),
            raw_request("status", 1.5), reply(None),
            status(8), reply(8),
        )),
        Scenario("error_unknown_method", "-32601 for a method the handler does not have", (
            CONNECTED,
            raw_request("frobnicate", 7, {}), reply(7),
            raw_request("Execute", 8, {"command": "echo no"}), reply(8),
            raw_request("process.output", 9), reply(9),
            status(10), reply(10),
        )),
        Scenario("error_invalid_params", "-32602 for params the old handler could not read either", (
            CONNECTED,
            raw_request("execute", 1, {}), reply(1),
            raw_request("execute", 2, {"command": 7}), reply(2),
            raw_request("execute", 3, {"command": "echo no", "timeout": 2.5}), reply(3),
            raw_request("execute", 4, {"command": "echo no", "timeout": "soon"}), reply(4),
            raw_request("execute", 5, []), reply(5),
            raw_request("control", 6, {"type": "STOP"}), reply(6),
            raw_request("control", 7, {}), reply(7),
            status(8), reply(8),
        )),
        Scenario("error_control_idle", "-32602 no_execution for control with nothing running", (
            CONNECTED,
            control(1, "PAUSE"), reply(1),
            control(2, "RESUME"), reply(2),
            control(3, "CANCEL"), reply(3),
            status(4), reply(4),
        )),
        Scenario("error_oversized", "-32600 frame_too_large for a frame over the old 10 MiB limit; the connection stays", (
            CONNECTED,
            SendFiller("x", (10 << 20) + 1), reply(None),
            status(2), reply(2),
        )),
        Scenario("error_spawn_failed", "-32000 when the process cannot start (no such cwd); the session is free", (
            CONNECTED,
            execute(1, "echo never", cwd="/nonexistent/cc-executor-contract"), reply(1),
            status(2), reply(2),
            execute(3, "echo after"), COMPLETED,
        )),
        Scenario("notifications_without_id", "frames without id are acted on and never answered", (
            CONNECTED,
            notification("hook_status"),
            notification("status"),
            notification("frobnicate"),
            notification("execute", {}),
            notification("control", {"type": "PAUSE"}),
            status(1), reply(1),
            notification("execute", {"command": "echo quiet"}), COMPLETED,
            status(2), reply(2),
        )),
        Scenario("client_disconnect", "a client that goes away mid-run takes its process group with it", (
            CONNECTED,
            execute(1, "sleep 30 & sleep 31 & wait"), reply(1), until("process.started"),
            Close(),
            NothingLeftRunning(),
        )),
        Scenario("client_disconnect_paused", "a paused group is ended too when its client goes away", (
            CONNECTED,
            execute(1, "sleep 30 & sleep 31 & wait"), reply(1), until("process.started"),
            control(2, "PAUSE"), reply(2), until("process.paused"),
            Close(),
            NothingLeftRunning(),
        )),
    ]  # fmt: skip


def _v2_only() -> list[Scenario]:
    """Protocol 2.0's strictness (cc-executor.v2)."""
    return [v2(scenario) for scenario in [
        Scenario("strict_request", "-32600 for an unknown top-level field; -32601 for pong", (
            CONNECTED,
            SendFrame({"jsonrpc": "2.0", "method": "status", "id": 7, "extra": 1}), reply(7),
            raw_request("pong", 8, {}), reply(8),
            status(9), reply(9),
        )),
        Scenario("strict_params", "-32602 with one readable sentence and data.field", (
            CONNECTED,
            raw_request("execute", 1, {}), reply(1),
            raw_request("execute", 2, {"command": 7}), reply(2),
            raw_request("execute", 3, {"command": "echo no", "bogus": True}), reply(3),
            raw_request("execute", 4, {"command": "echo no", "timeout": 0}), reply(4),
            raw_request("execute", 5, {"command": "echo no", "timeout": "5"}), reply(5),
            raw_request("execute", 6, {"command": ""}), reply(6),
            raw_request("execute", 7, []), reply(7),
            raw_request("execute", 8, {"command": "echo no", "cwd": ""}), reply(8),
            raw_request("control", 9, {"type": "STOP"}), reply(9),
            raw_request("control", 10, {}), reply(10),
            raw_request("status", 11, {"verbose": True}), reply(11),
            raw_request("hook_status", 12, {"x": 1}), reply(12),
            status(13), reply(13),
        )),
        Scenario("error_oversized", "-32600 frame_too_large for a frame over 1 MiB; the connection stays", (
            CONNECTED,
            SendFiller("x", (1 << 20) + 1), reply(None),
            status(2), reply(2),
        )),
    ]]  # fmt: skip


def _scenarios() -> list[Scenario]:
    shared = _shared()
    return [*shared, *_old_clients(), *[v2(scenario) for scenario in shared], *_v2_only()]


SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _scenarios()}
