"""Pooled connections to one or more handlers, chosen by health, with retry for connection setup only.

A connection carries one execution at a time (the protocol's rule), so the pool
hands out idle connections and opens new ones as needed. Only opening a
connection is retried: an `execute` that may have reached a handler is never
sent again, so a task never runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from cc_executor.client import HandlerClient, HandlerError, HandlerUnavailable, RequestNotSent
from cc_executor.endpoints import fetch_health
from cc_executor.generated.common.permissions import PermissionRelayOptions
from cc_executor.generated.ws.requests.hook_status import HookStatusResult
from cc_executor.handler.hooks import HookListener

from .backends import HandlerExecution, PermissionRelay, StartFailed, TextSink

log = logging.getLogger("cc_executor.bridge")

HEALTH_TIMEOUT_S = 1.0
COOLDOWN_S = 5.0  # a handler that just failed is tried last for this long
IDLE_PER_HANDLER = 8
#: Refusals that another attempt cannot fix: credentials, throttling, a socket that is not there.
NOT_RETRIED = ("HTTP 401", "HTTP 403", "HTTP 429", "no handler listens")


@dataclass
class _Handler:
    url: str
    idle: list[HandlerClient] = field(default_factory=list)
    failed_at: float = 0.0
    last_error: str | None = None


class HandlerPool:
    """The handler backend: `start()` runs a command on the best reachable handler."""

    def __init__(
        self,
        urls: list[str],
        token: str | None,
        *,
        ca_file: Path | None = None,
        connect_attempts: int = 3,
        backoff_s: float = 0.05,
        open_timeout_s: float = 5.0,
    ) -> None:
        if not urls:
            raise ValueError("at least one handler URL is needed")
        self.token = token
        self.ca_file = ca_file
        self.connect_attempts = connect_attempts
        self.backoff_s = backoff_s
        self.open_timeout_s = open_timeout_s
        self.handlers = {url: _Handler(url) for url in urls}

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
    ) -> HandlerExecution:
        """Raises HandlerUnavailable when no handler takes the task (then nothing started anywhere).

        The handler decides about `claude` itself (it runs its own hooks); the execution id is sent along, so
        its hooks see the bridge's id. With `permission_relay`, the handler relays the task's permission prompts
        over the connection (permission.requested), and HandlerExecution answers them."""
        relay_options = (
            PermissionRelayOptions(pause_timeout_while_asking=permission_relay.pause_timeout_while_asking)
            if permission_relay is not None
            else None
        )
        while True:
            handler, client = await self.acquire()
            try:
                started = await client.execute(
                    command,
                    timeout=timeout_s,
                    cwd=cwd,
                    stdin=stdin,
                    execution_id=execution_id,
                    permission_relay=relay_options,
                )
            except RequestNotSent as exc:  # a stale idle connection: nothing reached the handler, try another
                log.info("pooled connection was stale", extra={"event": {"handler": handler.url, "error": str(exc)}})
                continue
            except HandlerError as exc:
                client.discard_events()  # a refused execute's hook notifications
                self.release(handler, client)
                raise StartFailed(f"the handler at {handler.url} did not start the task: {exc.message}") from exc
            except HandlerUnavailable as exc:
                raise StartFailed(
                    f"lost the connection to {handler.url} while starting the task; it was not retried "
                    f"because it may have started ({exc})"
                ) from exc
            log.info("task started on handler", extra={"event": {"handler": handler.url, "pid": started.pid}})
            ask = permission_relay.ask if permission_relay is not None else None
            release = functools.partial(self.release, handler)
            return HandlerExecution(handler.url, client, sink, release, on_hook, ask)

    async def acquire(self) -> tuple[_Handler, HandlerClient]:
        for handler in self.handlers.values():
            while handler.idle:
                client = handler.idle.pop()
                if not client.closed:
                    return handler, client
        errors = []
        for handler in await self._by_preference():
            for attempt in range(self.connect_attempts):
                try:
                    client = await HandlerClient.connect(
                        handler.url, self.token, open_timeout=self.open_timeout_s, ca_file=self.ca_file
                    )
                except HandlerUnavailable as exc:
                    handler.failed_at, handler.last_error = time.monotonic(), str(exc)
                    if any(reason in str(exc) for reason in NOT_RETRIED):
                        break
                    if attempt + 1 < self.connect_attempts:
                        await asyncio.sleep(self.backoff_s * 2**attempt)
                    continue
                handler.failed_at, handler.last_error = 0.0, None
                return handler, client
            errors.append(handler.last_error or f"{handler.url}: unreachable")
        raise HandlerUnavailable("no handler reachable: " + "; ".join(errors))

    def release(self, handler: _Handler, client: HandlerClient) -> None:
        if client.closed or len(handler.idle) >= IDLE_PER_HANDLER:
            asyncio.get_running_loop().create_task(client.close())
            return
        handler.idle.append(client)

    async def hook_status(self) -> tuple[str, HookStatusResult]:
        handler, client = await self.acquire()
        try:
            status = await client.hook_status()
        finally:
            self.release(handler, client)
        return handler.url, status

    async def close(self) -> None:
        for handler in self.handlers.values():
            idle, handler.idle = handler.idle, []
            for client in idle:
                with contextlib.suppress(Exception):
                    await client.close()

    async def _by_preference(self) -> list[_Handler]:
        """Healthy handlers first, least loaded first; recently failed ones last."""
        if len(self.handlers) == 1:
            return list(self.handlers.values())
        loads = await asyncio.gather(*(self._load(h) for h in self.handlers.values()))
        now = time.monotonic()
        ranked = sorted(
            zip(loads, self.handlers.values(), strict=True),
            key=lambda pair: (now - pair[1].failed_at < COOLDOWN_S, pair[0]),
        )
        return [handler for _, handler in ranked]

    async def _load(self, handler: _Handler) -> float:
        """Fraction of sessions in use; 2.0 when the handler does not answer /health."""
        try:
            health = await fetch_health(handler.url, ca_file=self.ca_file, timeout_s=HEALTH_TIMEOUT_S)
            return float(health["active_sessions"]) / max(int(health["max_sessions"]), 1)
        except Exception:  # unreachable, or not a cc-executor handler: try it last
            return 2.0
