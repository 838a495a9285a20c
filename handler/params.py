"""Reading a request's params into what the protocol core acts on, strictly (protocol 2.0) or leniently (1.0).

Each reader takes the raw `params` member of a request and returns one of the small
typed requests below, or raises ParamsRefused with the JSON-RPC error to answer. The
strict readers validate against the generated models as they are; the lenient ones
read the way the old handler's pydantic models did: unknown parameters ignored,
`timeout` converted (spec/ws/requests/execute.json, LenientExecuteParams).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from cc_executor.generated.common.permissions import PermissionRelayOptions
from cc_executor.generated.ws.requests.answer_permission import AnswerPermissionParams
from cc_executor.generated.ws.requests.control import ControlParams, LenientControlParams
from cc_executor.generated.ws.requests.execute import ExecuteParams, LenientExecuteParams
from cc_executor.generated.ws.requests.hook_status import HookStatusParams
from cc_executor.generated.ws.requests.sessions import SessionsParams
from cc_executor.generated.ws.requests.status import StatusParams

INVALID_PARAMS, COMMAND_NOT_ALLOWED = -32602, -32001
ControlType = Literal["PAUSE", "RESUME", "CANCEL"]
#: Beyond this a timeout is "no timeout": 31 years, and no float overflow from an old client's huge integer.
LONGEST_TIMEOUT_S = 10**9


@dataclass(frozen=True)
class Execute:
    command: str
    timeout_s: int | None  # None: the handler's default
    cwd: str | None
    execution_id: str | None
    stdin: str | None = None  # protocol 2.0: written to the process's stdin, which is then closed
    permission_relay: PermissionRelayOptions | None = None  # protocol 2.0: relay its permission prompts here
    may_queue: bool = True  # protocol 2.0's `queue: false`: refuse (handler_full) rather than wait for a slot


@dataclass(frozen=True)
class Control:
    action: ControlType
    execution_id: str | None


@dataclass(frozen=True)
class AnswerPermission:
    """Protocol 2.0: the answer to a permission.requested of the connection's execution."""

    params: AnswerPermissionParams


@dataclass(frozen=True)
class Query:
    """A request that only asks (status, sessions, hook_status): its params carry nothing."""


Params = Execute | Control | AnswerPermission | Query
ParamsReader = Callable[[Any], Params]
Model = TypeVar("Model", bound=BaseModel)


class ParamsRefused(Exception):
    """The params cannot be acted on: the error to answer (one readable sentence)."""

    def __init__(self, message: str, *, field: str | None = None, code: int = INVALID_PARAMS, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.reason = reason or ("invalid_params" if code == INVALID_PARAMS else "command_not_allowed")


def readable(error: ValidationError) -> tuple[str, str | None]:
    """One sentence for the first problem pydantic found, and the field it concerns.

    Params and envelopes are flat: the field is the first part of pydantic's location (the
    rest names a union's member, e.g. `timeout.int`, which means nothing to a client).
    """
    first = error.errors(include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else None
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown parameter"
    return (f"{field}: {message}" if field else message), field


def _validated(model: type[Model], params: Any, *, strict: bool = True) -> Model:
    if isinstance(params, list):
        raise ParamsRefused("Invalid params: params must be an object")
    try:
        return model.model_validate(params if params is not None else {}, strict=strict)
    except ValidationError as exc:
        text, field = readable(exc)
        raise ParamsRefused(f"Invalid params: {text}", field=field) from exc


# -- protocol 2.0: the generated models, strictly ---------------------------------------------


def strict_execute(params: Any) -> Params:
    read = _validated(ExecuteParams, params)
    return Execute(
        read.command,
        read.timeout,
        read.cwd,
        read.execution_id,
        read.stdin,
        read.permission_relay,
        read.queue is not False,
    )


def strict_control(params: Any) -> Params:
    read = _validated(ControlParams, params)
    return Control(read.type, read.execution_id)


def strict_answer_permission(params: Any) -> Params:
    return AnswerPermission(_validated(AnswerPermissionParams, params))


def strict_query(model: type[BaseModel]) -> ParamsReader:
    def read(params: Any) -> Params:
        _validated(model, params)
        return Query()

    return read


STRICT_READERS: dict[str, ParamsReader] = {
    "execute": strict_execute,
    "control": strict_control,
    "answer_permission": strict_answer_permission,
    "hook_status": strict_query(HookStatusParams),
    "status": strict_query(StatusParams),
    "sessions": strict_query(SessionsParams),
}


# -- protocol 1.0: as the old handler read them ---------------------------------------------------

_OLD_INTEGER = TypeAdapter(int)  # pydantic's lax int: what the old ExecuteRequest's `timeout: Optional[int]` did


def old_timeout(value: int | float | str | bool | None) -> int | None:
    """The old conversion: "5", 5.0, " +5 " and True become integers; 0, False and null mean none."""
    if value is None:
        return None
    try:
        seconds = _OLD_INTEGER.validate_python(value)
    except ValidationError as exc:
        raise ParamsRefused(f"Invalid params: timeout: {readable(exc)[0]}", field="timeout") from exc
    return None if seconds == 0 or seconds > LONGEST_TIMEOUT_S else seconds


def lenient_execute(params: Any) -> Params:
    read = _validated(LenientExecuteParams, params)
    if not read.command.strip():
        raise ParamsRefused("Command cannot be empty", field="command", code=COMMAND_NOT_ALLOWED)
    return Execute(read.command, old_timeout(read.timeout), read.cwd, read.execution_id)


def lenient_control(params: Any) -> Params:
    read = _validated(LenientControlParams, params)
    return Control(read.type, read.execution_id)


def ignored(params: Any) -> Params:
    """The old handler never looked at these params (hook_status), so nothing in them is wrong."""
    return Query()


LENIENT_READERS: dict[str, ParamsReader] = {
    "execute": lenient_execute,
    "control": lenient_control,
    "hook_status": ignored,
    "status": ignored,
    "sessions": ignored,
}


def check_stdin(execute: Execute, max_bytes: int) -> None:
    """stdin within the handler's --max-stdin-bytes (counted as UTF-8)."""
    size = len(execute.stdin.encode("utf-8", "surrogatepass")) if execute.stdin else 0
    if size > max_bytes:
        raise ParamsRefused(
            f"Invalid params: stdin: {size} bytes exceed the handler's limit of {max_bytes} bytes (--max-stdin-bytes)",
            field="stdin",
        )


def check_allowed(command: str, allowed: tuple[str, ...]) -> None:
    """The old ALLOWED_COMMANDS rule: the command's first word must be one of `allowed` (when any are set)."""
    words = command.split()
    if allowed and (not words or words[0] not in allowed):
        shown = words[0] if words else command
        raise ParamsRefused(f"Command '{shown}' is not allowed", field="command", code=COMMAND_NOT_ALLOWED)
