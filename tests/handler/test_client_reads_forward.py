"""The client reads forward-compatibly: a handler that adds a field to everything it sends, and sends
notifications the client has never heard of, is read without an error (spec/README.md, Conventions)."""

from __future__ import annotations

import copy
from typing import Any

from fixtures.fake_handler import ReplayHandler

from cc_executor.client import HandlerClient, handler_error
from cc_executor.contract_tests.frames import received
from cc_executor.contract_tests.transcripts import RECORDINGS_DIR, read_transcript
from cc_executor.generated.common.execution import StateChangeParams
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams
from cc_executor.generated.ws.notifications.process_output import ProcessOutputParams

NEW = {"added_in_3_1": {"nested": [1, "two"]}}


def with_new_fields(value: Any) -> Any:
    """Every JSON object gains a field it never had."""
    if isinstance(value, dict):
        return {**{key: with_new_fields(item) for key, item in value.items()}, **NEW}
    if isinstance(value, list):
        return [with_new_fields(item) for item in value]
    return value


def future_transcript() -> list[dict[str, Any]]:
    """A v2 echo and a status query, as a newer handler might answer them."""
    echo = read_transcript(RECORDINGS_DIR / "v2_echo.jsonl")
    status = read_transcript(RECORDINGS_DIR / "status_and_hook_status.jsonl")
    events = [copy.deepcopy(event) for event in echo if event.get("dir") in ("send", "recv")]
    completed = next(i for i, e in enumerate(events) if e.get("frame", {}).get("method") == "process.completed")
    unknown = {"jsonrpc": "2.0", "method": "process.hook_fired", "params": {"hook": "pre-execute"}}
    events.insert(completed, {"dir": "recv", "t": events[completed]["t"], "frame": unknown})
    events += [copy.deepcopy(event) for event in status[1:3]]  # status request 1 and its reply
    return [
        {**event, "frame": with_new_fields(event["frame"])} if event["dir"] == "recv" else event for event in events
    ]


async def test_a_handler_that_adds_fields_everywhere_is_read_unchanged() -> None:
    events = future_transcript()
    assert all("added_in_3_1" in frame for frame in received(events))
    async with ReplayHandler(events, speed=0) as fake, await HandlerClient.connect(fake.url) as client:
        assert client.greeting.version == "2.0.0" and client.greeting.model_extra == NEW
        started = await client.execute("echo hello")
        assert started.status == "started" and started.model_extra == NEW
        seen: list[Any] = []
        async for event in client.events():
            seen.append(event)
            if isinstance(event, ProcessCompletedParams):
                break
        assert [type(event) for event in seen] == [StateChangeParams, ProcessOutputParams, ProcessCompletedParams]
        output = seen[1]
        assert isinstance(output, ProcessOutputParams) and output.data == "hello\n"
        assert seen[-1].status == "completed" and seen[-1].model_extra == NEW
        status = await client.status()
        assert status.execution is None and status.model_extra == NEW
    assert not fake.unexpected


def test_an_error_reply_is_read_whatever_its_code_and_reason() -> None:
    known = handler_error(
        {"jsonrpc": "2.0", "id": 3, "error": {"code": -32602, "message": "bad", "data": {"reason": "invalid_params"}}}
    )
    assert (known.code, known.message, known.reason) == (-32602, "bad", "invalid_params")
    newer = handler_error(
        {"jsonrpc": "2.0", "id": 4, "error": {"code": -32099, "message": "later", "data": {"reason": "quota", **NEW}}}
    )
    assert (newer.code, newer.message, newer.reason) == (-32099, "later", "quota")
