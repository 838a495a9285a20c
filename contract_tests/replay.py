"""Playing a transcript back: its client actions with their recorded pacing, each once the frames before it came.

`replay_against` replays a recording against a handler and says how the live run
departs from it (after normalising: comparison.py).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from typing import Any

from cc_executor.contract_tests.comparison import compare_frames, output_problems
from cc_executor.contract_tests.driver import ScenarioFailed, run_scenario
from cc_executor.contract_tests.frames import Event, Json, agreed_subprotocol, frame_of, received, subprotocol_of
from cc_executor.contract_tests.steps import (
    Close,
    NothingLeftRunning,
    Pause,
    Receive,
    Scenario,
    SendBinary,
    SendFiller,
    SendFrame,
    SendText,
    Step,
    UntilCovered,
    UntilIdle,
)


def step_of(event: Mapping[str, Any]) -> Step | None:
    """The client action a transcript event records; None for server frames and unknown events."""
    direction = event.get("dir")
    if direction == "close":
        return Close()
    if direction == "check":
        return NothingLeftRunning()
    if direction != "send":
        return None
    if "binary" in event:
        return SendBinary(base64.b64decode(event["binary"]))
    if "filler" in event:
        return SendFiller(str(event["filler"]["char"]), int(event["filler"]["count"]))
    frame = event.get("frame")
    return SendText(frame) if isinstance(frame, str) else SendFrame(frame)


def replay_scenario(
    name: str, events: Sequence[Mapping[str, Any]], *, max_gap_s: float = 1.0, until_idle: bool = False
) -> Scenario:
    """Turn a transcript back into steps: each client action waits for the server frames recorded before it,
    then for the recorded gap since the previous event (at most `max_gap_s`).

    `until_idle` also waits, at the end, for every started execution's process.completed
    (a reference transcript may stop before it).
    """
    steps: list[Step] = []
    expected: list[Json] = []
    last_t = 0.0
    closed = False
    for event in events:
        t = float(event.get("t", last_t))
        if event.get("dir") == "recv":
            expected.append(frame_of(event))
            last_t = t
            continue
        step = step_of(event)
        if step is None:
            continue
        if expected and not closed:
            steps.append(Receive(UntilCovered.of(expected)))
        gap = min(max(t - last_t, 0.0), max_gap_s)
        if gap > 0:
            steps.append(Pause(round(gap, 3)))
        steps.append(step)
        closed = closed or isinstance(step, Close)
        last_t = t
    if not closed:
        steps.append(Receive(UntilCovered.of(expected)))
        if until_idle:
            steps.append(Receive(UntilIdle()))
    return Scenario(name, f"replay of {name}", tuple(steps), subprotocol_of(events))


async def replay_against(
    name: str,
    recorded: Sequence[Mapping[str, Any]],
    url: str,
    *,
    token: str | None = None,
    local: bool | None = None,
    additive: bool = False,
    max_gap_s: float = 1.0,
    limit_s: float = 60.0,
) -> tuple[list[Event], list[str]]:
    """Replay a recorded transcript against the handler at `url`: (live transcript, how it departs from the recording).

    The departures: a step that could not complete, server frames that differ after
    normalisation, client actions (close, check) that did not happen, broken output framing.
    """
    problems: list[str] = []
    try:
        scenario = replay_scenario(name, recorded, max_gap_s=max_gap_s)
        live = await asyncio.wait_for(run_scenario(scenario, url, token=token, local=local), limit_s)
    except ScenarioFailed as exc:
        live, problems = exc.events, [f"replay stopped: {exc}"]
    except TimeoutError:
        live, problems = [], [f"replay of {name} took longer than {limit_s} s"]
    problems += compare_frames(received(recorded), received(live), additive=additive)
    problems += subprotocol_problems(recorded, live)
    actions = [event["dir"] for event in recorded if event["dir"] != "recv"]
    if not problems and actions != [event["dir"] for event in live if event["dir"] != "recv"]:
        problems.append(f"client actions differ from the recording's {actions}")
    return live, problems + output_problems(received(live))


def subprotocol_problems(recorded: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]]) -> list[str]:
    """The handshake's answer: did the handler agree to the subprotocol the recording's handler agreed to?"""
    wanted, got = agreed_subprotocol(recorded), agreed_subprotocol(live)
    if wanted == got:
        return []
    return [f"subprotocol: the handler agreed to {got or 'none (protocol 1.0)'}, the recording's to {wanted}"]
