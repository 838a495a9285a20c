"""Validate frames against spec/ itself (not the generated models), so a model bug cannot hide a spec breach.

Every schema file under spec/ is registered in one `referencing` Registry under its
file URI, so the files' relative `$ref`s resolve exactly as they are written. A server frame is checked by what it is: a notification by the schema
of its method, an error by ErrorResponse, a result by the result schema of the
request method that used the same id.

Objects the handler sends are open in spec/ (readers ignore fields they do not know).
`closed=True` checks this handler's own frames as if they were closed: every field it
sends must be one spec/ declares.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cc_executor.spec_files import SPEC_DIR

ERROR_RESPONSE = "common/jsonrpc.json#/$defs/ErrorResponse"
SUCCESS_RESPONSE = "common/jsonrpc.json#/$defs/SuccessResponse"


def _uri(relative: str, spec_dir: Path = SPEC_DIR) -> str:
    return f"{spec_dir.as_uri()}/{relative}"


def _closed(node: Any) -> Any:
    """A schema with every `additionalProperties: true` made false (what this handler itself may send)."""
    if isinstance(node, dict):
        return {
            key: (False if key == "additionalProperties" and value is True else _closed(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


@cache
def spec_registry(spec_dir: Path = SPEC_DIR, closed: bool = False) -> Registry:
    """All of spec/ (JSON schemas, and the OpenAPI document for its component schemas) in one registry."""
    resources: list[tuple[str, Resource]] = []
    for path in sorted(spec_dir.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if closed:
            contents = _closed(contents)
        resources.append((_uri(path.relative_to(spec_dir).as_posix(), spec_dir), DRAFT202012.create_resource(contents)))
    for path in sorted(spec_dir.rglob("*.yaml")):
        contents = yaml.safe_load(path.read_text(encoding="utf-8"))
        # OpenAPI 3.1 schema objects are JSON Schema 2020-12.
        resources.append((_uri(path.relative_to(spec_dir).as_posix(), spec_dir), DRAFT202012.create_resource(contents)))
    return Registry().with_resources(resources).crawl()


@cache
def validator(ref: str, spec_dir: Path = SPEC_DIR, closed: bool = False) -> Draft202012Validator:
    """A validator for `ref` ("ws/requests/execute.json#/$defs/ExecuteResult"), resolved inside spec/."""
    return Draft202012Validator({"$ref": _uri(ref, spec_dir)}, registry=spec_registry(spec_dir, closed))


def schema_errors(instance: Any, ref: str, *, closed: bool = False) -> list[str]:
    """Readable violations of `ref` by `instance`; empty when it conforms."""
    found = sorted(validator(ref, closed=closed).iter_errors(instance), key=lambda error: list(error.absolute_path))
    return [f"{ref} at /{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}" for error in found]


def notification_ref(method: str) -> str | None:
    """`process.output` -> ws/notifications/process_output.json; None if spec/ has no such notification."""
    path = SPEC_DIR / "ws" / "notifications" / f"{method.replace('.', '_')}.json"
    return f"ws/notifications/{path.name}" if path.is_file() else None


@cache
def result_ref(method: str) -> str | None:
    """The `$defs` entry of ws/requests/<method>.json whose name ends in Result, if there is one."""
    path = SPEC_DIR / "ws" / "requests" / f"{method}.json"
    if not path.is_file():
        return None
    names = [name for name in json.loads(path.read_text(encoding="utf-8")).get("$defs", {}) if name.endswith("Result")]
    return f"ws/requests/{path.name}#/$defs/{names[0]}" if len(names) == 1 else None


def request_ref(method: str) -> str | None:
    """ws/requests/<method>.json, the schema of a whole client request frame; None for an unknown method."""
    path = SPEC_DIR / "ws" / "requests" / f"{method}.json"
    return f"ws/requests/{path.name}" if path.is_file() else None


def request_errors(frame: Any) -> list[str]:
    """Violations of spec/ by a client frame meant to be a valid request."""
    method = frame.get("method") if isinstance(frame, Mapping) else None
    ref = request_ref(method) if isinstance(method, str) else None
    if ref is None:
        return [f"not a request of a method in spec/ws/requests: {json.dumps(frame)[:200]}"]
    return schema_errors(frame, ref)


def _id_key(request_id: Any) -> str:
    return json.dumps(request_id)


@dataclass
class FrameChecker:
    """Follows one connection in order: remembers request methods by id, checks each server frame."""

    methods_by_id: dict[str, str] = field(default_factory=dict)
    closed: bool = False  # this handler's own frames: no field spec/ does not declare

    def sent(self, frame: Any) -> None:
        """Note a client frame; only requests with an id get replies worth checking."""
        if isinstance(frame, Mapping) and isinstance(frame.get("method"), str) and "id" in frame:
            self.methods_by_id[_id_key(frame["id"])] = frame["method"]

    def received(self, frame: Any) -> list[str]:
        """Violations of spec/ by one server frame."""
        if not isinstance(frame, Mapping):
            return [f"server frame is not a JSON object: {str(frame)[:200]}"]
        if "method" in frame:
            ref = notification_ref(str(frame["method"]))
            if ref is None:
                return [f"notification {frame['method']!r} is not in spec/ws/notifications"]
            return schema_errors(frame, ref, closed=self.closed)
        if "error" in frame:
            return schema_errors(frame, ERROR_RESPONSE, closed=self.closed)
        if "result" in frame:
            problems = schema_errors(frame, SUCCESS_RESPONSE, closed=self.closed)
            method = self.methods_by_id.get(_id_key(frame.get("id")))
            if method is None:
                return [*problems, f"result for id {frame.get('id')!r}, which no request with a method used"]
            ref = result_ref(method)
            if ref is None:
                return [*problems, f"result for method {method!r}, which has no Result schema in spec/ws/requests"]
            return problems + schema_errors(frame["result"], ref, closed=self.closed)
        return [f"server frame is neither a notification nor a response: {json.dumps(frame)[:200]}"]


def transcript_errors(events: Iterable[Mapping[str, Any]], *, closed: bool = False) -> list[str]:
    """Check every `recv` frame of a transcript (`{"dir", "t", "frame"}` lines) against spec/ (closed: strictly)."""
    checker = FrameChecker(closed=closed)
    problems: list[str] = []
    for number, event in enumerate(events, 1):
        if event.get("dir") == "send" and "frame" in event:
            checker.sent(event["frame"])
        elif event.get("dir") == "recv":
            problems += [f"line {number}: {problem}" for problem in checker.received(event.get("frame"))]
    return problems
