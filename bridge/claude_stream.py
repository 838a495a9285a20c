"""Incremental, sans-I/O parser of ``claude -p --output-format stream-json --verbose``.

Output of a running claude arrives in arbitrary chunks (a line, half a line, many
lines); ``ClaudeStreamParser.feed`` turns each chunk into small progress events and
``finish`` sums the run up as a ``ClaudeOutcome``. No I/O here, so the same parser
serves the handler, the bridge's local backend and the tests.

What the real CLI (2.1.x) does that this parser relies on:

* one JSON object per line, ended by ``\\n``; strings may hold raw U+2028, U+0085 and
  friends (JSON.stringify leaves them raw), so lines are split on ``\\n`` only, never
  with ``str.splitlines``;
* message types ``system`` (subtype ``init`` first, then others such as ``status``,
  ``api_retry`` when an API request failed and is retried, ``permission_denied`` when a
  tool call needed approval nobody could give), ``assistant``, ``user`` (tool results),
  ``hook_started`` / ``hook_response`` around each of Claude Code's own hooks, with
  ``--include-hook-events``), ``assistant``, ``user`` (tool results),
  ``stream_event`` and a final ``result`` (with the run's ``permission_denials``, and
  ``structured_output`` when ``--json-schema`` was given); unknown
  types and subtypes are skipped, for newer CLIs add new ones;
* one API response may come as several ``assistant`` lines sharing ``message.id``
  (one per content block), so a turn is a new top-level ``message.id``;
* ``result`` may say ``subtype: success`` with ``is_error: true`` (API failures, not
  logged in: the reason is then in the preceding ``assistant`` line's ``error``);
  error subtypes carry ``errors`` instead of ``result``.

Memory stays bounded whatever the stream's size: lines are parsed and dropped, a line
longer than ``max_line_chars`` is skipped (counted as malformed) without being kept,
and every kept text is capped (the final answer at ``max_result_chars``, by default as
long as a line may be, so an answer is whole or its line was dropped, never cut).
"""

from __future__ import annotations

import codecs
import json
import signal
from dataclasses import dataclass, field, replace
from typing import Any, Final

DEFAULT_MAX_LINE_CHARS: Final = 16 * 1024 * 1024
DEFAULT_MAX_TEXT_CHARS: Final = 1024 * 1024
EVENT_TEXT_CHARS: Final = 2000
PREVIEW_CHARS: Final = 200
SUMMARY_CHARS: Final = 120
MALFORMED_SAMPLES: Final = 5
MAX_ERRORS: Final = 20
MAX_DENIALS: Final = 1000
REMEMBERED_TOOL_CALLS: Final = 64
#: The argument that says what a tool call does, for the tools that have one, in order of preference.
MAIN_ARGUMENTS: Final = (
    "command",
    "file_path",
    "notebook_path",
    "pattern",
    "url",
    "query",
    "path",
    "description",
    "prompt",
)

INTERRUPT_MARKER: Final = "[Request interrupted by user"

#: What the ``error`` field of a synthetic assistant message means, in words.
API_ERRORS: Final[dict[str, str]] = {
    "authentication_failed": (
        "Claude Code is not logged in or its credentials were rejected "
        "(authentication_failed); log in with `claude /login` or set ANTHROPIC_API_KEY "
        "for the user the executor runs as"
    ),
    "billing_error": "The Claude API refused the request for billing reasons (billing_error)",
    "rate_limit": "The Claude API rate limit was reached (rate_limit)",
    "invalid_request": "The Claude API rejected the request as invalid (invalid_request)",
    "server_error": "The Claude API could not be reached or failed (server_error)",
}


@dataclass(frozen=True, slots=True)
class InitEvent:
    """The session started: which session, model and how many tools it has."""

    session_id: str | None
    model: str | None
    tools_count: int
    mcp_servers: tuple[tuple[str, str], ...] = ()  # (name, status), e.g. ("bridge", "failed")
    permission_mode: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class TurnEvent:
    """A new model turn (API response) began; ``num_turns`` counts them so far."""

    num_turns: int


@dataclass(frozen=True, slots=True)
class AssistantTextEvent:
    """Text the model wrote (capped at EVENT_TEXT_CHARS for progress display)."""

    text: str
    truncated: bool = False
    subagent: bool = False


@dataclass(frozen=True, slots=True)
class ToolUseEvent:
    """The model called a tool; ``input_summary`` is its main argument, shortened."""

    tool_name: str
    tool_use_id: str | None = None
    subagent: bool = False
    input_summary: str = ""


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """A tool call finished; ``preview`` is the start of its output, ``chars`` the length of all its text."""

    tool_use_id: str | None
    is_error: bool = False
    preview: str = ""
    chars: int = 0


@dataclass(frozen=True, slots=True)
class ApiRetryEvent:
    """An API request failed and the CLI will retry it (it retries up to ``max_retries`` times by itself)."""

    attempt: int
    max_retries: int | None
    error_status: int | None  # the HTTP status, None when the request got no answer
    error: str | None  # the CLI's word for it: overloaded, rate_limit, server_error, unknown, ...
    retry_delay_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Denial:
    """A tool call the CLI denied because it needed an approval nobody could give."""

    tool_name: str
    input_summary: str = ""


@dataclass(frozen=True, slots=True)
class PermissionDeniedEvent:
    """A tool call was denied for want of permission; ``message`` is the CLI's explanation."""

    denial: Denial
    tool_use_id: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class HookEvent:
    """One of Claude Code's own hooks (its settings) ran: ``hook_response``; ``outcome`` success, error, ..."""

    name: str  # e.g. "PostToolUse:Write", "Stop"
    outcome: str | None
    exit_code: int | None
    output: str = ""  # the start of what it printed


@dataclass(frozen=True, slots=True)
class UnparsedLineEvent:
    """A line that is not stream-json (text a plugin printed, a cut line): its start, for people to read."""

    preview: str


@dataclass(frozen=True, slots=True)
class ResultEvent:
    """The final ``result`` message arrived."""

    subtype: str | None
    is_error: bool
    num_turns: int
    duration_ms: int | None = None
    total_cost_usd: float | None = None


ClaudeEvent = (
    InitEvent
    | TurnEvent
    | AssistantTextEvent
    | ToolUseEvent
    | ToolResultEvent
    | ApiRetryEvent
    | PermissionDeniedEvent
    | HookEvent
    | UnparsedLineEvent
    | ResultEvent
)


@dataclass(frozen=True, slots=True)
class ClaudeOutcome:
    """How one claude run ended. ``ok`` means a result arrived and it is not an error;
    otherwise ``error_message`` says in words what went wrong (None exactly when ok).

    ``is_error`` is the result's ``is_error`` or an ``error_*`` subtype, and True when no
    result came. ``result`` is absent from error subtypes: their text is in ``errors``.
    ``num_turns`` is the result's count, or the turns seen when there was none.
    ``permission_denials`` are the result's, or those seen when there was none;
    ``api_retries`` counts the API requests the CLI retried, ``last_api_retry`` is the latest.
    """

    result: str | None
    is_error: bool
    subtype: str | None
    session_id: str | None
    num_turns: int
    duration_ms: int | None
    total_cost_usd: float | None
    usage: dict[str, Any]
    saw_result: bool
    malformed_lines: int
    error_message: str | None
    model: str | None = None
    tool_calls: int = 0
    last_assistant_text: str | None = None
    errors: tuple[str, ...] = ()
    terminal_reason: str | None = None
    assistant_error: str | None = None
    interrupted: bool = False
    result_truncated: bool = False
    messages: int = 0
    malformed_samples: tuple[str, ...] = field(default=())
    returncode: int | None = None  # as given to finish()
    permission_denials: tuple[Denial, ...] = ()
    api_retries: int = 0
    last_api_retry: ApiRetryEvent | None = None
    #: the result's structured_output (--json-schema); has_structured_output tells a JSON null from none
    structured_output: Any = None
    has_structured_output: bool = False

    @property
    def ok(self) -> bool:
        return self.saw_result and not self.is_error


class ClaudeStreamParser:
    """Feed it stream-json text as it arrives; never raises on bad input."""

    def __init__(
        self,
        *,
        max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        max_result_chars: int | None = None,
    ) -> None:
        self._max_line = max_line_chars
        self._max_text = max_text_chars
        self._max_result = max_line_chars if max_result_chars is None else max_result_chars
        # partial line
        self._pending: list[str] = []
        self._pending_len = 0
        self._overflow = False  # the current line is over max_line_chars: dropping it
        self._overflow_head = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._closed = False
        # run state
        self._messages = 0
        self._malformed = 0
        self._samples: list[str] = []
        self._cut_short = False  # output ended in the middle of a line that did not parse
        self._session_id: str | None = None
        self._model: str | None = None
        self._turns = 0
        self._last_message_id: object = None
        self._tool_calls = 0
        self._last_text: str | None = None
        self._assistant_error: str | None = None
        self._interrupted = False
        self._result: dict[str, Any] | None = None
        self._api_retries = 0
        self._last_api_retry: ApiRetryEvent | None = None
        self._denials: list[Denial] = []
        self._tool_inputs: dict[str, str] = {}  # tool_use_id -> input summary, of the latest calls

    # ---- live state, for progress -------------------------------------------------
    @property
    def num_turns(self) -> int:
        return self._turns

    @property
    def tool_calls(self) -> int:
        return self._tool_calls

    @property
    def last_assistant_text(self) -> str | None:
        return self._last_text

    @property
    def session_id(self) -> str | None:
        return self._session_id

    @property
    def malformed_lines(self) -> int:
        return self._malformed

    @property
    def saw_result(self) -> bool:
        return self._result is not None

    @property
    def api_retries(self) -> int:
        return self._api_retries

    @property
    def last_api_retry(self) -> ApiRetryEvent | None:
        return self._last_api_retry

    @property
    def permission_denials(self) -> tuple[Denial, ...]:
        return tuple(self._denials)

    # ---- input --------------------------------------------------------------------
    def feed(self, text: str) -> list[ClaudeEvent]:
        """Take the next chunk of output; return the events of the lines it completed."""
        if self._closed:
            raise RuntimeError("feed() after close()/finish()")
        events: list[ClaudeEvent] = []
        start, end = 0, len(text)
        while start < end:
            nl = text.find("\n", start)
            if nl < 0:
                self._hold(text[start:] if start else text)
                break
            piece = text[start:nl]
            start = nl + 1
            if self._pending or self._overflow:
                self._hold(piece)
                self._take_line(events)
            elif len(piece) > self._max_line:
                self._oversized(piece[:PREVIEW_CHARS], len(piece), events)
            else:
                self._line(piece, events)
        return events

    def feed_bytes(self, data: bytes) -> list[ClaudeEvent]:
        """Like feed() for raw output: decodes UTF-8 across chunk boundaries."""
        return self.feed(self._decoder.decode(data))

    def close(self) -> list[ClaudeEvent]:
        """End of output: parse a last line that had no newline; return its events."""
        if self._closed:
            return []
        events = self.feed(self._decoder.decode(b"", final=True))
        self._closed = True
        if self._pending or self._overflow:
            malformed_before = self._malformed
            self._take_line(events)
            self._cut_short = self._malformed > malformed_before
        return events

    def finish(self, returncode: int | None = None) -> ClaudeOutcome:
        """End of output: return the run's outcome. Given the process's return code
        (negative: killed by that signal), a failure is explained with it."""
        self.close()
        return self._build_outcome(returncode)

    # ---- lines --------------------------------------------------------------------
    def _hold(self, piece: str) -> None:
        if self._overflow:
            self._pending_len += len(piece)
            return
        if self._pending_len + len(piece) > self._max_line:
            head = ""
            for part in [*self._pending, piece]:
                head += part[: PREVIEW_CHARS - len(head)]
                if len(head) >= PREVIEW_CHARS:
                    break
            self._overflow_head = head
            self._overflow = True
            self._pending = []
        else:
            self._pending.append(piece)
        self._pending_len += len(piece)

    def _take_line(self, events: list[ClaudeEvent]) -> None:
        if self._overflow:
            self._oversized(self._overflow_head, self._pending_len, events)
        else:
            self._line("".join(self._pending), events)
        self._pending = []
        self._pending_len = 0
        self._overflow = False
        self._overflow_head = ""

    def _oversized(self, head: str, length: int, events: list[ClaudeEvent]) -> None:
        self._bad(f"<line of {length} chars, over the {self._max_line} limit> {head}", events)

    def _bad(self, line: str, events: list[ClaudeEvent]) -> None:
        if line.strip():
            events.append(UnparsedLineEvent(line[:PREVIEW_CHARS]))
        self._malformed += 1
        if len(self._samples) < MALFORMED_SAMPLES:
            self._samples.append(line[:PREVIEW_CHARS])

    def _line(self, line: str, events: list[ClaudeEvent]) -> None:
        stripped = line.strip(" \t\r")
        if not stripped.startswith("{"):
            self._bad(line, events)  # blank lines and text are not stream-json
            return
        try:
            msg = json.loads(stripped)
        except (ValueError, RecursionError):
            self._bad(line, events)
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if not isinstance(kind, str):
            self._bad(line, events)
            return
        self._messages += 1
        sid = msg.get("session_id")
        if isinstance(sid, str) and sid:
            self._session_id = sid
        handler = _HANDLERS.get(kind)
        if handler is not None and not handler(self, msg, events):
            self._messages -= 1
            self._bad(line, events)

    # ---- messages (each returns False when the message is not of the known shape) ---
    def _on_system(self, msg: dict[str, Any], events: list[ClaudeEvent]) -> bool:
        subtype = msg.get("subtype")
        if subtype == "api_retry":
            retry = ApiRetryEvent(
                attempt=_int(msg.get("attempt")) or self._api_retries + 1,
                max_retries=_int(msg.get("max_retries")),
                error_status=_int(msg.get("error_status")),
                error=_str(msg.get("error")),
                retry_delay_ms=_int(msg.get("retry_delay_ms")),
            )
            self._api_retries += 1
            self._last_api_retry = retry
            events.append(retry)
            return True
        if subtype == "permission_denied":
            tool_use_id = _str(msg.get("tool_use_id"))
            denial = Denial(_str(msg.get("tool_name")) or "?", self._tool_inputs.get(tool_use_id or "", ""))
            if len(self._denials) < MAX_DENIALS:
                self._denials.append(denial)
            events.append(
                PermissionDeniedEvent(denial, tool_use_id, (_str(msg.get("message")) or "")[:EVENT_TEXT_CHARS])
            )
            return True
        if subtype == "hook_response":
            events.append(
                HookEvent(
                    name=_str(msg.get("hook_name")) or _str(msg.get("hook_event")) or "?",
                    outcome=_str(msg.get("outcome")),
                    exit_code=_int(msg.get("exit_code")),
                    output=(_str(msg.get("output")) or "")[:PREVIEW_CHARS],
                )
            )
            return True
        if subtype != "init":
            return True  # status, hook_started, ...: not progress we report
        model = _str(msg.get("model"))
        self._model = model or self._model
        tools = msg.get("tools")
        servers = msg.get("mcp_servers")
        events.append(
            InitEvent(
                session_id=self._session_id,
                model=model,
                tools_count=len(tools) if isinstance(tools, list) else 0,
                mcp_servers=tuple(
                    (str(s.get("name")), str(s.get("status")))
                    for s in (servers if isinstance(servers, list) else [])
                    if isinstance(s, dict)
                ),
                permission_mode=_str(msg.get("permissionMode")),
                version=_str(msg.get("claude_code_version")),
            )
        )
        return True

    def _on_assistant(self, msg: dict[str, Any], events: list[ClaudeEvent]) -> bool:
        body = msg.get("message")
        if not isinstance(body, dict):
            return False
        content = body.get("content")
        subagent = msg.get("parent_tool_use_id") is not None
        error = _str(msg.get("error"))
        if error and not subagent:
            self._assistant_error = error
        if not subagent:
            message_id = body.get("id") or object()  # no id: every line is its own turn
            if message_id != self._last_message_id:
                self._last_message_id = message_id
                self._turns += 1
                events.append(TurnEvent(self._turns))
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            return False
        texts: list[str] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif kind in ("tool_use", "server_tool_use"):
                self._tool_calls += 1
                tool_use_id = _str(block.get("id"))
                summary = summarize_tool_input(block.get("input"))
                if tool_use_id:
                    self._tool_inputs[tool_use_id] = summary
                    while len(self._tool_inputs) > REMEMBERED_TOOL_CALLS:
                        del self._tool_inputs[next(iter(self._tool_inputs))]
                events.append(
                    ToolUseEvent(
                        tool_name=_str(block.get("name")) or "?",
                        tool_use_id=tool_use_id,
                        subagent=subagent,
                        input_summary=summary,
                    )
                )
        if texts:
            text = "".join(texts)
            events.append(
                AssistantTextEvent(
                    text=text[:EVENT_TEXT_CHARS],
                    truncated=len(text) > EVENT_TEXT_CHARS,
                    subagent=subagent,
                )
            )
            if not subagent:
                self._last_text = text[: self._max_text]
        return True

    def _on_user(self, msg: dict[str, Any], events: list[ClaudeEvent]) -> bool:
        body = msg.get("message")
        if not isinstance(body, dict):
            return False
        content = body.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            return False
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_result":
                events.append(
                    ToolResultEvent(
                        tool_use_id=_str(block.get("tool_use_id")),
                        is_error=block.get("is_error") is True,
                        preview=_preview(block.get("content")),
                        chars=_text_length(block.get("content")),
                    )
                )
            elif kind == "text" and str(block.get("text", "")).startswith(INTERRUPT_MARKER):
                self._interrupted = True
        return True

    def _on_result(self, msg: dict[str, Any], events: list[ClaudeEvent]) -> bool:
        self._result = msg
        num_turns = _int(msg.get("num_turns"))
        if num_turns is not None:
            self._turns = num_turns
        events.append(
            ResultEvent(
                subtype=_str(msg.get("subtype")),
                is_error=_result_is_error(msg),
                num_turns=self._turns,
                duration_ms=_int(msg.get("duration_ms")),
                total_cost_usd=_float(msg.get("total_cost_usd")),
            )
        )
        return True

    # ---- outcome ------------------------------------------------------------------
    def _build_outcome(self, returncode: int | None) -> ClaudeOutcome:
        res = self._result or {}
        result = _str(res.get("result"))
        truncated = result is not None and len(result) > self._max_result
        if result is not None:
            result = result[: self._max_result]
        raw_errors = res.get("errors")
        errors = tuple(
            e[:EVENT_TEXT_CHARS]
            for e in (raw_errors if isinstance(raw_errors, list) else [raw_errors])
            if isinstance(e, str) and e.strip()
        )[:MAX_ERRORS]
        usage = res.get("usage")
        outcome = ClaudeOutcome(
            result=result,
            is_error=_result_is_error(res) if self._result is not None else True,
            subtype=_str(res.get("subtype")),
            session_id=self._session_id,
            num_turns=self._turns,
            duration_ms=_int(res.get("duration_ms")),
            total_cost_usd=_float(res.get("total_cost_usd")),
            usage=usage if isinstance(usage, dict) else {},
            saw_result=self._result is not None,
            malformed_lines=self._malformed,
            error_message=None,
            model=self._model,
            tool_calls=self._tool_calls,
            last_assistant_text=self._last_text,
            errors=errors,
            terminal_reason=_str(res.get("terminal_reason")),
            assistant_error=self._assistant_error,
            interrupted=self._interrupted,
            result_truncated=truncated,
            messages=self._messages,
            malformed_samples=tuple(self._samples),
            returncode=returncode,
            permission_denials=_denials(res.get("permission_denials")) if self._result else tuple(self._denials),
            api_retries=self._api_retries,
            last_api_retry=self._last_api_retry,
            structured_output=res.get("structured_output"),
            has_structured_output="structured_output" in res,
        )
        if outcome.ok:
            return outcome
        return replace(outcome, error_message=self._explain(outcome, res))

    def _explain(self, o: ClaudeOutcome, res: dict[str, Any]) -> str:
        """Say in one sentence what went wrong, for people reading a failed task."""
        if o.saw_result:
            detail = "; ".join(o.errors) or (o.result or "").strip() or f"subtype {o.subtype}"
            api_error = _str(res.get("api_error"))
            if api_error and api_error not in detail:
                detail += f" ({api_error})"
            if o.assistant_error:
                headline = API_ERRORS.get(o.assistant_error, f"The Claude API call failed ({o.assistant_error})")
            elif o.subtype == "error_max_turns":
                headline = "Claude stopped at the maximum number of turns (--max-turns)"
            elif o.subtype == "error_max_budget_usd":
                headline = "Claude stopped at its spending limit (--max-budget-usd)"
            elif o.interrupted:
                headline = "Claude Code was interrupted (SIGINT) before it finished"
            elif o.subtype == "error_during_execution":
                headline = "Claude Code failed during execution"
            else:
                headline = f"Claude Code reported an error (subtype {o.subtype})"
            return f"{headline}. Claude Code said: {detail}"
        ended = _how_it_ended(o.returncode)
        if o.messages == 0 and o.malformed_lines == 0:
            return f"Claude Code produced no output and {ended or 'ended'}: it failed to start, see its stderr"
        if o.messages == 0:
            return (
                f"Claude Code's output is not stream-json ({o.malformed_lines} unparsable "
                f"line(s), first: {o.malformed_samples[0]!r}); it needs "
                "-p --output-format stream-json --verbose"
            ) + (f"; it {ended}" if ended else "")
        parts = [
            f"Claude Code stopped without a result message after {o.num_turns} turn(s) "
            f"({ended or 'it crashed, was killed or timed out'})"
        ]
        if o.interrupted:
            parts.append("it was interrupted")
        if o.assistant_error:
            parts.append(API_ERRORS.get(o.assistant_error, f"The Claude API call failed ({o.assistant_error})"))
        if o.last_assistant_text:
            parts.append(f"last text: {o.last_assistant_text[:PREVIEW_CHARS]!r}")
        if self._cut_short:
            parts.append("the output ends in the middle of a line")
        if o.malformed_lines:
            parts.append(f"{o.malformed_lines} malformed line(s), first: {o.malformed_samples[0]!r}")
        return "; ".join(parts)


_HANDLERS = {
    "system": ClaudeStreamParser._on_system,
    "assistant": ClaudeStreamParser._on_assistant,
    "user": ClaudeStreamParser._on_user,
    "result": ClaudeStreamParser._on_result,
}


def _how_it_ended(returncode: int | None) -> str | None:
    if returncode is None:
        return None
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _result_is_error(msg: dict[str, Any]) -> bool:
    """An error is ``is_error: true`` or an ``error_*`` subtype, whichever says so."""
    subtype = msg.get("subtype")
    return msg.get("is_error") is True or (isinstance(subtype, str) and subtype.startswith("error"))


def summarize_tool_input(tool_input: object) -> str:
    """A tool call's main argument in at most SUMMARY_CHARS characters, on one line: the command,
    the file path, the URL...; for other tools their arguments as compact JSON."""
    if not isinstance(tool_input, dict) or not tool_input:
        return ""
    for key in MAIN_ARGUMENTS:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return _one_line(value, SUMMARY_CHARS)
    return _one_line(json.dumps(tool_input, ensure_ascii=False, separators=(",", ":")), SUMMARY_CHARS)


def _one_line(text: str, limit: int) -> str:
    """On one line, at most `limit` characters: a long one keeps its start and its end (a command's verb,
    a path's file name)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = (limit - 1) // 2
    return flat[:head] + "…" + flat[len(flat) - (limit - 1 - head) :]


def _denials(value: object) -> tuple[Denial, ...]:
    """The result's permission_denials ({tool_name, tool_use_id, tool_input}), summarised."""
    denials = [
        Denial(_str(item.get("tool_name")) or "?", summarize_tool_input(item.get("tool_input")))
        for item in (value if isinstance(value, list) else [])
        if isinstance(item, dict)
    ]
    return tuple(denials[:MAX_DENIALS])


def _preview(content: object) -> str:
    """The start of a tool result's content (a string or a list of text blocks)."""
    if isinstance(content, str):
        return content[:PREVIEW_CHARS]
    if isinstance(content, list):
        out: list[str] = []
        size = 0
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                out.append(block["text"][: PREVIEW_CHARS - size])
                size += len(out[-1])
                if size >= PREVIEW_CHARS:
                    break
        return "".join(out)
    return ""


def _text_length(content: object) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(b["text"]) for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
    return 0


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
