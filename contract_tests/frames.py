"""The vocabulary of transcripts: frames and events, what kind of frame one is, what a run received.

A transcript is one event per line, in the format of the old handler's transcripts
(tests/reference/original-handler/*.jsonl):

    {"dir": "send" | "recv", "t": <seconds since connect>, "frame": <JSON frame, or raw text>}

plus, where a frame cannot be stored as JSON text, `"binary": <base64>` or
`"filler": {"char": "x", "count": N}` instead of `"frame"`, and events of our own:
`{"dir": "open", "subprotocol": <asked for>, "agreed": <the handler's answer>}` first
when the client asked for a subprotocol (absent: none, protocol 1.0), `{"dir": "close"}` (the client closed) and
`{"dir": "check", "check": "nothing_left_running"}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

Json: TypeAlias = Any
Event: TypeAlias = dict[str, Any]
RequestId: TypeAlias = str | int | None

OUTPUT = "process.output"
STREAMS = ("stdout", "stderr")
#: Notifications whose number and place depend only on time (protocol 1.0's heartbeat): not part of any contract.
TIMING_NOTIFICATIONS = frozenset({"ping"})


def is_object(frame: Json) -> bool:
    return isinstance(frame, dict)


def is_output(frame: Json) -> bool:
    return is_object(frame) and frame.get("method") == OUTPUT


def is_timing(frame: Json) -> bool:
    return is_object(frame) and frame.get("method") in TIMING_NOTIFICATIONS


def is_reply_to(frame: Json, request_id: RequestId) -> bool:
    """A response (result or error) carrying exactly this id (1, True and "1" differ)."""
    if not is_object(frame) or "id" not in frame or ("result" not in frame and "error" not in frame):
        return False
    return type(frame["id"]) is type(request_id) and frame["id"] == request_id


def count(frames: Iterable[Json], method: str) -> int:
    return sum(1 for f in frames if is_object(f) and f.get("method") == method)


def stream_text(frames: Iterable[Json], stream: str) -> str:
    """Everything received on one stream, concatenated (what the process wrote)."""
    return "".join(
        str(f["params"].get("data", ""))
        for f in frames
        if is_output(f) and isinstance(f.get("params"), dict) and f["params"].get("type") == stream
    )


def frame_of(event: Mapping[str, Any]) -> Json:
    """The frame of a recv/send event (binary as {"binary": base64}, filler as {"filler": ...})."""
    if "frame" in event:
        return event["frame"]
    if "binary" in event:
        return {"binary": event["binary"]}
    return {"filler": event.get("filler")}


def received(events: Iterable[Mapping[str, Any]]) -> list[Json]:
    return [frame_of(e) for e in events if e.get("dir") == "recv"]


def subprotocol_of(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The subprotocol the transcript's client asked for (its "open" event); None: none (protocol 1.0)."""
    opened = next((event for event in events if event.get("dir") == "open"), None)
    return None if opened is None else opened.get("subprotocol")


def agreed_subprotocol(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The subprotocol the handler agreed to in the transcript's handshake (None: none, or none was asked for)."""
    opened = next((event for event in events if event.get("dir") == "open"), None)
    return None if opened is None else opened.get("agreed")


def json_type(value: Json) -> str:
    """The JSON Schema type name of a value, as the comparisons of shapes name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def short(value: Json, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def frame_label(frame: Json) -> str:
    """A short name for a frame: its method, or result#id / error#id."""
    if not is_object(frame):
        return short(frame, 40)
    if "method" in frame:
        stream = frame.get("params", {}).get("type") if frame.get("method") == OUTPUT else None
        return f"{frame['method']}({stream})" if stream else str(frame["method"])
    return f"{'error' if 'error' in frame else 'result'}#{json.dumps(frame.get('id'))}"
