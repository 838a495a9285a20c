"""The new handler answers old clients the way the old handler did.

Each transcript of the old handler in tests/reference/original-handler/ is replayed
against a live handler (its client frames, with their pacing) and every reply must have
the old reply's shape: same methods, same sequence of events, same field names, same
JSON types (int and float are both "number"). Where cc-executor deliberately behaves
differently, the difference is allowed explicitly (TOLERATED, from the CORRECTIONS of
known_differences.py, each with the row of spec/README.md that documents it); fields the
spec marks "Added in protocol 2.0" may be added.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cc_executor.contract_tests.comparison import line_framing_problems, merge_output
from cc_executor.contract_tests.driver import ScenarioFailed, run_scenario
from cc_executor.contract_tests.frames import frame_label, json_type, received
from cc_executor.contract_tests.known_differences import (
    ADDITIVE,
    CORRECTIONS,
    README,
    SAME_VALUE_FIELDS,
    null_may_become_value,
    readme_rows,
)
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.contract_tests.replay import replay_scenario
from cc_executor.contract_tests.spec_validation import transcript_errors
from cc_executor.contract_tests.transcripts import read_transcript
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference" / "original-handler"
REFERENCES = sorted(REFERENCE_DIR.glob("*.jsonl")) if REFERENCE_DIR.is_dir() else []
Path_ = tuple[str, ...]
#: The corrections this comparison tolerates beyond additive fields. Nothing else may differ.
TOLERATED = ("cancel_then_completed", "pgid_always_set", "error_data_object", "execution_running_reason")


def shape_problems(old: Any, new: Any, path: Path_ = ()) -> list[str]:
    """How `new` departs from the shape of `old`: missing or non-additive extra fields, other JSON types, values."""
    where = "/".join(path) or "(frame)"
    old_type, new_type = json_type(old), json_type(new)
    if old_type != new_type:
        if old_type == "null" and null_may_become_value(path):
            return []
        return [f"{where}: the old handler sent {old_type} {json.dumps(old)[:80]}, the new one {new_type}"]
    if old_type == "number" and isinstance(old, int) != isinstance(new, int):  # 0 and 0.0 read differently in Python
        return [f"{where}: the old handler sent {json.dumps(old)}, the new one {json.dumps(new)} (integer vs float)"]
    problems: list[str] = []
    if isinstance(old, dict):
        for key in old.keys() - new.keys():
            problems.append(f"{where}/{key}: missing (the old handler sent {json.dumps(old[key])[:80]})")
        for key in sorted(new.keys() - old.keys()):
            if key not in ADDITIVE:
                problems.append(f"{where}/{key}: not sent by the old handler and not marked additive in spec/")
        for key in sorted(old.keys() & new.keys()):
            problems += shape_problems(old[key], new[key], (*path, key))
    elif isinstance(old, list):
        if path[-1:] == ("capabilities",):
            problems += [f"{where}: {item!r} missing" for item in old if item not in new]
        kinds = {json_type(item) for item in old}
        problems += [
            f"{where}: item of type {json_type(item)}" for item in new if kinds and json_type(item) not in kinds
        ]
    elif path[-1:] == ("data",) and path[-2:-1] == ("params",) and isinstance(old, str):
        # The old transcript stops when its client acted; the process may have printed a little more since.
        if not new.startswith(old):
            problems.append(f"{where}: output {new[:80]!r} does not continue the old {old[:80]!r}")
    elif path[-1:] and path[-1] in SAME_VALUE_FIELDS and old != new:
        problems.append(f"{where}: the old handler sent {json.dumps(old)}, the new one {json.dumps(new)}")
    return problems


def expected_events(old_frames: list[Any]) -> list[tuple[str, Any, str | None]]:
    """(label, old frame or None, correction) for each frame the new handler should send, in order."""
    expected: list[tuple[str, Any, str | None]] = []
    for index, frame in enumerate(old_frames):
        expected.append((frame_label(frame), frame, None))
        following = old_frames[index + 1] if index + 1 < len(old_frames) else None
        if frame_label(frame) == "process.canceled" and frame_label(following) != "process.completed":
            expected.append(("process.completed", None, "cancel_then_completed"))
    return expected


def without_output_while_canceling(frames: list[Any]) -> list[Any]:
    """Drop output between process.canceled and its process.completed (correction cancel_then_completed)."""
    kept: list[Any] = []
    canceling = False
    for frame in frames:
        label = frame_label(frame)
        if canceling and label.startswith("process.output"):
            continue
        canceling = label == "process.canceled" or (canceling and label != "process.completed")
        kept.append(frame)
    return kept


def compatibility_problems(old_frames: list[Any], new_frames: list[Any]) -> list[str]:
    old, new = merge_output(old_frames), without_output_while_canceling(merge_output(new_frames))
    expected = expected_events(old)
    labels = [label for label, _, _ in expected]
    if labels != [frame_label(frame) for frame in new]:
        return [
            f"event sequence differs:\n  old (corrected) {labels}\n  new             {[frame_label(f) for f in new]}"
        ]
    problems: list[str] = []
    for (label, old_frame, correction), new_frame in zip(expected, new, strict=True):
        if correction == "cancel_then_completed":
            if new_frame.get("params", {}).get("status") != "canceled":
                problems.append(f"{label} after process.canceled: status {new_frame['params'].get('status')!r}")
            continue
        problems += [f"{label}: {problem}" for problem in shape_problems(old_frame, new_frame)]
        problems += [f"{label}: {problem}" for problem in execution_running_problems(old_frame, new_frame)]
    return problems


def execution_running_problems(old_frame: Any, new_frame: Any) -> list[str]:
    """README row "execute while a process runs": the old message unchanged, plus data.reason."""
    old_error = old_frame.get("error") if isinstance(old_frame, dict) else None
    if not isinstance(old_error, dict) or old_error.get("message") != "A process is already running":
        return []
    new_error = new_frame.get("error") or {}
    problems = []
    if new_error.get("message") != old_error["message"]:
        problems.append(f"message {new_error.get('message')!r} is not the old {old_error['message']!r}")
    if (new_error.get("data") or {}).get("reason") != "execution_running":
        problems.append(f"data {new_error.get('data')!r} lacks reason execution_running")
    return problems


@pytest.fixture(scope="module")
def handler() -> Iterator[LiveHandler]:
    with live_handler() as running:
        yield running


def test_corrections_are_documented_in_the_readme() -> None:
    rows = readme_rows()
    undocumented = {name: c.readme_row for name, c in CORRECTIONS.items() if c.readme_row not in rows}
    assert not undocumented, f"corrections without a row in {README}: {undocumented}"
    assert set(TOLERATED) <= CORRECTIONS.keys()


def test_the_additive_fields_are_marked_in_the_spec() -> None:
    assert {"execution_id", "signal", "stdout_bytes", "stderr_bytes"} <= ADDITIVE
    assert not {"pid", "pgid", "status", "data", "exit_code"} & ADDITIVE


def test_the_comparison_catches_what_it_must() -> None:
    """The checks themselves: a renamed field, a changed type, a new null, a new value, a lost capability."""
    old = {"params": {"status": "started", "pid": 1, "pgid": None, "error": None, "capabilities": ["execute"]}}
    assert not shape_problems(old, {"params": {**old["params"], "pgid": 7, "execution_id": "x"}})
    assert shape_problems(old, {"params": {**old["params"], "pid": "1"}})
    assert shape_problems(old, {"params": {**old["params"], "error": "boom"}})
    assert shape_problems(old, {"params": {**old["params"], "status": "running"}})
    assert shape_problems(old, {"params": {**old["params"], "pid_new": 1}})
    assert shape_problems(old, {"params": {k: v for k, v in old["params"].items() if k != "pid"}})
    assert shape_problems(old, {"params": {**old["params"], "capabilities": ["status"]}})
    assert shape_problems({"time_saved": 0}, {"time_saved": 0.0}), "an old client reading 0 must not get 0.0"
    assert not shape_problems({"execution_time": 0.5}, {"execution_time": 1.25})


@pytest.mark.parametrize("path", REFERENCES, ids=lambda path: path.stem)
def test_reference_frames_conform_to_spec(path: Path) -> None:
    """spec/ still describes every frame the old handler sent (old clients' expectations hold)."""
    problems = transcript_errors(read_transcript(path), closed=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("subprotocol", [None, V2_SUBPROTOCOL], ids=["old_client", "v2"])
@pytest.mark.parametrize("path", REFERENCES, ids=lambda path: path.stem)
async def test_new_handler_answers_like_the_old_one(path: Path, subprotocol: str | None, handler: LiveHandler) -> None:
    """In both modes the old frames' shapes hold; for an old client (protocol 1.0) the framing too: a line a frame."""
    old_events = read_transcript(path)
    scenario = replace(replay_scenario(path.stem, old_events, max_gap_s=1.0, until_idle=True), subprotocol=subprotocol)
    try:
        new_events = await asyncio.wait_for(run_scenario(scenario, handler.url, token=handler.token), 30)
    except ScenarioFailed as exc:
        pytest.fail(f"{exc}\nreceived: {[frame_label(f) for f in received(exc.events)]}")
    problems = compatibility_problems(received(old_events), received(new_events)) + transcript_errors(
        new_events, closed=True
    )
    if subprotocol is None:
        problems += line_framing_problems(received(new_events))
    assert not problems, "\n".join(problems)
