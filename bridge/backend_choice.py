"""Which backend runs a task: a handler when one takes it, else (backend "auto") the bridge itself.

Never silent about a handler someone named: when handlers were named (--handler-url or
CC_EXECUTOR_HANDLER_URL) and none takes the task, "auto" logs a warning saying which
handler failed and why before it runs the task locally, and the result says so
(handler_error); "handler" fails the task with that message. Only the default URL,
which nobody named, falls back quietly.
"""

from __future__ import annotations

import logging
import shutil
from typing import TypedDict

from cc_executor.client import HandlerUnavailable
from cc_executor.handler.hooks import HookListener, HooksEngine

from .backends import Execution, LocalBackend, PermissionRelay, StartFailed, TextSink
from .execution_state import TrackedExecution
from .handler_pool import FleetWait, HandlerPool
from .relay_listener import LocalRelay
from .settings import BridgeSettings

log = logging.getLogger("cc_executor.bridge")

NO_HANDLER_HINT = (
    "Nothing ran. Start a handler at that URL (cc-executor handler), or run the bridge with --backend auto "
    "so that tasks run locally when no handler answers."
)
CWD_HINT = "Nothing ran. Give cwd as an existing absolute directory, or leave it out for the bridge's own."
MISSING_CWD = "working directory does not exist"


class StartOptions(TypedDict):
    """What every backend's start takes besides the command: one task's, whichever backend runs it."""

    cwd: str | None
    timeout_s: int | None
    sink: TextSink
    stdin: str | None
    claude: bool
    execution_id: str | None
    on_hook: HookListener | None
    permission_relay: PermissionRelay | None


class BackendChoice:
    """Starts each task on the backend the settings call for; holds the handler pool."""

    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self.local = LocalBackend(
            settings.run_limits, HooksEngine(settings.hooks, settings.run_limits), LocalRelay(settings.data_dir)
        )
        self.pool = (
            HandlerPool(list(settings.handler_urls), settings.token, ca_file=settings.ca_file)
            if settings.handler_urls and settings.backend != "local"
            else None
        )

    async def start(
        self,
        execution: TrackedExecution,
        sink: TextSink,
        on_hook: HookListener,
        permission_relay: PermissionRelay | None = None,
    ) -> Execution:
        """The started process; StartFailed (with a hint) when nothing could start it."""
        try:
            return await self._start(execution, sink, on_hook, permission_relay)
        except StartFailed as exc:
            if exc.hint is None and MISSING_CWD in str(exc):
                raise StartFailed(str(exc), CWD_HINT) from exc
            raise

    async def _start(
        self,
        execution: TrackedExecution,
        sink: TextSink,
        on_hook: HookListener,
        permission_relay: PermissionRelay | None,
    ) -> Execution:
        request = execution.request
        options = StartOptions(
            cwd=request.cwd,
            timeout_s=request.timeout_s,
            sink=sink,
            stdin=request.stdin,
            claude=request.claude,
            execution_id=execution.id,
            on_hook=on_hook,
            permission_relay=permission_relay,
        )
        if self.pool is not None:
            try:
                return await self.pool.start(request.command, **options, wait=self._fleet_wait(execution))
            except HandlerUnavailable as exc:
                if self.settings.backend == "handler":
                    raise StartFailed(str(exc), NO_HANDLER_HINT) from exc
                if self.settings.handlers_named:
                    execution.handler_error = str(exc)
                    log.warning(
                        "the named handler did not take the task; running it locally",
                        extra={"event": {"execution_id": execution.id, "handler_error": str(exc)}},
                    )
                else:
                    log.info("no handler reachable; running locally", extra={"event": {"error": str(exc)}})
        if request.claude and shutil.which(self.settings.claude_bin) is None:
            raise StartFailed(
                f"the claude executable {self.settings.claude_bin!r} was not found; install Claude Code "
                "(npm install -g @anthropic-ai/claude-code) or point --claude-bin / CC_EXECUTOR_CLAUDE_BIN at it"
            )
        return await self.local.start(request.command, **options)

    def _fleet_wait(self, execution: TrackedExecution) -> FleetWait:
        """How the task waits when every handler is full: at most its timeout or --queue-timeout, status queued."""
        interval = self.settings.progress_interval_s

        def waiting(message: str) -> None:
            execution.status = "queued"
            execution.announce(message, interval)

        return FleetWait(
            deadline_s=min(float(execution.request.timeout_s), self.settings.queue_timeout_s),
            canceled=execution.cancel_requested,
            on_wait=waiting,
            retry_on_loss=execution.request.retry_on_handler_loss,
        )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        await self.local.close()
