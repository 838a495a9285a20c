"""Comparing runs: what legitimately varies is normalised away, what remains must be equal; output invariants.

`normalise` maps what varies between runs (pids, times, ids, chunk boundaries, the
interleaving of two pipes, heartbeat pings) to placeholders, so two good runs of one
scenario compare equal.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cc_executor.contract_tests.frames import (
    OUTPUT,
    STREAMS,
    Json,
    frame_label,
    is_object,
    is_output,
    is_timing,
    json_type,
    short,
)

# -- normalising --------------------------------------------------------------------------

#: Fields whose values differ from run to run and from handler to handler, and why.
PID_FIELDS = frozenset({"pid", "pgid"})  # kernel-assigned; pgid == pid is kept visible by sharing the placeholder
TIME_FIELDS = frozenset({"execution_time", "elapsed_s", "active_s", "uptime_seconds", "connected_s"})  # wall-clock
COUNT_FIELDS = frozenset({"active_sessions"})  # other clients of a shared handler, and closes still settling
ID_FIELDS = frozenset({"session_id"})  # made by the handler per connection
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MERGED = "<merged>"
#: What protocol 1.0 writes to each stream when a timeout ends an execution (the old handler's marker line).
TIMEOUT_MARKER = re.compile(r"\n\[Stream timed out after [^\]\n]*s\]\n$")


def merge_output(frames: Sequence[Json]) -> list[Json]:
    """Collapse each run of consecutive process.output frames into one frame per stream (stdout first).

    Chunk boundaries and the interleaving of two pipes depend on timing; what a process
    wrote to each stream between two other events does not.
    """
    merged: list[Json] = []
    run: list[dict[str, Json]] = []

    def flush() -> None:
        for stream in STREAMS:
            pieces = [f for f in run if f.get("params", {}).get("type") == stream]
            if not pieces:
                continue
            frame = copy.deepcopy(pieces[0])
            params = frame["params"]
            params["data"] = "".join(str(p["params"].get("data", "")) for p in pieces)
            if "truncated" in params:
                params["truncated"] = any(p["params"].get("truncated") for p in pieces)
            for key in ("chunk_index", "total_chunks"):
                if key in params:
                    params[key] = MERGED
            merged.append(frame)
        others = [f for f in run if f.get("params", {}).get("type") not in STREAMS]
        merged.extend(copy.deepcopy(others))
        run.clear()

    for frame in frames:
        if is_timing(frame):
            continue
        if is_output(frame) and isinstance(frame.get("params"), dict):
            run.append(frame)
            continue
        flush()
        merged.append(copy.deepcopy(frame))
    flush()
    return merged


@dataclass
class _Placeholders:
    """Names values by order of first appearance, so equal values stay equal and distinct ones distinct."""

    seen: dict[str, dict[Json, str]] = field(default_factory=dict)

    def name(self, kind: str, value: Json) -> str:
        names = self.seen.setdefault(kind, {})
        return names.setdefault(value, f"<{kind}{len(names) + 1}>")

    def walk(self, value: Json, key: str | None = None) -> Json:
        if isinstance(value, dict):
            return {k: self.walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(item) for item in value]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if key in PID_FIELDS and number:
            return self.name("pid", value)
        if key in TIME_FIELDS and number:
            return "<seconds>"
        if key in COUNT_FIELDS and number:
            return "<count>"
        if key in ID_FIELDS and isinstance(value, str):
            return self.name("id", value.lower())
        if isinstance(value, str):
            return UUID.sub(lambda match: self.name("id", match.group().lower()), value)
        return value


def normalise(frames: Sequence[Json]) -> list[Json]:
    """Server frames with run-to-run variation replaced by placeholders; two good runs compare equal."""
    normalised: list[Json] = _Placeholders().walk(merge_output(frames))
    return normalised


def differences(expected: Json, actual: Json, path: str = "$", limit: int = 20, *, additive: bool = False) -> list[str]:
    """Where two JSON values differ (bool is not a number; 1 and 1.0 are the same number).

    `additive` tolerates what a later handler of the same major version may add: fields,
    and items of a list (e.g. capabilities) as long as every expected item is still there.
    """
    found: list[str] = []

    def visit(want: Json, got: Json, where: str) -> None:
        if len(found) >= limit:
            return
        if json_type(want) != json_type(got):
            found.append(f"{where}: expected {short(want)}, got {short(got)}")
        elif isinstance(want, dict):
            for key in want.keys() - got.keys():
                found.append(f"{where}.{key}: missing (expected {short(want[key])})")
            if not additive:
                found.extend(f"{where}.{key}: unexpected {short(got[key])}" for key in got.keys() - want.keys())
            for key in want.keys() & got.keys():
                visit(want[key], got[key], f"{where}.{key}")
        elif isinstance(want, list):
            if additive and len(got) > len(want) and all(item in got for item in want):
                return
            if len(want) != len(got):
                found.append(f"{where}: expected {len(want)} items, got {len(got)}")
            for index, (a, b) in enumerate(zip(want, got, strict=False)):
                visit(a, b, f"{where}[{index}]")
        elif want != got:
            if isinstance(want, str) and isinstance(got, str):
                at = next(
                    (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), min(len(want), len(got))
                )
                found.append(
                    f"{where}: strings differ at char {at} (lengths {len(want)}, {len(got)}): "
                    f"expected {short(want[at : at + 60])}, got {short(got[at : at + 60])}"
                )
            else:
                found.append(f"{where}: expected {short(want)}, got {short(got)}")

    visit(expected, actual, path)
    return found[:limit]


def compare_frames(expected: Sequence[Json], actual: Sequence[Json], *, additive: bool = False) -> list[str]:
    """Differences between two runs' server frames after normalisation; empty when they match.

    Strict by default (a recording pins the wire format of this version); `additive=True`
    suits checking a newer handler of the same major version against old recordings.
    """
    want, got = normalise(expected), normalise(actual)
    problems: list[str] = []
    if [frame_label(f) for f in want] != [frame_label(f) for f in got]:
        problems.append(
            f"frame sequence differs:\n  expected {[frame_label(f) for f in want]}\n  got      {[frame_label(f) for f in got]}"
        )
    for index, (a, b) in enumerate(zip(want, got, strict=False)):
        problems += differences(a, b, f"frame {index} {frame_label(a)}", additive=additive)
    return problems


def output_problems(frames: Sequence[Json]) -> list[str]:
    """Stream invariants of process.output: split lines numbered 0, 1, ... with total_chunks on the last piece,
    no split left open at process.completed, and byte counts that match the text (when it is valid UTF-8)."""
    problems: list[str] = []
    next_chunk: dict[str, int | None] = dict.fromkeys(STREAMS)
    texts: dict[str, list[str]] = {stream: [] for stream in STREAMS}
    for index, frame in enumerate(frames):
        if not is_object(frame):
            continue
        params = frame.get("params") if isinstance(frame.get("params"), dict) else {}
        if frame.get("method") == OUTPUT:
            stream = params.get("type")
            if stream not in STREAMS:
                continue
            texts[stream].append(str(params.get("data", "")))
            chunk, total = params.get("chunk_index"), params.get("total_chunks")
            expected_chunk = next_chunk[stream]
            if chunk is None:
                if expected_chunk is not None:
                    problems.append(f"frame {index}: {stream} piece without chunk_index inside a split line")
                if total is not None:
                    problems.append(f"frame {index}: total_chunks without chunk_index")
                continue
            if chunk != (expected_chunk or 0):
                problems.append(f"frame {index}: {stream} chunk_index {chunk}, expected {expected_chunk or 0}")
            if total is None:
                next_chunk[stream] = chunk + 1
            else:
                if total != chunk + 1:
                    problems.append(f"frame {index}: total_chunks {total} on piece {chunk}")
                next_chunk[stream] = None
        elif frame.get("method") == "process.completed":
            for stream in STREAMS:
                if next_chunk[stream] is not None:
                    problems.append(f"frame {index}: completed while a {stream} line was still split")
                text = "".join(texts[stream])
                if (
                    params.get("status") == "timed_out"
                ):  # protocol 1.0's marker line is the handler's, not the process's
                    text = TIMEOUT_MARKER.sub("", text, count=1)
                counted = params.get(f"{stream}_bytes")
                if isinstance(counted, int) and "\ufffd" not in text and len(text.encode()) != counted:
                    problems.append(f"frame {index}: {stream}_bytes {counted}, but {len(text.encode())} bytes arrived")
            next_chunk = dict.fromkeys(STREAMS)
            texts = {stream: [] for stream in STREAMS}
    return problems


def line_framing_problems(frames: Sequence[Json]) -> list[str]:
    """Protocol 1.0's framing: each process.output frame carries one line (or one numbered piece of a long one).

    A frame holds no newline but its last character; a frame without a newline is a line's
    last words before the end of its stream (or a piece of a split line).
    """
    problems: list[str] = []
    unfinished: dict[str, int | None] = dict.fromkeys(STREAMS)  # a frame that ended without its newline
    for index, frame in enumerate(frames):
        if not is_object(frame):
            continue
        params = frame.get("params") if isinstance(frame.get("params"), dict) else {}
        if frame.get("method") == "process.completed":
            unfinished = dict.fromkeys(STREAMS)
            continue
        if frame.get("method") != OUTPUT or params.get("type") not in STREAMS:
            continue
        stream, data = params["type"], str(params.get("data", ""))
        if TIMEOUT_MARKER.fullmatch(data):
            continue
        if unfinished[stream] is not None:
            problems.append(f"frame {unfinished[stream]}: {stream} line sent before its end, then more output")
        if "\n" in data[:-1]:
            problems.append(f"frame {index}: {data.count(chr(10))} lines in one {stream} frame: {short(data, 60)}")
        whole_line = params.get("chunk_index") is None or params.get("total_chunks") is not None
        unfinished[stream] = index if whole_line and not data.endswith("\n") else None
    return problems
