"""What the old cc_executor handler (protocol 1.0) is known to do differently, in one place.

Two users:

* tests/contract/test_compatibility.py replays the old handler's transcripts against the
  new handler and tolerates exactly the CORRECTIONS it names, plus the additive fields;
* `cc-executor verify` replays the new handler's recordings against any handler and labels
  each difference it finds "known: <README row>" when a rule below explains it, or
  "unexpected" when none does (`label_problems`).

Every correction is tied to the first cell of its row in the compatibility table of
spec/README.md (a test checks the rows exist). The additive rule comes from spec/ itself:
fields, methods and capabilities it marks "Added in protocol 2.0".

In verify's direction the recording (new handler) is what is *expected* and the handler
under test is what was *got*. The rules that judge a difference are deliberately narrow:
a known case lets the fields its row talks about differ, never the shape of other fields
(a renamed or retyped field is unexpected wherever it occurs).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cc_executor.contract_tests.comparison import PID_FIELDS, compare_frames, merge_output, normalise, output_problems
from cc_executor.contract_tests.frames import (
    OUTPUT,
    agreed_subprotocol,
    frame_label,
    frame_of,
    json_type,
    received,
    short,
)
from cc_executor.spec_files import SPEC_DIR

README = SPEC_DIR / "README.md"
ADDED_MARK = re.compile(r"added in (protocol )?2\.0", re.IGNORECASE)
Json = Any
Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Correction:
    """A deliberate difference from the old handler, tied to its row in spec/README.md."""

    readme_row: str  # first cell of the row in the README's compatibility table
    allows: str


#: Every known difference. The compatibility test uses the first four by name (and the additive
#: rule); verify labels with all of them.
CORRECTIONS: dict[str, Correction] = {
    "cancel_then_completed": Correction(
        "CANCEL",
        "a process.completed (status canceled) after process.canceled, where the old handler sent none; and between"
        " them, output the group wrote before it died (nothing is dropped)",
    ),
    "pgid_always_set": Correction("pgid", "an integer pgid where the old handler sent null"),
    "error_data_object": Correction("`error.data`", "an error.data object where the old handler sent null"),
    "execution_running_reason": Correction(
        "execute while a process runs", "the same -32602 error, with data {reason: execution_running, ...}"
    ),
    "additions": Correction(
        "additions of protocol 2.0",
        "fields, capabilities and methods spec/ marks 'Added in protocol 2.0' are missing in old frames; the old"
        " handler answers status/sessions with -32601 and ignores cwd and execution_id in params (so what such a"
        " request does differs: other output, other replies, other frames)",
    ),
    "version": Correction("version in `connected`", "version 1.0.0 where the new handler reports 2.0.0"),
    "message_wording": Correction("wording of `message` texts", "other human-readable message texts"),
    "repeated_control": Correction(
        "PAUSE of a paused process, RESUME of a running one",
        "the old handler sends process.paused / process.resumed again after the result",
    ),
    "parse_error": Correction("frame that is not JSON", "another error code, no id, or a closed connection"),
    "invalid_request": Correction(
        'JSON that is not a request object (array, number, missing `method`, `jsonrpc` not "2.0")',
        "another answer, or a closed connection",
    ),
    "frame_too_large": Correction("frame over the size limit", "a closed connection"),
    "invalid_params": Correction(
        "bad params (missing `command`, wrong type, a fractional `timeout`)",
        "another error code and text; params the old handler accepted run the command",
    ),
    "no_execution": Correction("control with nothing running", "another error code and text"),
    "timeout": Correction("timeout", "status completed (and its exit code) where the new handler says timed_out"),
    "long_line": Correction(
        "a line over the frame limit", "pieces marked truncated: true, total_chunks on every piece"
    ),
    "truncated_guess": Correction("`truncated` on a line ending in `...`", "truncated: true for such a line"),
    "notifications": Correction(
        "request without `id` (a notification)", "the old handler answers it, with a reply that has no id"
    ),
}
#: Values (not only types) that must be the old ones; other values (ids, messages, versions) may differ.
SAME_VALUE_FIELDS = frozenset(
    {"jsonrpc", "method", "id", "status", "type", "code", "exit_code", "enabled", "truncated"}
)
#: data.reason of a new error reply -> the correction that covers that request (its code, text and effects).
REASON_CORRECTIONS = {
    "parse_error": "parse_error",
    "invalid_request": "invalid_request",
    "frame_too_large": "frame_too_large",
    "invalid_params": "invalid_params",
    "no_execution": "no_execution",
}
#: Requests the old handler could answer by closing the connection: what should follow them may be missing.
CLOSING_REASONS = frozenset({"parse_error", "invalid_request", "frame_too_large"})


def readme_rows(readme: Path = README) -> set[str]:
    """First cells of the rows of the compatibility table in spec/README.md."""
    text = readme.read_text(encoding="utf-8").split("## Compatibility", 1)[-1]
    return {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}


def additive_fields(spec_dir: Path = SPEC_DIR) -> set[str]:
    """Names of properties spec/ marks "Added in protocol 2.0" (on the property or on the $defs it refers to)."""
    documents = {path: json.loads(path.read_text(encoding="utf-8")) for path in spec_dir.rglob("*.json")}
    marked_defs = {
        name
        for document in documents.values()
        for name, schema in document.get("$defs", {}).items()
        if ADDED_MARK.search(str(schema.get("description", "")))
    }
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for name, schema in (node.get("properties") or {}).items():
                ref = str(schema.get("$ref", "")) if isinstance(schema, dict) else ""
                description = str(schema.get("description", "")) if isinstance(schema, dict) else ""
                if ADDED_MARK.search(description) or ref.rsplit("/", 1)[-1] in marked_defs:
                    found.add(name)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for document in documents.values():
        visit(document)
    return found


def additive_methods(spec_dir: Path = SPEC_DIR) -> set[str]:
    """Request methods whose schema (spec/ws/requests/<method>.json) says "Added in protocol 2.0"."""
    return {
        path.stem
        for path in (spec_dir / "ws" / "requests").glob("*.json")
        if ADDED_MARK.search(str(json.loads(path.read_text(encoding="utf-8")).get("description", "")))
    }


ADDITIVE = frozenset(additive_fields())
ADDITIVE_METHODS = frozenset(additive_methods())
#: Capabilities 2.0 lists beyond 1.0's: the new methods, hook_status, which existed in 1.0 without being
#: listed, queue and the permission_relay feature (spec/ws/notifications/connected.json, description of
#: `capabilities`).
ADDITIVE_CAPABILITIES = ADDITIVE_METHODS | {"hook_status", "queue", "permission_relay"}


def null_may_become_value(path: Path_) -> str | None:
    """The correction (or addition) that lets a field the old handler sent as null carry a value now, if any."""
    if path[-1:] and path[-1] in ADDITIVE:
        return "additive"
    if path[-1:] == ("pgid",):
        return "pgid_always_set"
    if path[-2:] == ("error", "data"):
        return "error_data_object"
    return None


# -- verify: labelling the differences between a recording and another handler's answers ----------------


@dataclass(frozen=True)
class Difference:
    """One way the handler under test departed from a recording; `known` is the README row that explains it."""

    text: str
    known: str | None = None

    def __str__(self) -> str:
        return f"known: {self.known} — {self.text}" if self.known else f"unexpected — {self.text}"


@dataclass(frozen=True)
class _Finding:
    subject: str  # the frame (label) it concerns; empty for a problem of the replay itself
    detail: str
    row: str | None  # the README row that explains it


def _id_key(value: Json) -> tuple[str, str]:
    """Request ids as dict keys: 1, True and 1.0 stay distinct."""
    return type(value).__name__, json.dumps(value)


def _reply_key(frame: Json) -> tuple[str, str] | None:
    is_reply = isinstance(frame, dict) and ("result" in frame or "error" in frame) and "method" not in frame
    return _id_key(frame["id"]) if is_reply and "id" in frame else None


def _reason(frame: Json) -> str | None:
    error = frame.get("error") if isinstance(frame, dict) else None
    data = error.get("data") if isinstance(error, dict) else None
    return data.get("reason") if isinstance(data, dict) else None


STATE_CHANGES = ("process.paused", "process.resumed", "process.canceled")


@dataclass
class _Side:
    """One transcript's server frames (normalised, output merged), and for each what caused it."""

    frames: list[Json]
    requests: dict[tuple[str, str], Json]  # id -> the request frame the client sent
    causes: list[tuple[str, str] | None]  # the request a frame answers, or whose execution (or control) it reports
    running: list[tuple[str, str] | None]  # the execute whose execution was the current one when the frame came
    after_send: list[int]  # index of the client frame last sent before it (-1: none)
    canceled: list[bool]  # its execution was canceled before it

    @classmethod
    def of(cls, events: Sequence[Mapping[str, Any]]) -> _Side:
        raw: list[tuple[Json, int]] = []
        sends = -1
        for event in events:
            if event.get("dir") == "send":
                sends += 1
            elif event.get("dir") == "recv":
                raw.append((frame_of(event), sends))
        frames = normalise([frame for frame, _ in raw])
        after_send: list[int] = []
        run: list[tuple[Json, int]] = []
        for frame, send in [*raw, (None, -1)]:  # merge_output merges each run of output frames on its own
            if frame_label(frame).startswith(OUTPUT) and isinstance(frame.get("params"), dict):
                run.append((frame, send))
                continue
            if run:
                after_send += [run[0][1]] * len(merge_output([f for f, _ in run]))
                run = []
            after_send.append(send)
        requests = {
            _id_key(event["frame"]["id"]): event["frame"]
            for event in events
            if event.get("dir") == "send" and isinstance(event.get("frame"), dict) and "id" in event["frame"]
        }
        side = cls(frames, requests, [], [], after_send[: len(frames)], [])
        execution = last_reply = None
        was_canceled = False
        for frame in frames:
            label = frame_label(frame)
            key = _reply_key(frame)
            if key is not None:
                last_reply = key
                result = frame.get("result")
                if isinstance(result, dict) and result.get("status") == "started":
                    execution, was_canceled = key, False
            side.causes.append(key or (last_reply if label in STATE_CHANGES else None))
            if key is None and label.startswith("process.") and label not in STATE_CHANGES:
                side.causes[-1] = execution
            side.running.append(execution)
            side.canceled.append(was_canceled)
            was_canceled = was_canceled or label == "process.canceled"
        return side


class _Judge:
    """Finds and labels the differences between the recording (`want`) and the live run (`got`)."""

    def __init__(self, recorded: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]], additive: bool):
        self.want, self.got, self.additive = _Side.of(recorded), _Side.of(live), additive
        self.want_replies = {key: f for f in self.want.frames if (key := _reply_key(f)) is not None}
        self.decided: dict[tuple[str, str], str | None] = {}  # request -> the correction its other answer got
        self.pids: dict[str, str] = {}  # got's pid placeholder -> the recording's (extra executions shift them)
        self.pids_back: dict[str, str] = {}
        self.found: list[_Finding] = []
        self.missing_rows: list[str] = []  # rows of known missing frames (they explain a replay that stopped)
        self.sent = sum(1 for event in live if event.get("dir") == "send")
        self.unasked: list[str] = []  # frames answering client frames the replay never sent (it stopped before)

    def add(self, subject: str, detail: str, correction: str | None) -> None:
        self.found.append(_Finding(subject, detail, _row(correction)))

    # -- what made a frame -----------------------------------------------------------------------------

    def request_correction(self, request: Json) -> str | None:
        """The correction covering whatever a request leads to, judged by the recording's reply to it."""
        if not isinstance(request, dict):
            return None
        params = request.get("params")
        if isinstance(params, dict) and ADDITIVE & params.keys():
            return "additions"  # the old handler ignores cwd and execution_id: the request does something else
        key = _id_key(request.get("id"))
        reply = self.want_replies.get(key)
        if reply is not None and _reason(reply) in REASON_CORRECTIONS:
            return REASON_CORRECTIONS[str(_reason(reply))]
        return self.decided.get(key)

    def cause_correction(self, side: _Side, index: int) -> str | None:
        """The correction covering a frame, by the request that caused it, else by the client frame before it."""
        cause = side.causes[index]
        request = side.requests.get(cause) if cause else None
        correction = self.request_correction(request)
        if correction is None and isinstance(request, dict) and request.get("method") == "execute":
            running = side.running[index]  # refused because of what ran then?
            correction = self.request_correction(side.requests.get(running)) if running and running != cause else None
        if correction is None:  # what the recording answered to the same client frame
            send = side.after_send[index]
            reasons = [_reason(f) for f, s in zip(self.want.frames, self.want.after_send, strict=True) if s == send]
            correction = next((REASON_CORRECTIONS[r] for r in reasons if r in REASON_CORRECTIONS), None)
        return correction

    # -- the comparison --------------------------------------------------------------------------------------

    def run(self) -> list[_Finding]:
        want_labels = [frame_label(f) for f in self.want.frames]
        got_labels = [frame_label(f) for f in self.got.frames]
        matcher = difflib.SequenceMatcher(None, want_labels, got_labels, autojunk=False)
        missing: list[int] = []
        extra: list[int] = []
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    self.pair(i, j)
            else:
                missing += range(i1, i2)
                extra += range(j1, j2)
        for i in list(missing):  # the same request answered differently (a result where an error was, ...)
            key = _reply_key(self.want.frames[i])
            match = next((j for j in extra if key is not None and _reply_key(self.got.frames[j]) == key), None)
            if match is not None:
                missing.remove(i)
                extra.remove(match)
                self.reply_kind(i, match)
        closing = self.closing_from(missing)
        for i in missing:
            self.missing_frame(i, closing)
        for j in extra:
            self.extra_frame(j)
        return self.found

    def closing_from(self, missing: list[int]) -> tuple[int, str] | None:
        """(index, correction) of the first missing error reply to a frame the old handler may close on,
        when everything the recording has from there on is missing: the connection ended there."""
        for i in sorted(missing):
            reason = _reason(self.want.frames[i])
            if reason in CLOSING_REASONS and set(range(i, len(self.want.frames))) <= set(missing):
                return i, REASON_CORRECTIONS[str(reason)]
        return None

    def missing_frame(self, i: int, closing: tuple[int, str] | None) -> None:
        label = frame_label(self.want.frames[i])
        if self.want.after_send[i] >= self.sent:
            self.unasked.append(label)
            return
        if self.want.canceled[i] and (label == "process.completed" or label.startswith(OUTPUT)):
            correction: str | None = "cancel_then_completed"
        elif closing is not None and i >= closing[0]:
            correction = closing[1]
        else:
            correction = self.cause_correction(self.want, i)
        if correction:
            self.missing_rows.append(CORRECTIONS[correction].readme_row)
        self.add(label, "not sent", correction)

    def extra_frame(self, j: int) -> None:
        frame, label = self.got.frames[j], frame_label(self.got.frames[j])
        previous = _reply_key(self.got.frames[j - 1]) if j > 0 else None
        request = self.got.requests.get(previous) if previous else None
        params = request.get("params") if isinstance(request, dict) else None
        control = params.get("type") if isinstance(params, dict) else None
        if (
            request
            and request.get("method") == "control"
            and (label, control)
            in (
                ("process.paused", "PAUSE"),
                ("process.resumed", "RESUME"),
            )
        ):
            correction: str | None = "repeated_control"
        elif isinstance(frame, dict) and ("result" in frame or "error" in frame) and "id" not in frame:
            correction = "notifications"  # the old handler answers a notification, with an id-less reply
        else:
            correction = self.cause_correction(self.got, j)
        error = frame.get("error") if isinstance(frame, dict) else None
        self.add(label, "sent, not in the recording" + (f": {short(error, 70)}" if error else ""), correction)

    # -- one frame of the recording against its counterpart --------------------------------------------------

    def reply_kind(self, i: int, j: int) -> None:
        """The same request answered with an error instead of a result, or the other way round."""
        want, got = self.want.frames[i], self.got.frames[j]
        key = _reply_key(want)
        assert key is not None  # reply_kind pairs replies, which have keys
        request = self.want.requests.get(key)
        method = request.get("method") if isinstance(request, dict) else None
        error = got.get("error") if isinstance(got.get("error"), dict) else {}
        if method in ADDITIVE_METHODS and error.get("code") == -32601:
            correction: str | None = "additions"  # status and sessions are new: the old handler does not know them
        else:
            correction = self.cause_correction(self.got, j)
        self.decided[key] = correction
        answer = f"an error {short(error, 70)}" if error else f"a result {short(got.get('result'), 70)}"
        self.add(frame_label(want), f"answered with {answer}", correction)

    def same_process(self, expected: Json, actual: Json) -> bool:
        """Pids match when they pair up one to one over the run (not by their placeholders' numbers)."""
        if not (isinstance(expected, str) and isinstance(actual, str) and actual.startswith("<pid")):
            return bool(expected == actual)
        return (
            self.pids.setdefault(actual, expected) == expected and self.pids_back.setdefault(expected, actual) == actual
        )

    def pair(self, i: int, j: int) -> None:
        want, got = self.want.frames[i], self.got.frames[j]
        for body in ("result", "params"):
            for key in PID_FIELDS & _keys(want.get(body)) & _keys(got.get(body)):
                self.same_process(want[body][key], got[body][key])  # learn the pairs, equal ones included
        for path, kind, expected, actual in _walk(want, got):
            if kind == "extra" and self.additive:
                continue
            if kind == "value" and path[-1] in PID_FIELDS and self.same_process(expected, actual):
                continue
            field = ".".join(path[1:] if path[:1] in (("params",), ("result",)) else path) or "(frame)"
            correction = self.field_correction(i, j, path, kind, expected, actual)
            self.add(frame_label(want), f"{field} {_describe(kind, expected, actual)}", correction)

    def field_correction(self, i: int, j: int, path: Path_, kind: str, expected: Json, actual: Json) -> str | None:
        want = self.want.frames[i]
        last = path[-1] if path else ""
        method = want.get("method")
        params = want.get("params") if isinstance(want.get("params"), dict) else {}
        reason = _reason(want)
        if kind == "missing" and last in ADDITIVE:
            return "additions"
        if kind == "items" and last == "capabilities":
            return "additions" if set(expected) <= ADDITIVE_CAPABILITIES and (self.additive or not actual) else None
        if path[-2:] == ("error", "data") and actual is None:
            return "execution_running_reason" if reason == "execution_running" else "error_data_object"
        if last == "pgid" and actual is None:
            return "pgid_always_set"
        if reason in REASON_CORRECTIONS and path in (("error", "code"), ("error", "message"), ("id",)):
            return REASON_CORRECTIONS[str(reason)]  # the old handler's answer to this case varied
        if last == "message" and kind == "value" and reason != "execution_running":
            return "message_wording"
        if last == "version" and kind == "value" and method == "connected":
            return "version"
        if method == OUTPUT and last == "truncated" and str(params.get("data", "")).endswith("...\n"):
            return "truncated_guess"
        if method == OUTPUT and last in ("truncated", "chunk_index", "total_chunks"):
            return "long_line"
        if method == OUTPUT and last == "data":  # e.g. `pwd` run where the old handler ignored cwd
            return self.cause_correction(self.want, i) or self.cause_correction(self.got, j)
        timed_out = method == "process.completed" and params.get("status") == "timed_out"
        if timed_out and last in ("status", "exit_code", "error"):
            return "timeout"
        return None


def _keys(value: Json) -> set[str]:
    return set(value) if isinstance(value, dict) else set()


def _walk(want: Json, got: Json, path: Path_ = ()) -> Iterator[tuple[Path_, str, Json, Json]]:
    """(path, kind, expected, got) for each place two normalised frames differ; kind is missing, extra, type,
    value, or items (capabilities: the expected items that are missing, and the extra ones)."""
    if json_type(want) != json_type(got):
        yield path, "type", want, got
    elif isinstance(want, dict):
        for key in sorted(want.keys() - got.keys()):
            yield (*path, key), "missing", want[key], None
        for key in sorted(got.keys() - want.keys()):
            yield (*path, key), "extra", None, got[key]
        for key in sorted(want.keys() & got.keys()):
            yield from _walk(want[key], got[key], (*path, key))
    elif isinstance(want, list) and path[-1:] == ("capabilities",):
        lost, added = [item for item in want if item not in got], [item for item in got if item not in want]
        if lost or added:
            yield path, "items", lost, added
    elif want != got:
        yield path, "value", want, got


def _describe(kind: str, expected: Json, actual: Json) -> str:
    if kind == "missing":
        return f"missing (expected {short(expected)})"
    if kind == "extra":
        return f"not in the recording: {short(actual)}"
    if kind == "items":
        return f"lacks {short(expected)}" + (f", has {short(actual)} besides" if actual else "")
    return f"expected {short(expected)}, got {short(actual)}"


def _grouped(findings: list[_Finding]) -> list[Difference]:
    """One line per distinct difference, naming every frame it occurs in (e.g. execution_id in all of them)."""
    groups: dict[tuple[str, str | None], dict[str, int]] = {}
    for finding in findings:
        subjects = groups.setdefault((finding.detail, finding.row), {})
        subjects[finding.subject] = subjects.get(finding.subject, 0) + 1
    differences = []
    for (detail, row), subjects in groups.items():
        where = ", ".join(f"{s} ×{n}" if n > 1 else s for s, n in subjects.items() if s)
        differences.append(Difference(f"{where}: {detail}" if where else detail, row))
    return differences


def _row(correction: str | None) -> str | None:
    return CORRECTIONS[correction].readme_row if correction else None


def label_problems(
    recorded: Sequence[Mapping[str, Any]],
    live: Sequence[Mapping[str, Any]],
    problems: Sequence[str],
    *,
    additive: bool = True,
) -> list[Difference]:
    """The problems `replay_against` found, as labelled differences (unexpected ones first).

    The frame comparison is redone structurally here (so each difference can be judged);
    the replay's own problems (a step that could not complete, ...) are known only when
    the frame differences explain them: the replay waited for, or lost with the connection,
    frames that known differences say the old handler does not send.
    """
    if not problems:
        return []
    got_frames = received(live)
    compared = set(compare_frames(received(recorded), got_frames, additive=additive))
    framing = output_problems(got_frames)
    judge = _Judge(recorded, live, additive)
    found = judge.run()
    if compared and not found:  # never hide a difference the plain comparison saw
        found = [_Finding("", problem, None) for problem in sorted(compared)]
    old_pieces = any(
        isinstance(f, dict) and f.get("method") == OUTPUT and (f.get("params") or {}).get("truncated") is True
        for f in got_frames
    )
    for problem in framing:
        chunks = "chunk" in problem or "split" in problem
        found.append(_Finding("", problem, _row("long_line") if chunks and old_pieces else None))
    explained = bool(judge.missing_rows) and all(finding.row for finding in found)
    for problem in problems:
        if problem in compared or problem in framing:
            continue
        if problem.startswith("subprotocol:") and agreed_subprotocol(live) is None:
            found.append(_Finding("", problem, _row("additions")))  # a 1.0 handler does not know cc-executor.v2
            continue
        stopped = problem.startswith("replay stopped") and ("waited" in problem or "closed" in problem)
        rows = "; ".join(dict.fromkeys(judge.missing_rows)) if stopped and explained else None
        found.append(_Finding("", problem.replace("\n", " "), rows))
        if stopped:  # what the client never got to ask for
            found += [_Finding(label, "not asked for (the replay stopped before)", rows) for label in judge.unasked]
    differences = _grouped(found)
    return [d for d in differences if not d.known] + [d for d in differences if d.known]
