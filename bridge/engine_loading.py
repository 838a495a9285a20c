"""The bridge's engine, loaded beside the MCP transport.

Importing the engine (the execution manager, the generated models, the handler client, the tool catalog) costs
about as much again as the MCP SDK itself, and a client that starts the bridge waits for its `initialize`
answer. So the transport starts at once and the engine loads in a thread when the transport says so (over stdio:
once the client has its `initialize` answer, which then does not share the CPU with the load); the first
tools/list or tools/call starts it too, and waits for it. An engine that cannot load ends the bridge with one
line, as it would at start.
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
        self._started = asyncio.Event()

    def start(self) -> None:
        """Begin loading (once); call in the running loop, whose children (the engine's tasks) exit through
        pidfds from then on."""
        if self._loading is None:
            from cc_executor.handler.launcher import watch_children_with_pidfds

            watch_children_with_pidfds()
            self._loading = asyncio.ensure_future(asyncio.to_thread(self._load))
            self._started.set()

    def _load(self) -> ToolCalls:
        from .executions import ExecutionManager
        from .tool_calls import ToolCalls

        manager = ExecutionManager(self.settings)
        manager.recover_abandoned()
        return ToolCalls(manager)

    async def loaded(self) -> ToolCalls:
        """The tools once they have loaded, or the reason they cannot be served; this does not start the load."""
        await self._started.wait()
        assert self._loading is not None
        return await asyncio.shield(self._loading)

    async def tools(self) -> ToolCalls:
        self.start()
        return await self.loaded()

    async def close(self) -> bool:
        """End every task and close the engine, once it has loaded; False when it could not load."""
        if self._loading is None:  # never asked for: nothing runs
            return True
        try:
            tools = await self.loaded()
        except Exception:
            return False
        await tools.manager.close()
        return True
