"""The permission requests of one task (permission_prompts 'orchestrator'): who answers them, and the record.

Each question of the task's Claude (relayed from its permission prompt tool) is answered by
the first of: a deny rule, an allow rule, an earlier answer given with `remember`, and
otherwise whoever started the task: the request waits (it shows in status polls and
progress) until respond_permission or an elicitation answers it, or its timeout denies it.
Every request and its answer goes into the log that the result carries, and into the
transcript.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cc_executor.generated.common.permissions import PermissionDecision
from cc_executor.generated.mcp.common import PendingPermission, PermissionLogEntry, TaskFields
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams

from .claude_stream import summarize_tool_input
from .permission_rules import Call, Rule, first_allow, first_deny, parse_rules

Behavior = Literal["allow", "deny"]
AnsweredBy = Literal["rule", "remembered", "orchestrator", "elicitation", "timeout", "task_ended"]
DEFAULT_TIMEOUT_S = 300
#: Log entries a result lists (the latest; the transcript has them all).
LISTED_LOG = 50
#: Waiting requests a status lists.
LISTED_WAITING = 10
ENDED = "Denied: the task ended while this request waited for an answer."


def asking_tasks(specs: Sequence[TaskFields]) -> list[int]:
    """The 1-based numbers of the tasks whose Claude would wait for an answer (permission_prompts 'orchestrator'):
    a run of a whole list answers nothing while it runs, so it refuses them."""
    return [number for number, spec in enumerate(specs, 1) if spec.permission_prompts == "orchestrator"]


def list_cannot_ask(numbers: list[int], instead: str) -> str:
    """Why a list with such tasks is refused, and what to do instead."""
    which = ", ".join(str(number) for number in numbers)
    return (
        f"task {which} of the list {'has' if len(numbers) == 1 else 'have'} permission_prompts 'orchestrator', and "
        f"nobody can answer while a whole list runs: {instead}"
    )


@dataclass(frozen=True)
class PermissionPolicy:
    """What a task says about its permission requests."""

    allow: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    pause_timeout_while_asking: bool = False

    @classmethod
    def of(cls, spec: TaskFields) -> PermissionPolicy | None:
        """The task's policy, None when its permission prompts are not relayed; ValueError for options that need
        permission_prompts 'orchestrator' without it, and for rules that cannot be read."""
        if spec.permission_prompts != "orchestrator":
            given = [
                name
                for name in ("allow_rules", "deny_rules", "permission_timeout_s", "pause_timeout_while_asking")
                if getattr(spec, name) is not None
            ]
            if given:
                raise ValueError(f"{', '.join(given)} need permission_prompts 'orchestrator'")
            return None
        return cls(
            allow=parse_rules([rule.root for rule in spec.allow_rules or ()]),
            deny=parse_rules([rule.root for rule in spec.deny_rules or ()]),
            timeout_s=spec.permission_timeout_s or DEFAULT_TIMEOUT_S,
            pause_timeout_while_asking=bool(spec.pause_timeout_while_asking),
        )


@dataclass(frozen=True)
class Decision:
    behavior: Behavior
    answered_by: AnsweredBy
    message: str | None = None
    rule: str | None = None


@dataclass
class PermissionRequest:
    """A question that waits for someone to answer it."""

    request_id: str
    tool: str
    input: dict[str, Any]
    summary: str
    asked_at: float
    timeout_s: float
    answer: asyncio.Future[Decision]
    host_asked: bool = False  # an elicitation asked the MCP host about it (answered or not)
    host_asking: bool = False  # that elicitation waits for its answer now

    def waited_s(self) -> float:
        return time.monotonic() - self.asked_at

    def view(self) -> PendingPermission:
        return PendingPermission(
            request_id=self.request_id,
            tool=self.tool,
            input=self.summary or None,
            waited_s=round(self.waited_s(), 1),
            timeout_s=round(max(0.0, self.timeout_s - self.waited_s()), 1),
        )

    def words(self) -> str:
        return f"{self.tool} {self.summary}".strip()


@dataclass(frozen=True)
class Answered:
    """What respond_permission (or an elicitation) achieved."""

    answered: bool
    message: str
    request: PermissionRequest | None = None


class PermissionDesk:
    """The permission requests of one execution; `note` puts a line in its transcript and progress."""

    def __init__(self, policy: PermissionPolicy, cwd: str, note: Callable[[str], None]) -> None:
        self.policy = policy
        self.cwd = cwd
        self.note = note
        self.waiting: dict[str, PermissionRequest] = {}
        self.log: list[PermissionLogEntry] = []
        self.remembered: dict[str, Behavior] = {}
        self.closed = False
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()

    async def ask(self, tool: str, tool_input: dict[str, Any]) -> Decision:
        """The answer to one question of Claude: at once by rule or memory, else when someone answers."""
        request_id = f"p{next(self._ids)}"
        summary = summarize_tool_input(tool_input)
        asked_at = time.monotonic()
        decision = self._without_asking(Call(tool, tool_input, self.cwd))
        if decision is not None:
            self._record(request_id, tool, summary, decision, asked_at)
            return decision
        request = PermissionRequest(
            request_id,
            tool,
            tool_input,
            summary,
            asked_at,
            self.policy.timeout_s,
            asyncio.get_running_loop().create_future(),
        )
        self.waiting[request_id] = request
        self.note(
            f"permission {request_id}: Claude asks to use {request.words()}; waiting for an answer "
            f"(respond_permission with request_id '{request_id}')"
        )
        self._touch()
        if self.closed:
            self._settle(request, Decision("deny", "task_ended", ENDED))
        try:
            return await asyncio.wait_for(asyncio.shield(request.answer), self.policy.timeout_s)
        except TimeoutError:
            message = f"Denied: nobody answered within {self.policy.timeout_s:g} s."
            self._settle(request, Decision("deny", "timeout", message))
            return request.answer.result()
        finally:  # a question withdrawn (its relay or execution went away) is recorded as ended
            self._settle(request, Decision("deny", "task_ended", ENDED))

    def answer(
        self,
        request_id: str,
        behavior: Behavior,
        by: AnsweredBy,
        message: str | None = None,
        remember: bool = False,
    ) -> Answered:
        """Answer a waiting request (and, with remember, the other waiting and every later one of its tool)."""
        request = self.waiting.get(request_id)
        if request is None:
            known = any(entry.request_id == request_id for entry in self.log)
            why = "it was answered already" if known else "no request of this task has that id"
            return Answered(False, f"Nothing changed: {why}.")
        if behavior == "deny":
            message = message or ("Denied by the user." if by == "elicitation" else "Denied by the orchestrator.")
        self._settle(request, Decision(behavior, by, message))
        said = f"{'Allowed' if behavior == 'allow' else 'Denied'} {request.words()}"
        if remember:
            self.remembered[request.tool] = behavior
            for other in [other for other in self.waiting.values() if other.tool == request.tool]:
                self._settle(other, Decision(behavior, "remembered", message))
            said += f"; later {request.tool} requests of this task are {behavior}ed without asking"
        return Answered(True, said + ".", request)

    def close(self) -> None:
        """The task ended: what still waits is denied (and recorded as such)."""
        self.closed = True
        for request in list(self.waiting.values()):
            self._settle(request, Decision("deny", "task_ended", ENDED))

    def host_done(self, request: PermissionRequest) -> None:
        """The MCP host was asked about `request` and has answered (or could not): waiters look again."""
        request.host_asking = False
        self._touch()

    async def relay(self, question: AskPermissionParams) -> PermissionDecision:
        """The relay channel's asker (handler/relay_channel.py): a question relayed from Claude Code, answered."""
        decision = await self.ask(question.tool_name, question.input.model_dump(mode="json"))
        return PermissionDecision(behavior=decision.behavior, message=decision.message)

    # -- for status and the tools that wait ---------------------------------------------------

    def pending(self) -> list[PendingPermission]:
        return [request.view() for request in list(self.waiting.values())[:LISTED_WAITING]]

    def needs_orchestrator(self) -> bool:
        """Whether a request waits that nobody is asking the MCP host about now: someone has to answer it."""
        return any(not request.host_asking for request in self.waiting.values())

    def unasked(self) -> list[PermissionRequest]:
        """Waiting requests the MCP host was not asked about yet."""
        return [request for request in self.waiting.values() if not request.host_asked]

    def listed_log(self) -> list[PermissionLogEntry] | None:
        return self.log[-LISTED_LOG:] or None

    def next_change(self) -> asyncio.Event:
        """Set once a request arrives or is answered (take it before looking, so no change is missed)."""
        return self._changed

    # -- inside --------------------------------------------------------------------------------

    def _without_asking(self, call: Call) -> Decision | None:
        denied = first_deny(self.policy.deny, call)
        if denied is not None:
            return Decision("deny", "rule", f"Denied by the rule {denied.text} (deny_rules of this task).", denied.text)
        allowed = first_allow(self.policy.allow, call)
        if allowed is not None:
            return Decision("allow", "rule", rule=allowed.text)
        if call.tool in self.remembered:
            behavior = self.remembered[call.tool]
            message = None if behavior == "allow" else f"Denied: every {call.tool} request of this task is denied."
            return Decision(behavior, "remembered", message)
        return None

    def _settle(self, request: PermissionRequest, decision: Decision) -> None:
        """Answer a waiting request, once: Claude gets `decision`, the log records it."""
        if request.answer.done():
            return
        request.answer.set_result(decision)
        self.waiting.pop(request.request_id, None)
        self._record(request.request_id, request.tool, request.summary, decision, request.asked_at)
        self._touch()

    def _record(self, request_id: str, tool: str, summary: str, decision: Decision, asked_at: float) -> None:
        waited = round(time.monotonic() - asked_at, 1)
        self.log.append(
            PermissionLogEntry(
                request_id=request_id,
                tool=tool,
                input=summary or None,
                decision=decision.behavior,
                answered_by=decision.answered_by,
                rule=decision.rule,
                message=decision.message if decision.behavior == "deny" else None,
                waited_s=waited,
            )
        )
        by = {
            "rule": f"by the rule {decision.rule}",
            "remembered": "as answered before (remember)",
            "orchestrator": "by the orchestrator",
            "elicitation": "by the MCP host's user",
            "timeout": "for want of an answer",
            "task_ended": "as the task ended",
        }[decision.answered_by]
        verdict = "allowed" if decision.behavior == "allow" else "denied"
        self.note(f"permission {request_id}: {f'{tool} {summary}'.strip()} {verdict} {by} after {waited:g} s")

    def _touch(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
