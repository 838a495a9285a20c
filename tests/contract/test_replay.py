"""Replay every committed recording against a live handler and compare what it sends, after normalisation.

The recordings in contract_tests/recordings/ are the contract: the client frames are
sent again with their recorded pacing (each gap capped at 1 s) and the handler must
answer with the same frames up to what legitimately varies (see comparison.normalise).
Every recorded server frame must also conform to spec/.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from cc_executor.contract_tests.comparison import line_framing_problems, output_problems
from cc_executor.contract_tests.frames import received, subprotocol_of
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler, stop
from cc_executor.contract_tests.replay import replay_against
from cc_executor.contract_tests.scenarios import SCENARIOS
from cc_executor.contract_tests.spec_validation import transcript_errors
from cc_executor.contract_tests.transcripts import read_transcript, recording_paths
from cc_executor.handler.proc_scan import group_alive

RECORDINGS = recording_paths()
REPLAY_LIMIT_S = 30.0


@pytest.fixture(scope="module")
def handler() -> Iterator[LiveHandler]:
    with live_handler() as running:
        yield running


def test_every_scenario_has_a_recording() -> None:
    """A scenario without a recording is not part of the contract yet: run scripts/record_contracts.py."""
    assert sorted(path.stem for path in RECORDINGS) == sorted(SCENARIOS)


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.stem)
def test_recording_conforms_to_spec(path: Path) -> None:
    events = read_transcript(path)
    assert received(events) and received(events)[0]["method"] == "connected"
    problems = transcript_errors(events, closed=True) + output_problems(received(events))
    if subprotocol_of(events) is None:  # an old client's recording: one line per frame
        problems += line_framing_problems(received(events))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.stem)
async def test_replay_matches_recording(path: Path, handler: LiveHandler) -> None:
    recorded = read_transcript(path)
    live, problems = await replay_against(path.stem, recorded, handler.url, token=handler.token, limit_s=REPLAY_LIMIT_S)
    problems += transcript_errors(live, closed=True)
    if subprotocol_of(recorded) is None:
        problems += line_framing_problems(received(live))
    assert not problems, "\n".join(problems)


async def test_stopping_the_handler_ends_running_groups() -> None:
    """SIGTERM to the handler closes every session, and every session takes its process group down."""
    with live_handler() as running:
        async with connect(running.url, additional_headers=running.headers) as websocket:
            await websocket.recv()  # connected
            request = {"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "sleep 30 & wait"}}
            await websocket.send(json.dumps(request))
            pgid = json.loads(await asyncio.wait_for(websocket.recv(), 10))["result"]["pgid"]
            assert group_alive(pgid)
            await asyncio.to_thread(stop, running.process)  # while the client is still connected
            assert running.process.returncode == 0, running.log_path.read_text(errors="replace")
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not group_alive(pgid), f"process group {pgid} outlived its handler"
