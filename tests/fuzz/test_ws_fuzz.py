"""Property-based attack on the live handler: frames made from spec/ and mutated from it.

After every frame: each reply is a valid JSON-RPC frame of spec/, the connection
still answers a `status` probe, and the handler process is alive. The number of
frames scales with CC_EXECUTOR_FUZZ_SCALE (1 in CI; e.g. 20 for a nightly run).
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from cc_executor.bridge.tool_specs import bundle
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.contract_tests.spec_validation import FrameChecker
from cc_executor.handler.protocol_mode import V2_SUBPROTOCOL

SCALE = int(os.environ.get("CC_EXECUTOR_FUZZ_SCALE", "1"))
SPEC = Path(__file__).resolve().parents[2] / "spec"
REQUESTS = sorted((SPEC / "ws" / "requests").glob("*.json"))
MAX_FRAME_BYTES = 64 * 1024
PROBE_TIMEOUT_S = 10.0
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    derandomize=True,
    database=None,
)
#: Frames each test sends per protocol mode (its max_examples): docs/reliability.md quotes their sum, twice.
FRAMES = {
    "test_frames_generated_from_the_spec": 300 * SCALE,
    "test_frames_mutated_from_the_spec": 750 * SCALE,
    "test_garbage_frames": 450 * SCALE,
}
#: A fixed number of frames, not a fixed time: about 40 s per test on an idle 2-core machine, so the suite's
#: 120 s would not survive a machine three times slower (or a loaded one); this does, with room.
pytestmark = pytest.mark.timeout(600 * SCALE)


class Probe:
    """One connection, shared by a test's examples: send a frame, then prove the handler still answers."""

    def __init__(self, handler: LiveHandler, subprotocol: str | None) -> None:
        self.handler = handler
        offered = [Subprotocol(subprotocol)] if subprotocol else None
        self.ws: ClientConnection = connect(
            handler.url, additional_headers=handler.headers, subprotocols=offered, max_size=None
        ).__enter__()
        self.checker = FrameChecker(closed=True)
        self.ids = itertools.count(1_000_000)
        self.sent = 0
        self._receive()  # connected

    def close(self) -> None:
        self.ws.close()

    def attack(self, frame: str | bytes) -> None:
        try:
            self._attack(frame)
        except ConnectionClosed as exc:
            log = self.handler.log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"the handler closed the connection ({exc}) after {str(frame)[:300]!r}; its log:\n{log}")

    def _attack(self, frame: str | bytes) -> None:
        self.sent += 1
        self.ws.send(frame)
        if isinstance(frame, str):
            try:
                self.checker.sent(json.loads(frame))
            except (ValueError, RecursionError):
                pass
        probe_id = next(self.ids)
        probe = {"jsonrpc": "2.0", "method": "status", "id": probe_id}
        self.checker.sent(probe)
        self.ws.send(json.dumps(probe))
        running = False
        while True:
            message = self._receive()
            if message.get("id") == probe_id:
                assert "result" in message, message
                running = message["result"]["execution"] is not None
                break
            if message.get("method") == "process.completed":
                running = False
        while running:  # let a started execution finish before the next frame
            running = self._receive().get("method") != "process.completed"
        assert self.handler.process.poll() is None, "the handler died"

    def _receive(self) -> dict[str, Any]:
        text = self.ws.recv(timeout=PROBE_TIMEOUT_S)
        message = json.loads(text)
        problems = self.checker.received(message)
        assert not problems, problems
        return message


@pytest.fixture(scope="module")
def handler() -> LiveHandler:
    with live_handler("--max-frame-bytes", str(MAX_FRAME_BYTES), "--default-timeout", "5") as running:
        yield running
        assert running.process.poll() is None, "the handler died during the fuzzing"


@pytest.fixture(params=[None, V2_SUBPROTOCOL], ids=["old_client", "v2"])
def probe(handler, request):
    """Both protocol modes: the lenient reading of old clients' frames and the strict one of v2."""
    connection = Probe(handler, request.param)
    yield connection
    connection.close()
    expected = FRAMES[request.function.__name__]
    assert connection.sent >= expected, f"only {connection.sent} of {expected} frames were fuzzed"


def harmless(frame: Any) -> Any:
    """A generated `execute` runs its command: make it one that only prints it."""
    if isinstance(frame, dict) and frame.get("method") == "execute" and isinstance(frame.get("params"), dict):
        params = dict(frame["params"])
        if isinstance(params.get("command"), str):
            params["command"] = "echo " + shlex.quote(params["command"][:200])
        params.pop("cwd", None)
        frame = {**frame, "params": params}
    return frame


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
ids = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), st.booleans(), json_values)
methods = st.sampled_from(["execute", "control", "status", "hook_status", "sessions"]) | st.text(max_size=20)
valid_requests = st.one_of([from_schema(bundle(path)) for path in REQUESTS]).map(harmless)


@settings(FUZZ, max_examples=FRAMES["test_frames_generated_from_the_spec"])  # per protocol mode
@given(frame=valid_requests)
def test_frames_generated_from_the_spec(probe, frame):
    probe.attack(json.dumps(frame))


def mutate(frame: dict[str, Any], how: str, value: Any) -> Any:
    frame = dict(frame)
    params = dict(frame.get("params") or {})
    if how == "drop" and frame:
        frame.pop(sorted(frame)[len(str(value)) % len(frame)])
    elif how == "extra":
        frame[str(value)[:10] or "x"] = value
    elif how == "param_type" and params:
        params[sorted(params)[0]] = value
        frame["params"] = params
    elif how == "param_extra":
        params["unexpected"] = value
        frame["params"] = params
    elif how == "id":
        frame["id"] = value
    elif how == "params":
        frame["params"] = value
    elif how == "method":
        frame["method"] = value
    elif how == "jsonrpc":
        frame["jsonrpc"] = value
    return harmless(frame)


@settings(FUZZ, max_examples=FRAMES["test_frames_mutated_from_the_spec"])  # per protocol mode
@given(
    frame=valid_requests,
    how=st.sampled_from(["drop", "extra", "param_type", "param_extra", "id", "params", "method", "jsonrpc"]),
    value=json_values | ids | methods,
)
def test_frames_mutated_from_the_spec(probe, frame, how, value):
    probe.attack(json.dumps(mutate(frame, how, value)))


garbage = st.one_of(
    st.binary(max_size=200),  # binary frames, invalid UTF-8 included
    st.text(max_size=200),  # not JSON, mostly
    json_values.map(json.dumps),  # JSON, but rarely a request
    st.lists(valid_requests, min_size=1, max_size=3).map(json.dumps),  # batches
    st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),  # deep nesting
    st.integers(1, 5000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.integers(MAX_FRAME_BYTES, 4 * MAX_FRAME_BYTES).map(lambda size: json.dumps({"x": "y" * size})),  # oversized
    st.text(max_size=50).map(lambda s: '{"jsonrpc": "2.0", "method": "status", "id": 1' + s),  # truncated
)


@settings(FUZZ, max_examples=FRAMES["test_garbage_frames"])  # per protocol mode
@given(frame=garbage)
def test_garbage_frames(probe, frame):
    probe.attack(frame)
