"""Inputs at the edge of what the spec allows are answered with a JSON-RPC error, never a dropped connection.

These are scenarios outside the recorded contract (they have no recording yet): each
must end with the connection still open and the session free for the next execute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from cc_executor.contract_tests.driver import ScenarioFailed, run_scenario
from cc_executor.contract_tests.frames import frame_label, received
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.contract_tests.spec_validation import transcript_errors
from cc_executor.contract_tests.steps import CONNECTED, Scenario, Step, raw_request, reply, status

#: Requests a process cannot be started with (built raw: the point is what the handler does with them).
EDGE_EXECUTES: dict[str, Step] = {
    "nul_in_command": raw_request("execute", 1, {"command": "echo a\x00b"}),
    "nul_in_cwd": raw_request("execute", 1, {"command": "pwd", "cwd": "/tmp\x00x"}),
    "cwd_is_a_file": raw_request("execute", 1, {"command": "pwd", "cwd": "/etc/passwd"}),
}


@pytest.fixture(scope="module")
def handler() -> Iterator[LiveHandler]:
    with live_handler() as running:
        yield running


@pytest.mark.parametrize("name", sorted(EDGE_EXECUTES))
async def test_unstartable_execute_is_an_error_reply(name: str, handler: LiveHandler) -> None:
    scenario = Scenario(
        name, "an execute that cannot start", (CONNECTED, EDGE_EXECUTES[name], reply(1), status(2), reply(2))
    )
    try:
        events = await asyncio.wait_for(run_scenario(scenario, handler.url, token=handler.token), 15)
    except ScenarioFailed as exc:
        labels = [frame_label(frame) for frame in received(exc.events)]
        pytest.fail(f"no JSON-RPC answer, the connection was dropped: {exc} (received {labels})")
    frames = received(events)
    answer = next(frame for frame in frames if frame.get("id") == 1)
    assert answer.get("error", {}).get("code") in (-32602, -32000), answer
    assert next(frame for frame in frames if frame.get("id") == 2)["result"]["execution"] is None
    assert not transcript_errors(events, closed=True)
