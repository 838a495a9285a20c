"""`cc-executor status`: a live table of a handler's sessions, their running executions, those whose pre-execution
hooks run and those waiting for a slot."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cc_executor.client import HandlerClient
from cc_executor.endpoints import fetch_health
from cc_executor.generated.ws.requests.sessions import SessionInfo, SessionsResult
from cc_executor.terminal_text import literal


def render(url: str, health: dict[str, Any] | None, sessions: SessionsResult, own_session: str) -> Group:
    others = [s for s in sessions.sessions if s.session_id != own_session]
    running = sum(1 for s in others if s.execution is not None)
    queued = sum(1 for s in others if s.queued_execution is not None)
    starting = sum(1 for s in others if s.starting_execution is not None)
    version = health.get("version", "?") if health else "?"
    uptime = f"{health['uptime_seconds']:.0f} s" if health else "?"
    header = Text.assemble(
        literal(url, "bold"),
        literal(f"  version {version}  up {uptime}  sessions {len(others)}/{sessions.max_sessions}"),
        f" (plus this viewer)  running {running}  starting {starting}  queued {queued}",
    )
    table = Table(expand=True)
    for column in ("session", "connected", "execution", "state", "pid", "elapsed", "active", "out bytes", "command"):
        table.add_column(column, overflow="ellipsis", no_wrap=column != "command")
    for session in sorted(others, key=lambda s: -s.connected_s):
        table.add_row(*(literal(cell) for cell in _row(session)))
    return Group(header, table)


def _row(session: SessionInfo) -> list[str]:
    head = [session.session_id[:8], f"{session.connected_s:.0f} s"]
    starting, waiting, execution = session.starting_execution, session.queued_execution, session.execution
    if starting is not None:  # its pre-execution hooks run
        return head + _not_started(
            starting.execution_id, f"{starting.state} (hooks)", starting.starting_s, starting.command
        )
    if waiting is not None:  # its place in the queue beside its state
        return head + _not_started(
            waiting.execution_id, f"{waiting.state} #{waiting.position}", waiting.queued_s, waiting.command
        )
    if execution is None:
        return head + ["-", "idle", "", "", "", "", ""]
    return head + [
        execution.execution_id[:12],
        execution.state,
        str(execution.pid),
        f"{execution.elapsed_s:.1f} s",
        f"{execution.active_s:.1f} s",
        str((execution.stdout_bytes or 0) + (execution.stderr_bytes or 0)),
        execution.command[:200],
    ]


def _not_started(execution_id: str, state: str, waited_s: float, command: str) -> list[str]:
    """An execution without a process yet: no pid, active time or output; elapsed is how long it has waited."""
    return [execution_id[:12], state, "", f"{waited_s:.1f} s", "", "", command[:200]]


async def show_status(
    url: str, token: str | None, once: bool, interval_s: float = 1.0, ca_file: Path | None = None
) -> int:
    console = Console()
    async with await HandlerClient.connect(url, token, ca_file=ca_file) as client:

        async def snapshot() -> Group:
            health = None
            with contextlib.suppress(httpx.HTTPError, OSError, ValueError):
                health = await fetch_health(url, ca_file=ca_file)
            return render(url, health, await client.sessions(), client.greeting.session_id)

        if once:
            console.print(await snapshot())
            return 0
        with Live(await snapshot(), console=console, refresh_per_second=4) as live:
            while not client.closed:
                await asyncio.sleep(interval_s)
                live.update(await snapshot())
    return 1
