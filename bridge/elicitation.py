"""Asking the MCP host's user about a task's permission requests (elicitation), where the host can be asked.

Two ways, by the protocol the host speaks:

* handshake-era MCP (up to 2025-11-25): an `elicitation/create` request, sent within the tool
  call that waits on the task; the call goes on waiting meanwhile.
* MCP 2026-07-28: no request can be sent to the client; the waiting tool call ends with an
  `input_required` result carrying the question, and the host calls the tool again with the
  answer and the `request_state` given: the answer is applied, and the call carries on (a
  retried execute_task follows the task it started, it does not start another).

accept answers the request (decision, remember, message); decline denies it; cancel (a host
with nobody to ask: Claude Code in print mode answers so), or an elicitation that fails,
leaves it waiting for respond_permission: the tool call then returns with the request in
permission_requests. A request is put to the host once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp.server import ServerRequestContext
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .client_view import ClientView
from .execution_state import TrackedExecution
from .permissions import PermissionRequest

log = logging.getLogger("cc_executor.bridge")

#: What the host's user fills in: the decision, and optionally remember and a message for Claude.
FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "decision": {
            "type": "string",
            "title": "Decision",
            "enum": ["allow", "deny"],
            "description": "allow: the tool call runs; deny: it does not, and Claude is told so.",
        },
        "remember": {
            "type": "boolean",
            "title": "Remember",
            "description": "Give the same answer to this tool's later requests in this task, without asking.",
            "default": False,
        },
        "message": {
            "type": "string",
            "title": "Message to Claude",
            "description": "With a denial: what Claude should do instead.",
            "maxLength": 2000,
        },
    },
    "required": ["decision"],
}
_STATE_KEY = secrets.token_bytes(32)  # request_state is signed: a host can only hand back what it was given


def question(execution: TrackedExecution, request: PermissionRequest) -> str:
    return (
        f"cc-executor task {execution.id} ({execution.request.task[:80]}): Claude asks to use {request.words()}. "
        "Allow it?"
    )


class AskHost(Exception):
    """Ends a tool call (MCP 2026-07-28) with an input_required result that asks the host about requests."""

    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("the host is asked about permission requests")
        self.result = result


@dataclass
class Resumed:
    """What a retried tool call (MCP 2026-07-28) hands back: the answers were applied; `execution_id` is the task
    an execute_task started (it follows that task instead of starting another)."""

    execution_id: str | None


@dataclass
class Elicitation:
    """Asks the host's user, for one tool call (attention.HostQuestions)."""

    ctx: ServerRequestContext
    modern: bool
    resume_execution: str | None = None  # execute_task: the task a retry must follow
    _asking: dict[asyncio.Task[None], tuple[TrackedExecution, PermissionRequest]] = field(default_factory=dict)

    @classmethod
    def of(cls, ctx: ServerRequestContext) -> Elicitation | None:
        """The call's way to ask the host, None when the host cannot be asked (no form elicitation)."""
        capabilities = ctx.session.client_capabilities
        elicitation = capabilities.elicitation if capabilities is not None else None
        if elicitation is None or (elicitation.form is None and elicitation.url is not None):
            return None
        modern = ctx.session.protocol_version in MODERN_PROTOCOL_VERSIONS
        if not modern and not ctx.session.can_send_request:
            return None
        return cls(ctx, modern)

    def ask(self, execution: TrackedExecution, requests: list[PermissionRequest]) -> None:
        for request in requests:
            request.host_asked = True
        if self.modern:
            raise AskHost(self._input_required(execution, requests))
        desk = execution.permissions
        assert desk is not None
        for request in requests:
            request.host_asking = True
            task = asyncio.create_task(self._elicit(execution, request), name=f"elicit {request.request_id}")
            self._asking[task] = (execution, request)
            task.add_done_callback(lambda done: self._asking.pop(done, None))

    async def close(self) -> None:
        """The tool call ends: elicitations still open are dropped (their requests wait for respond_permission)."""
        for task, (execution, request) in list(self._asking.items()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if execution.permissions is not None:
                execution.permissions.host_done(request)

    async def _elicit(self, execution: TrackedExecution, request: PermissionRequest) -> None:
        desk = execution.permissions
        assert desk is not None
        try:
            result = await self.ctx.session.elicit_form(question(execution, request), FORM, self.ctx.request_id)
        except Exception as exc:  # the host failed to ask: the request waits for respond_permission
            log.info("elicitation failed", extra={"event": {"execution_id": execution.id, "error": str(exc)}})
        else:
            apply(execution, request.request_id, result)
        finally:
            desk.host_done(request)

    def _input_required(
        self, execution: TrackedExecution, requests: list[PermissionRequest]
    ) -> types.InputRequiredResult:
        keys = {f"permission-{execution.id}-{request.request_id}": request for request in requests}
        state = {
            "resume": self.resume_execution,
            "answers": {key: [execution.id, request.request_id] for key, request in keys.items()},
        }
        asks: dict[str, types.InputRequest] = {
            key: types.ElicitRequest(
                params=types.ElicitRequestFormParams(message=question(execution, request), requested_schema=FORM)
            )
            for key, request in keys.items()
        }
        return types.InputRequiredResult(input_requests=asks, request_state=_sign(state))


def apply(execution: TrackedExecution, request_id: str, result: types.ElicitResult) -> None:
    """The host's answer: accept answers as filled in, decline denies, cancel leaves the request waiting."""
    desk = execution.permissions
    if desk is None or result.action == "cancel":
        return
    content = result.content or {}
    decision = content.get("decision") if result.action == "accept" else "deny"
    if decision not in ("allow", "deny"):
        return  # a form answered without a decision: nobody decided
    message = content.get("message")
    desk.answer(
        request_id,
        "allow" if decision == "allow" else "deny",
        "elicitation",
        message if isinstance(message, str) and message else None,
        remember=content.get("remember") is True,
    )


def resume(manager: ClientView, params: types.CallToolRequestParams) -> Resumed | None:
    """Apply the host's answers of a retried call (to the executions this client may see); None when the call is
    not a retry. ValueError for a request_state this bridge did not give."""
    if params.request_state is None:
        return None
    state = _verified(params.request_state)
    for key, response in (params.input_responses or {}).items():
        target = state["answers"].get(key)
        execution = manager.executions.get(target[0]) if isinstance(target, list) and len(target) == 2 else None
        if execution is not None and isinstance(response, types.ElicitResult):
            apply(execution, str(target[1]), response)
    resumed = state.get("resume")
    return Resumed(resumed if isinstance(resumed, str) else None)


def _sign(state: dict[str, Any]) -> str:
    payload = json.dumps(state, separators=(",", ":"))
    return payload + "." + hmac.new(_STATE_KEY, payload.encode(), hashlib.sha256).hexdigest()


def _verified(signed: str) -> dict[str, Any]:
    payload, _, signature = signed.rpartition(".")
    expected = hmac.new(_STATE_KEY, payload.encode(), hashlib.sha256).hexdigest()
    if not payload or not hmac.compare_digest(signature, expected):
        raise ValueError("request_state was not given by this bridge (or the bridge restarted since)")
    state = json.loads(payload)
    if not isinstance(state, dict) or not isinstance(state.get("answers"), dict):
        raise ValueError("request_state is not one this bridge gives")
    return state
