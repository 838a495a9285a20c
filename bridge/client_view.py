"""The engine as one MCP client sees it: only the executions that client may see and steer.

On streamable HTTP every MCP session (Mcp-Session-Id) sees and steers only what it
started; the SDK routes a request to a session only when its id is one the bridge made.
Over stdio a bridge has one client, which sees this bridge's executions and the history
of bridges that have ended, never another running bridge's (ownership.Scope). An id the
client may not see is answered exactly as an unknown one.
"""

from __future__ import annotations

from collections.abc import Mapping

from cc_executor.generated.mcp.common import ExecutionSummary, TaskResult
from cc_executor.generated.ws.requests.hook_status import HookStatusResult

from .execution_state import ProgressListener, TrackedExecution
from .executions import Action, ExecutionManager
from .history import HistoryRow
from .output_store import StoredStream
from .settings import BridgeSettings
from .task_request import TaskRequest


class ClientView:
    def __init__(self, manager: ExecutionManager, client: str | None) -> None:
        self.manager = manager
        self.client = client  # the MCP session id on streamable HTTP; None over stdio

    @property
    def settings(self) -> BridgeSettings:
        return self.manager.settings

    @property
    def executions(self) -> Mapping[str, TrackedExecution]:
        """This client's executions that have not ended."""
        return {key: found for key, found in self.manager.executions.items() if found.client == self.client}

    def submit(self, request: TaskRequest) -> TrackedExecution:
        return self.manager.submit(request, self.client)

    async def run_to_end(self, request: TaskRequest, listener: ProgressListener | None = None) -> TaskResult:
        return await self.manager.run_to_end(request, listener, self.client)

    async def settle(self, execution: TrackedExecution, timeout_s: float) -> None:
        await self.manager.settle(execution, timeout_s)

    async def cancel_and_wait(self, execution: TrackedExecution, reason: str) -> None:
        """Cancel one of this client's executions (its tool call was cancelled) and wait until it has ended."""
        await self.manager.cancel_and_wait(execution, reason)

    def find(self, execution_id: str) -> TrackedExecution | HistoryRow | None:
        found = self.manager.find(execution_id)
        return found if found is not None and self.manager.visible(found, self.manager.scope(self.client)) else None

    def status(self, execution_id: str) -> TaskResult | None:
        return self.manager.status(execution_id) if self.find(execution_id) is not None else None

    def recent(self, limit: int) -> list[ExecutionSummary]:
        return self.manager.recent(limit, self.manager.scope(self.client))

    def read_output(
        self, execution_id: str, stream: StoredStream, offset: int, limit: int
    ) -> tuple[str, int, int, bool]:
        """KeyError for an id this client may not see."""
        if self.find(execution_id) is None:
            raise KeyError(execution_id)
        return self.manager.read_output(execution_id, stream, offset, limit)

    def has_transcript(self, execution_id: str) -> bool:
        return self.find(execution_id) is not None and self.manager.has_transcript(execution_id)

    async def control(self, execution_id: str, action: Action, reason: str) -> tuple[bool, str]:
        """KeyError for an id this client may not see."""
        if self.find(execution_id) is None:
            raise KeyError(execution_id)
        return await self.manager.control(execution_id, action, reason)

    async def hook_status(self) -> tuple[str, HookStatusResult]:
        return await self.manager.hook_status()
