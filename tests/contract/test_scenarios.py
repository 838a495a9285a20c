"""The normaliser and the replay builder on their own: what must compare equal does, what must not does not."""

from __future__ import annotations

import pytest

from cc_executor.contract_tests.comparison import compare_frames, normalise, output_problems
from cc_executor.contract_tests.driver import started_groups
from cc_executor.contract_tests.replay import replay_scenario
from cc_executor.contract_tests.scenarios import SCENARIOS
from cc_executor.contract_tests.spec_validation import request_errors
from cc_executor.contract_tests.steps import (
    CONNECTED,
    Close,
    NothingLeftRunning,
    Pause,
    Receive,
    SendBinary,
    SendFiller,
    SendFrame,
    SendText,
    UntilCovered,
    control,
    execute,
    hook_status,
    status,
)


def out(data: str, stream: str = "stdout", chunk: int | None = None, total: int | None = None) -> dict:
    params = {"type": stream, "data": data, "truncated": False, "chunk_index": chunk, "total_chunks": total}
    return {"jsonrpc": "2.0", "method": "process.output", "params": params}


def completed(pid: int, seconds: float, stdout_bytes: int = 0) -> dict:
    params = {"status": "completed", "pid": pid, "pgid": pid, "execution_time": seconds, "stdout_bytes": stdout_bytes}
    return {"jsonrpc": "2.0", "method": "process.completed", "params": params}


def test_chunking_interleaving_pids_and_timings_do_not_matter() -> None:
    one = [out("a\nb"), out("\n"), out("e\n", "stderr"), completed(10, 0.01, 4)]
    two = [out("e\n", "stderr"), out("a\nb\n"), completed(77, 0.5, 4)]
    assert compare_frames(one, two) == []


def test_what_the_process_wrote_and_the_order_of_events_do_matter() -> None:
    assert compare_frames([out("a\n"), completed(1, 0)], [out("b\n"), completed(1, 0)])
    assert compare_frames([out("a\n"), completed(1, 0)], [completed(1, 0), out("a\n")])
    assert compare_frames([completed(1, 0)], [{**completed(1, 0), "params": {"status": "completed"}}])


def test_pid_placeholders_keep_equality() -> None:
    frames = normalise([{"result": {"pid": 5, "pgid": 5}}, {"result": {"pid": 6, "pgid": None}}])
    assert frames == [{"result": {"pid": "<pid1>", "pgid": "<pid1>"}}, {"result": {"pid": "<pid2>", "pgid": None}}]


def test_uuids_are_named_by_first_appearance_and_client_ids_kept() -> None:
    uuid = "5b0c6a38-3f0e-4a8e-9d38-2f4bf5d2d3c1"
    frames = normalise([{"params": {"execution_id": uuid}}, {"error": {"message": f"{uuid} gone"}}, {"id": "job-1"}])
    assert frames == [{"params": {"execution_id": "<id1>"}}, {"error": {"message": "<id1> gone"}}, {"id": "job-1"}]


def test_bool_is_not_a_number() -> None:
    assert compare_frames([{"result": {"enabled": False}}], [{"result": {"enabled": 0}}])


def test_additive_mode_tolerates_new_fields_and_capabilities_only() -> None:
    old = [{"method": "connected", "params": {"capabilities": ["execute"]}}]
    new = [{"method": "connected", "params": {"capabilities": ["execute", "status"], "extra": 1}}]
    assert compare_frames(old, new)
    assert not compare_frames(old, new, additive=True)
    assert compare_frames(old, [{"method": "connected", "params": {"capabilities": ["status"]}}], additive=True)


def test_output_invariants() -> None:
    good = [out("x" * 4, chunk=0), out("x\n", chunk=1, total=2), out("y\n"), completed(1, 0, 8)]
    assert output_problems(good) == []
    assert output_problems([out("x", chunk=1, total=2), completed(1, 0, 1)])  # does not start at 0
    assert output_problems([out("x", chunk=0), completed(1, 0, 1)])  # split line never closed
    assert output_problems([out("abc\n"), completed(1, 0, 3)])  # stdout_bytes disagrees with what arrived


def test_replay_waits_for_recorded_frames_then_keeps_the_pacing() -> None:
    events = [
        {"dir": "recv", "t": 0.0, "frame": {"method": "connected"}},
        {"dir": "send", "t": 0.01, "frame": {"jsonrpc": "2.0", "method": "status", "id": 1}},
        {"dir": "recv", "t": 0.02, "frame": {"id": 1, "result": {}}},
        {"dir": "send", "t": 3.0, "frame": "not json"},
        {"dir": "send", "t": 3.0, "binary": "AAE="},
        {"dir": "send", "t": 3.0, "filler": {"char": "x", "count": 3}},
        {"dir": "close", "t": 3.1},
        {"dir": "check", "t": 3.2, "check": "nothing_left_running"},
    ]
    steps = replay_scenario("x", events, max_gap_s=1.0).steps
    assert steps == (
        Receive(UntilCovered(1, (("stdout", 0), ("stderr", 0)))),
        Pause(0.01),
        SendFrame({"jsonrpc": "2.0", "method": "status", "id": 1}),
        Receive(UntilCovered(2, (("stdout", 0), ("stderr", 0)))),
        Pause(1.0),  # 2.98 s recorded, capped
        SendText("not json"),
        Receive(UntilCovered(2, (("stdout", 0), ("stderr", 0)))),
        SendBinary(b"\x00\x01"),
        Receive(UntilCovered(2, (("stdout", 0), ("stderr", 0)))),
        SendFiller("x", 3),
        Receive(UntilCovered(2, (("stdout", 0), ("stderr", 0)))),
        Pause(0.1),
        Close(),
        Pause(0.1),
        NothingLeftRunning(),
    )


def test_started_groups_come_from_results_and_started_notifications() -> None:
    frames = [
        {"id": 1, "result": {"status": "started", "pid": 10, "pgid": 10}},
        {"method": "process.started", "params": {"status": "started", "pid": 11, "pgid": None}},
        {"method": "process.paused", "params": {"status": "paused", "pid": 12, "pgid": 12}},
    ]
    assert started_groups(frames) == [10, 11]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenarios_start_by_waiting_for_the_greeting(name: str) -> None:
    assert SCENARIOS[name].steps[0] == CONNECTED


def test_request_builders_make_requests_the_spec_accepts() -> None:
    built = [
        execute(1, "echo hi"),
        execute("a", "sleep 1", timeout=5, cwd="/tmp", execution_id="job-1"),
        control(2, "PAUSE"),
        control(3, "CANCEL", execution_id="job-1"),
        status(4),
        hook_status(5),
    ]
    for step in built:
        assert request_errors(step.frame) == [], step.frame
    assert request_errors({"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {}})
