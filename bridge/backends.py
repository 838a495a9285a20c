"""Where a task's process runs: here (the local fallback) or in a handler; both behind one small interface.

The local backend drives the same execution core the handler uses
(cc_executor.handler.process_runner), and the same hooks engine, so process groups,
streaming, pause/resume, cancel, timeouts and hooks behave identically wherever a
task runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from cc_executor.client import ControlAction, HandlerClient, HandlerError, HandlerUnavailable
from cc_executor.generated.common.hooks import HookRun
from cc_executor.generated.common.permissions import PermissionDecision
from cc_executor.generated.ws.notifications.permission_requested import PermissionRequestedParams
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams
from cc_executor.generated.ws.notifications.process_output import ProcessOutputParams
from cc_executor.generated.ws.requests.ask_permission import AskPermissionParams
from cc_executor.handler.execution_types import Completion, OutputPiece, RunLimits, StreamName
from cc_executor.handler.hooks import HookContext, HookListener, HooksEngine, failure_message
from cc_executor.handler.process_runner import RunningProcess, SpawnError, launcher
from cc_executor.handler.relay_channel import Asker, RelayKeys

from .relay_listener import LocalRelay

TextSink = Callable[[StreamName, str], Awaitable[None]]
LOCAL = "local"
HOOK_HINT = "Nothing ran. The hooks file's pre-execution hook refused the task: see its error, fix what it checks."


@dataclass(frozen=True)
class PermissionRelay:
    """Relay the task's permission prompts: each question of its Claude goes to `ask`, wherever the task runs."""

    ask: Asker
    pause_timeout_while_asking: bool = False


class StartFailed(Exception):
    """The backend could not start the process; the message says why, the hint what to try (for the result)."""

    def __init__(self, message: str, hint: str | None = None, may_have_run_on: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.may_have_run_on = may_have_run_on  # a handler lost while starting it: it may have run there


class Execution(Protocol):
    """A started process group, wherever it runs."""

    backend: str
    tag: str | None  # local executions: the execution core's tag, to find leftovers after a crash
    lost: bool  # the backend went away while it ran (a handler stopped, the network failed)

    async def pause(self) -> bool: ...
    async def resume(self) -> bool: ...
    async def cancel(self, reason: str) -> bool: ...
    async def wait(self) -> Completion: ...


# -- here ------------------------------------------------------------------------


class LocalExecution:
    backend = LOCAL
    lost = False  # the bridge itself runs it: never lost while the bridge lives

    def __init__(
        self,
        running: RunningProcess,
        hooks: HooksEngine,
        context: HookContext,
        on_hook: HookListener | None,
        ended: Callable[[], None] = lambda: None,
    ) -> None:
        self.running = running
        self.tag: str | None = running.tag  # finds its processes again after a bridge crash
        self._ended = ended
        self._done = asyncio.create_task(self._finish(hooks, context, on_hook), name=f"local {running.pid}")

    async def pause(self) -> bool:
        return self.running.pause()

    async def resume(self) -> bool:
        return self.running.resume()

    async def cancel(self, reason: str) -> bool:
        return self.running.cancel(reason)

    async def wait(self) -> Completion:
        return await asyncio.shield(self._done)

    async def _finish(self, hooks: HooksEngine, context: HookContext, on_hook: HookListener | None) -> Completion:
        completion = await self.running.wait()
        self._ended()
        await hooks.after(context, completion, on_hook)
        return completion


class LocalBackend:
    """Runs the process in this process (no handler needed), with the bridge's own hooks and relay channel."""

    def __init__(
        self, limits: RunLimits | None = None, hooks: HooksEngine | None = None, relay: LocalRelay | None = None
    ) -> None:
        self.limits = limits or RunLimits()
        self.hooks = hooks or HooksEngine(limits=self.limits)
        self.relay = relay
        self.launcher = launcher(self.limits)

    async def start(
        self,
        command: str,
        *,
        cwd: str | None,
        timeout_s: int | None,
        sink: TextSink,
        stdin: str | None = None,
        claude: bool = False,
        execution_id: str | None = None,
        on_hook: HookListener | None = None,
        permission_relay: PermissionRelay | None = None,
    ) -> LocalExecution:
        async def forward(stream: StreamName, pieces: list[OutputPiece]) -> None:
            await sink(stream, "".join(piece.data for piece in pieces))

        execution_id = execution_id or "local"
        context = HookContext(execution_id, command, cwd, execution_id, known_claude=claude)
        refused = await self.hooks.before(context, on_hook)
        if refused is not None:
            raise StartFailed(failure_message(refused), HOOK_HINT)
        started: list[RunningProcess] = []  # the asker holds its clock (once it runs: nothing asks before)
        key, environ = await self._relay_key(permission_relay, started)
        try:
            running = await RunningProcess.start(
                command,
                forward,
                cwd=cwd,
                timeout_s=timeout_s,
                limits=self.limits,
                environ=environ,
                stdin=stdin.encode("utf-8", "surrogatepass") if stdin else None,
                launcher=self.launcher,
            )
        except SpawnError as exc:
            self._revoke(key)
            raise StartFailed(str(exc)) from exc
        started.append(running)
        return LocalExecution(running, self.hooks, context, on_hook, lambda: self._revoke(key))

    async def _relay_key(
        self, relay: PermissionRelay | None, started: list[RunningProcess]
    ) -> tuple[str | None, dict[str, str] | None]:
        """A relay key for the task and the environment that names it, when its permission prompts are relayed."""
        if relay is None or self.relay is None:
            return None, None

        async def ask(question: AskPermissionParams) -> PermissionDecision:
            if not relay.pause_timeout_while_asking or not started:
                return await relay.ask(question)
            with started[0].timeout_held():
                return await relay.ask(question)

        key = self.relay.keys.issue(ask)
        return key, {**os.environ, **RelayKeys.environment(key, await self.relay.url())}

    def _revoke(self, key: str | None) -> None:
        if key is not None and self.relay is not None:
            self.relay.keys.revoke(key)

    async def close(self) -> None:
        await self.launcher.close()
        if self.relay is not None:
            await self.relay.close()


# -- in a handler ------------------------------------------------------------------


class HandlerExecution:
    """One execution on one pooled connection; the connection goes back to the pool when it ends."""

    def __init__(
        self,
        url: str,
        client: HandlerClient,
        sink: TextSink,
        release: Callable[[HandlerClient, bool], None],
        on_hook: HookListener | None = None,
        ask: Asker | None = None,
    ):
        self.backend = url
        self.lost = False  # the connection went while the task ran: it did not finish here
        self.tag: str | None = None  # the handler ends its own executions when this connection goes
        self.client = client
        self._sink = sink
        self._on_hook = on_hook
        self._ask = ask
        self._answering: set[asyncio.Task[None]] = set()
        self._release = release
        self._done = asyncio.create_task(self._follow(), name=f"follow {url}")

    async def pause(self) -> bool:
        return await self._control("PAUSE")

    async def resume(self) -> bool:
        return await self._control("RESUME")

    async def cancel(self, reason: str) -> bool:
        return await self._control("CANCEL")

    async def wait(self) -> Completion:
        return await asyncio.shield(self._done)

    async def _control(self, action: ControlAction) -> bool:
        try:
            await self.client.control(action)
        except (HandlerError, HandlerUnavailable):
            return False  # already ended, or the connection is gone: the completion will say
        return True

    async def _answer(self, event: PermissionRequestedParams) -> None:
        """Ask the bridge about a relayed permission prompt, and send its answer back to the handler."""
        assert self._ask is not None
        question = AskPermissionParams(tool_name=event.tool_name, input=event.input, tool_use_id=event.tool_use_id)
        decision = await self._ask(question)
        with contextlib.suppress(HandlerError, HandlerUnavailable):  # the execution ended meanwhile
            await self.client.answer_permission(event.request_id, decision.behavior, decision.message)

    async def _follow(self) -> Completion:
        completed: ProcessCompletedParams | None = None
        try:
            async for event in self.client.events():
                if isinstance(event, ProcessOutputParams):
                    await self._sink(event.type, event.data)
                elif isinstance(event, HookRun):
                    if self._on_hook is not None:
                        await self._on_hook(event)
                elif isinstance(event, PermissionRequestedParams) and self._ask is not None:
                    answering = asyncio.create_task(self._answer(event), name=f"permission {event.request_id}")
                    self._answering.add(answering)
                    answering.add_done_callback(self._answering.discard)
                elif isinstance(event, ProcessCompletedParams):
                    completed = event
                    break
        finally:
            for answering in self._answering:
                answering.cancel()
        if completed is None:
            self.lost = True
            with contextlib.suppress(Exception):
                await self.client.close()
            self._release(self.client, True)
            return Completion(
                status="failed",
                exit_code=None,
                signal=None,
                error=f"Lost the connection to the handler at {self.backend} while the task ran (the handler "
                "stopped, or the network failed), so it did not finish here; a handler that is still up ends the "
                "task of a client that is gone",
                execution_time=0.0,
                stdout_bytes=0,
                stderr_bytes=0,
            )
        self._release(self.client, False)
        return Completion(
            status=completed.status,
            exit_code=completed.exit_code,
            signal=completed.signal,
            error=completed.error,
            execution_time=completed.execution_time,
            stdout_bytes=completed.stdout_bytes or 0,
            stderr_bytes=completed.stderr_bytes or 0,
        )
