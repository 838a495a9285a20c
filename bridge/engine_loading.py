"""The bridge's engine, loaded beside the MCP transport.

Importing the engine (the execution manager, the generated models, the handler client, the tool catalog) costs
about as much again as the MCP SDK itself, and a client that starts the bridge waits for its `initialize`
answer. So the transport starts at once and the engine loads in a thread meanwhile; the first tools/list or
tools/call waits for it. An engine that cannot load ends the bridge with one line, as it would at start.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .settings import BridgeSettings

if TYPE_CHECKING:
    from .tool_calls import ToolCalls


class LoadingEngine:
    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self._loading: asyncio.Future[ToolCalls] | None = None

    def start(self) -> asyncio.Future[ToolCalls]:
        """Begin loading (once); the future is the tools, or the reason they cannot be served."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(asyncio.to_thread(self._load))
        return self._loading

    def _load(self) -> ToolCalls:
        from .executions import ExecutionManager
        from .tool_calls import ToolCalls

        manager = ExecutionManager(self.settings)
        manager.recover_abandoned()
        return ToolCalls(manager)

    async def tools(self) -> ToolCalls:
        return await asyncio.shield(self.start())

    async def close(self) -> bool:
        """End every task and close the engine, once it has loaded; False when it could not load."""
        try:
            tools = await self.tools()
        except Exception:
            return False
        await tools.manager.close()
        return True
