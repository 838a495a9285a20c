"""The hooks engine: runs a hooks file's commands before and after executions, for the handler and the bridge alike.

Each hook is a process group of its own, run by the execution core (process_runner) with
its timeout, so a hook never blocks the event loop and leaves nothing behind. It gets
its context in the environment, under the old handler's names (CLAUDE_SESSION_ID,
CLAUDE_COMMAND, ...) and cc-executor's (CC_EXECUTOR_EXECUTION_ID, ...), and as one JSON
object on its stdin. A pre-stage hook that fails (and is not optional) stops the
execution; post-stage hooks are reported and change nothing. The latest runs are kept
for hook_status.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shlex
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cc_executor.generated.common.hooks import HookRun, HookStageConfig
from cc_executor.generated.ws.requests.hook_status import HookStatusResult

from .execution_types import Completion, OutputPiece, RunLimits, StreamName
from .hooks_file import CLAUDE_STAGES, NEVER_RUN, POST_STAGES, PRE_STAGES, WHEN, Hook, HooksSetup
from .process_runner import RunningProcess, SpawnError, child_environment

log = logging.getLogger("cc_executor.hooks")

NOT_CONFIGURED = "Hook integration not configured"
SHOWN_COMMAND_CHARS = 200
OUTPUT_TAIL_CHARS = 1000
ERROR_TAIL_CHARS = 300
ENV_VALUE_CHARS = 64 * 1024  # the kernel refuses one environment string of 128 KiB
KEPT_RUNS = 20

#: Receives each hook run as it ends (the handler: a hook.completed notification; the bridge: a progress step).
HookListener = Callable[[HookRun], Awaitable[None]]


@dataclass(frozen=True)
class HookContext:
    """The execution hooks run for."""

    execution_id: str
    command: str
    cwd: str | None
    session_id: str  # the old CLAUDE_SESSION_ID: the handler's connection, or the execution for the bridge
    known_claude: bool | None = None  # known (the bridge); else read from the command, and only if a hook asks

    @functools.cached_property
    def claude(self) -> bool:
        """Whether it runs Claude Code: the pre-claude and post-claude stages apply. Reading a command takes a
        shell parse (about 0.1 ms), which an execution without hooks does not wait for."""
        return self.known_claude if self.known_claude is not None else runs_claude(self.command)


def runs_claude(command: str) -> bool:
    """Whether a shell command runs Claude Code: one of its words is a program named `claude`."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return any(os.path.basename(word) == "claude" for word in words)


def failure_message(run: HookRun) -> str:
    """Why an execution did not start, naming the hook."""
    return f"The {run.stage} hook `{run.command}` failed ({run.error}); the execution was not started"


class HooksEngine:
    """Runs the configured hooks; `status()` answers hook_status."""

    def __init__(self, setup: HooksSetup | None = None, limits: RunLimits | None = None) -> None:
        self.setup = setup or HooksSetup()
        self.limits = limits or RunLimits()
        self.runs: deque[HookRun] = deque(maxlen=KEPT_RUNS)

    @property
    def enabled(self) -> bool:
        return self.setup.config is not None and bool(self.setup.config.hooks)

    async def before(self, context: HookContext, listener: HookListener | None = None) -> HookRun | None:
        """Run the pre stages in order; the failed run of a required hook (then the execution must not start)."""
        for hook in self._hooks(PRE_STAGES, context):
            run = await self._run(hook, context, None, listener)
            if run.status != "ok" and not hook.optional:
                return run
        return None

    async def after(self, context: HookContext, completion: Completion, listener: HookListener | None = None) -> None:
        """Run the post stages in order, whatever each one's outcome."""
        for hook in self._hooks(POST_STAGES, context):
            await self._run(hook, context, completion, listener)

    def status(self) -> HookStatusResult:
        config = self.setup.config
        if config is None:
            if self.setup.problem:
                return HookStatusResult(
                    enabled=False,
                    message=f"Hooks not loaded: {self.setup.problem}",
                    config_path=str(self.setup.path) if self.setup.path else None,
                )
            return HookStatusResult(enabled=False, message=NOT_CONFIGURED)
        stages = [
            HookStageConfig(
                stage=hook.stage,
                command=_shown(hook.command),
                timeout_s=hook.timeout_s,
                optional=hook.optional,
                when=WHEN.get(hook.stage) or NEVER_RUN[hook.stage],
            )
            for hook in config.hooks
        ]
        return HookStatusResult(
            enabled=self.enabled,
            message=f"Hooks from {config.path}: {', '.join(config.stages) or 'none'}",
            config_path=str(config.path),
            hooks_configured=config.stages,
            timeout=config.timeout_s,
            stages=stages,
            last_runs=list(self.runs),
        )

    # -- inside ----------------------------------------------------------------------

    def _hooks(self, stages: tuple[str, ...], context: HookContext) -> list[Hook]:
        config = self.setup.config
        if config is None:
            return []
        chosen = [stage for stage in stages if context.claude or stage not in CLAUDE_STAGES]
        return [hook for stage in chosen for hook in config.at(stage)]

    async def _run(
        self, hook: Hook, context: HookContext, completion: Completion | None, listener: HookListener | None
    ) -> HookRun:
        assert self.setup.config is not None
        tails: dict[StreamName, str] = {"stdout": "", "stderr": ""}

        async def keep(stream: StreamName, pieces: list[OutputPiece]) -> None:
            tails[stream] = (tails[stream] + "".join(piece.data for piece in pieces))[-OUTPUT_TAIL_CHARS * 2 :]

        payload = _payload(hook.stage, context, completion)
        started = time.monotonic()
        try:
            running = await RunningProcess.start(
                hook.command,
                keep,
                cwd=str(self.setup.config.path.parent),
                timeout_s=hook.timeout_s,
                limits=self.limits,
                environ=self._environment(hook.stage, context, completion),
                stdin=json.dumps(payload).encode(),
            )
        except SpawnError as exc:
            run = self._record(hook, context, "not_started", None, time.monotonic() - started, str(exc), "")
        else:
            try:
                ended = await running.wait()
            except BaseException:  # cancelled with its execution: end the hook too, and wait for it
                running.cancel("The execution ended")
                await running.wait()
                raise
            status = {"completed": "ok", "timed_out": "timed_out"}.get(ended.status, "failed")
            error = None if status == "ok" else _why(ended, tails["stderr"])
            run = self._record(hook, context, status, ended.exit_code, ended.execution_time, error, tails["stdout"])
        if listener is not None:
            await listener(run)
        return run

    def _environment(self, stage: str, context: HookContext, completion: Completion | None) -> dict[str, str]:
        assert self.setup.config is not None
        env = child_environment(os.environ, self.limits.scrub_env)
        env.update(self.setup.config.env)
        facts = {
            "CLAUDE_SESSION_ID": context.session_id,
            "CLAUDE_COMMAND": context.command,
            "CLAUDE_CWD": context.cwd or os.getcwd(),
            "CC_EXECUTOR_STAGE": stage,
            "CC_EXECUTOR_EXECUTION_ID": context.execution_id,
            "CC_EXECUTOR_COMMAND": context.command,
            "CC_EXECUTOR_CWD": context.cwd or os.getcwd(),
            "CC_EXECUTOR_CLAUDE": "1" if context.claude else "0",
        }
        if completion is not None:
            exit_code = "" if completion.exit_code is None else str(completion.exit_code)
            duration = f"{completion.execution_time:.3f}"
            facts |= {
                "CC_EXECUTOR_EXIT_CODE": exit_code,
                "CC_EXECUTOR_STATUS": completion.status,
                "CC_EXECUTOR_DURATION_S": duration,
                "CLAUDE_EXIT_CODE": exit_code,
                "CLAUDE_DURATION": duration,
            }
        env.update({name: value[:ENV_VALUE_CHARS] for name, value in facts.items()})
        return env

    def _record(
        self,
        hook: Hook,
        context: HookContext,
        status: str,
        exit_code: int | None,
        duration_s: float,
        error: str | None,
        output: str,
    ) -> HookRun:
        run = HookRun.model_validate(
            {
                "stage": hook.stage,
                "command": _shown(hook.command),
                "execution_id": context.execution_id,
                "status": status,
                "optional": hook.optional,
                "exit_code": exit_code,
                "duration_s": round(duration_s, 3),
                "error": error,
                "output": output[-OUTPUT_TAIL_CHARS:],
                "ended_at": datetime.now(UTC),
            }
        )
        self.runs.append(run)
        level = logging.INFO if status == "ok" else logging.WARNING
        log.log(
            level,
            "hook ran",
            extra={"event": {"stage": hook.stage, "execution_id": context.execution_id, "status": status}},
        )
        return run


def _payload(stage: str, context: HookContext, completion: Completion | None) -> dict[str, Any]:
    """The JSON a hook reads on its stdin."""
    payload: dict[str, Any] = {
        "stage": stage,
        "execution_id": context.execution_id,
        "session_id": context.session_id,
        "command": context.command,
        "cwd": context.cwd,
        "claude": context.claude,
    }
    if completion is not None:
        payload |= {
            "status": completion.status,
            "exit_code": completion.exit_code,
            "signal": completion.signal,
            "error": completion.error,
            "duration_s": round(completion.execution_time, 3),
            "stdout_bytes": completion.stdout_bytes,
            "stderr_bytes": completion.stderr_bytes,
        }
    return payload


def _why(ended: Completion, stderr: str) -> str:
    if ended.status == "timed_out":
        reason = f"timed out after {ended.timeout_s:g} s" if ended.timeout_s else "timed out"
    elif ended.signal:
        reason = f"killed by {ended.signal}"
    else:
        reason = f"exit code {ended.exit_code}"
    said = " ".join(stderr.split())[-ERROR_TAIL_CHARS:]
    return f"{reason}: {said}" if said else reason


def _shown(command: str) -> str:
    return command if len(command) <= SHOWN_COMMAND_CHARS else command[: SHOWN_COMMAND_CHARS - 1] + "…"
