"""Pooled connections to a fleet of handlers: each task goes to the handler with the most free execution slots.

A connection carries one execution at a time (the protocol's rule), so the pool hands
out idle connections and opens new ones as needed. Where to send a task comes from each
handler's /health (running, queued, --max-running), kept up to date between fetches with
this bridge's own starts and ends. When every handler is full the task waits here, with
backoff (and at once when one of this bridge's tasks ends), up to its deadline; the
pool asks handlers not to queue (`queue: false`), so a task is either running on a
handler or still here, never waiting on a handler that may go away.

Only what provably never started moves to another handler: a connection that could not
be opened, a handshake or an execute that was refused (full, draining), a request that
never left. An `execute` that may have reached a handler which was then lost is not
sent again, unless the task opted in (retry_on_handler_loss), so a task never runs twice
behind its caller's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cc_executor.client import HandlerClient, HandlerError, HandlerUnavailable, RequestNotSent
from cc_executor.endpoints import fetch_health
from cc_executor.generated.common.permissions import PermissionRelayOptions
from cc_executor.generated.ws.requests.hook_status import HookStatusResult
from cc_executor.handler.hooks import HookListener

from .backends import HandlerExecution, PermissionRelay, StartFailed, TextSink
from .discovery import Member, Resolver, members, named_host, system_resolver

log = logging.getLogger("cc_executor.bridge")

HEALTH_TIMEOUT_S = 1.0
HEALTH_FRESH_S = 1.0  # a /health answer younger than this is trusted (with this bridge's own starts and ends)
HEALTH_RECHECK_S = 0.25  # tasks that wait ask again at most this often, however many of them wait
COOLDOWN_S = 5.0  # a handler that just failed is tried last for this long
IDLE_PER_HANDLER = 8
MAX_WAIT_BACKOFF_S = 1.0  # the longest pause between looks at a full fleet
DISCOVERY_INTERVAL_S = 30.0  # names that stand for several handlers are resolved again this often
#: Refusals that another attempt cannot fix: credentials, throttling, a socket that is not there.
NOT_RETRIED = ("HTTP 401", "HTTP 403", "HTTP 429", "no handler listens")
#: Why a handler answers an execute that it did not run (nothing started): try another, or wait.
NOT_RUN_REASONS = ("handler_full", "draining")


@dataclass
class Capacity:
    """A handler's execution slots as its /health said, with this bridge's starts and ends applied since."""

    slots: int
    busy: int  # running and queued
    draining: bool = False
    sessions: float = 0.0  # share of its connections in use: the tie-breaker

    @property
    def free(self) -> int:
        return 0 if self.draining else max(self.slots - self.busy, 0)

    @classmethod
    def of(cls, health: Any) -> Capacity:
        """From a /health answer; a handler without execution slots (older) counts its connections instead."""
        sessions = float(health["active_sessions"]) / max(int(health["max_sessions"]), 1)
        if "max_running" not in health:
            return cls(int(health["max_sessions"]), int(health["active_sessions"]), sessions=sessions)
        busy = int(health.get("running_executions", 0)) + int(health.get("queued_executions", 0))
        return cls(int(health["max_running"]), busy, bool(health.get("draining")), sessions)


@dataclass
class _Handler:
    url: str
    address: str | None = None  # one of several addresses of the URL's host name (discovery.py)
    idle: list[HandlerClient] = field(default_factory=list)
    failed_at: float = float("-inf")
    last_error: str | None = None
    capacity: Capacity | None = None  # None: unknown (no /health answer yet, or none at all)
    checked_at: float = float("-inf")
    refresh: asyncio.Future[None] | None = None  # a /health fetch beside the placements

    @property
    def name(self) -> str:
        return Member(self.url, self.address).name

    def cooling(self, now: float) -> bool:
        return now - self.failed_at < COOLDOWN_S

    def mark_full(self) -> None:
        if self.capacity is None:
            self.capacity = Capacity(slots=1, busy=1)
        self.capacity.busy = max(self.capacity.busy, self.capacity.slots)
        self.checked_at = time.monotonic()


@dataclass
class FleetWait:
    """How one task waits for a free handler: how long, who may cancel it, whom to tell."""

    deadline_s: float  # the most it waits for a free slot (its timeout, or the bridge's --queue-timeout)
    canceled: asyncio.Event = field(default_factory=asyncio.Event)
    on_wait: Callable[[str], None] = lambda message: None  # progress: "queued: ..."
    retry_on_loss: bool = False  # run again elsewhere if the handler is lost after it may have started


class FleetFull(StartFailed):
    """Every handler stayed full (or draining) until the task's deadline: nothing ran."""


class HandlerPool:
    """The handler backend: `start()` runs a command on the handler with the most free slots."""

    def __init__(
        self,
        urls: list[str],
        token: str | None,
        *,
        ca_file: Path | None = None,
        connect_attempts: int = 3,
        backoff_s: float = 0.05,
        open_timeout_s: float = 5.0,
        resolve: Resolver = system_resolver,
        discovery_interval_s: float = DISCOVERY_INTERVAL_S,
    ) -> None:
        if not urls:
            raise ValueError("at least one handler URL is needed")
        self.urls = urls
        self.resolve = resolve
        self.discovery_interval_s = discovery_interval_s
        self._discovered_at = float("-inf")
        self.token = token
        self.ca_file = ca_file
        self.connect_attempts = connect_attempts
        self.backoff_s = backoff_s
        self.open_timeout_s = open_timeout_s
        self.handlers = {url: _Handler(url) for url in urls}  # by name; names with several addresses expand
        self._placing = asyncio.Lock()  # one placement decision at a time: each sees the others' reservations
        self._freed = asyncio.Event()  # set (and replaced) whenever one of this bridge's executions ends

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
        wait: FleetWait | None = None,
        permission_relay: PermissionRelay | None = None,
    ) -> HandlerExecution:
        """The started execution. HandlerUnavailable when no handler can be reached at all (nothing started);
        FleetFull when every handler stayed full past the deadline; StartFailed when a handler refused the task
        itself, or was lost while it may have started it.

        The handler decides about `claude` itself (it runs its own hooks); the execution id is sent along, so
        its hooks see the bridge's id. With `permission_relay`, the handler relays the task's permission prompts
        over the connection (permission.requested), and HandlerExecution answers them."""
        relay_options = (
            PermissionRelayOptions(pause_timeout_while_asking=permission_relay.pause_timeout_while_asking)
            if permission_relay is not None
            else None
        )
        wait = wait or FleetWait(deadline_s=float(timeout_s or 3600))
        began = time.monotonic()
        backoff = self.backoff_s
        refresh = False  # after a pause nothing here ended: ask every handler's /health again
        while True:
            placed = await self._place(refresh)
            if placed is None:
                waited = time.monotonic() - began
                if waited >= wait.deadline_s:
                    raise FleetFull(
                        f"every handler stayed full for {waited:.0f} s (the task's queue deadline): nothing ran",
                        "Nothing ran. Add handlers or execution slots (--max-running), give a larger timeout_s or "
                        "--queue-timeout, or try again when fewer tasks run.",
                    )
                wait.on_wait(self._full_message())
                refresh = not await self._pause(min(backoff, wait.deadline_s - waited), wait.canceled)
                if wait.canceled.is_set():
                    raise StartFailed("canceled while waiting for a free handler: nothing ran")
                backoff = min(backoff * 2, MAX_WAIT_BACKOFF_S)
                continue
            handler, client = placed
            try:
                started = await client.execute(
                    command,
                    timeout=timeout_s,
                    cwd=cwd,
                    stdin=stdin,
                    execution_id=execution_id,
                    queue=False if client.can_refuse_to_queue else None,
                    permission_relay=relay_options,
                )
            except RequestNotSent as exc:  # a stale idle connection: nothing reached the handler, try again
                log.info("pooled connection was stale", extra={"event": {"handler": handler.name, "error": str(exc)}})
                self._unreserve(handler)
                continue
            except HandlerError as exc:
                client.discard_events()  # a refused execute's hook notifications
                self.release(handler, client)
                self._unreserve(handler)
                if exc.reason in NOT_RUN_REASONS:  # it ran nothing: wait for, or move to, another slot
                    self._refused(handler, exc)
                    continue
                raise StartFailed(f"the handler at {handler.name} did not start the task: {exc.message}") from exc
            except HandlerUnavailable as exc:
                self._unreserve(handler)
                self._failed(handler, str(exc))
                if wait.retry_on_loss:
                    log.warning(
                        "lost a handler while starting a task; starting it again elsewhere (retry_on_handler_loss)",
                        extra={"event": {"handler": handler.name, "error": str(exc)}},
                    )
                    continue
                raise StartFailed(
                    f"lost the connection to {handler.name} while starting the task; it was not sent elsewhere "
                    f"because it may have started there ({exc})",
                    "It may have run in part. Run it again if that is safe, or give retry_on_handler_loss: true "
                    "for tasks that may run twice.",
                    may_have_run_on=handler.name,
                ) from exc
            log.info("task started on handler", extra={"event": {"handler": handler.name, "pid": started.pid}})
            ask = permission_relay.ask if permission_relay is not None else None
            return HandlerExecution(handler.name, client, sink, functools.partial(self._ended, handler), on_hook, ask)

    # -- where a task goes ---------------------------------------------------------------------------

    async def _place(self, refresh: bool) -> tuple[_Handler, HandlerClient] | None:
        """A connection to the handler with the most free slots, one slot reserved there; None when every handler
        that answers is full or draining. HandlerUnavailable when none can be reached."""
        tried: set[str] = set()
        while True:
            async with self._placing:  # choose and reserve; connect outside, so a slow host holds nobody up
                await self._discover()
                await self._check_health(everyone=refresh)
                refresh = False
                handler = self._best(tried)
                if handler is None:
                    if any(self._up(h) for h in self.handlers.values()):
                        return None  # up, but full or draining: worth waiting for
                    errors = [h.last_error or f"{h.name}: unreachable" for h in self.handlers.values()]
                    raise HandlerUnavailable("no handler reachable: " + "; ".join(errors))
                if handler.capacity is not None:
                    handler.capacity.busy += 1  # reserved: the next placement sees it taken
            tried.add(handler.name)
            try:
                return handler, await self._connection(handler)
            except HandlerUnavailable as exc:
                self._unreserve(handler)
                if exc.status == 503:  # full of connections, or draining: up, but not taking work now
                    self._refused_handshake(handler, str(exc))
                else:
                    self._failed(handler, str(exc))

    def _best(self, tried: set[str]) -> _Handler | None:
        """The handler with the most free slots (fewest connections in use on a tie); one whose load is unknown
        after those; one that failed lately only when no handler is up at all."""
        now = time.monotonic()
        untried = [h for h in self.handlers.values() if h.name not in tried]
        candidates = [h for h in untried if not h.cooling(now) and (h.capacity is None or h.capacity.free > 0)]
        if not candidates and not any(self._up(h) for h in self.handlers.values()):
            candidates = [h for h in untried if h.cooling(now)]

        def rank(handler: _Handler) -> tuple[bool, int, float]:
            capacity = handler.capacity
            if capacity is None:
                return (True, 0, 0.0)
            return (False, -capacity.free, capacity.sessions)

        return min(candidates, key=rank, default=None)

    def _up(self, handler: _Handler) -> bool:
        """Answering, though perhaps full or draining (a draining one is replaced in a rolling restart)."""
        return handler.capacity is not None and not handler.cooling(time.monotonic())

    async def _discover(self) -> None:
        """Every DISCOVERY_INTERVAL_S: the members of names that stand for several handlers, afresh. A member that
        went keeps its running executions (their connections); its idle ones are closed."""
        if not any(named_host(url) for url in self.urls):
            return
        if time.monotonic() - self._discovered_at < self.discovery_interval_s:
            return
        self._discovered_at = time.monotonic()
        found = await members(self.urls, self.resolve)
        current = {
            member.name: self.handlers.get(member.name) or _Handler(member.url, member.address) for member in found
        }
        for name, gone in self.handlers.items():
            if name not in current:
                log.info("handler no longer in DNS", extra={"event": {"handler": name}})
                for client in gone.idle:
                    asyncio.get_running_loop().create_task(client.close())
                gone.idle = []
        added = [name for name in current if name not in self.handlers]
        if added:
            log.info("handlers found in DNS", extra={"event": {"handlers": added}})
        self.handlers = current

    async def _check_health(self, everyone: bool) -> None:
        """Fetch /health of the handlers whose last answer is stale (all of them with `everyone`), except those
        that failed lately (a host that does not answer must not slow every placement down).

        A placement waits only for handlers it knows nothing about yet, or, with `everyone` (tasks that waited for a
        slot), for all: otherwise the last answer, with this bridge's own starts and ends applied, decides, and the
        fresh one is fetched beside the task (a handler that filled up meanwhile refuses it, and it goes elsewhere)."""
        now = time.monotonic()
        stale = [
            h
            for h in self.handlers.values()
            if not h.cooling(now) and now - h.checked_at > (HEALTH_RECHECK_S if everyone else HEALTH_FRESH_S)
        ]
        waited_for = [h for h in stale if everyone or h.capacity is None]
        for handler in stale:
            if handler not in waited_for and handler.refresh is None:
                handler.refresh = asyncio.ensure_future(self._health(handler))
        await asyncio.gather(*(self._health(handler) for handler in waited_for))

    async def _health(self, handler: _Handler) -> None:
        try:
            health = await fetch_health(
                handler.url, ca_file=self.ca_file, timeout_s=HEALTH_TIMEOUT_S, address=handler.address
            )
            handler.capacity = Capacity.of(health)
        except Exception:  # unreachable, or not a cc-executor handler: its answer to a connection will say
            handler.capacity = None
        finally:
            handler.refresh = None
        handler.checked_at = time.monotonic()

    async def _connection(self, handler: _Handler) -> HandlerClient:
        while handler.idle:
            client = handler.idle.pop()
            if not client.closed:
                return client
        for attempt in range(self.connect_attempts):
            try:
                client = await HandlerClient.connect(
                    handler.url,
                    self.token,
                    open_timeout=self.open_timeout_s,
                    ca_file=self.ca_file,
                    address=handler.address,
                )
            except HandlerUnavailable as exc:
                if exc.status == 503 or any(reason in str(exc) for reason in NOT_RETRIED):
                    raise
                if attempt + 1 == self.connect_attempts:
                    raise
                await asyncio.sleep(self.backoff_s * 2**attempt)
                continue
            handler.failed_at, handler.last_error = float("-inf"), None
            return client
        raise AssertionError("unreachable: the last attempt raises")

    async def _pause(self, seconds: float, canceled: asyncio.Event) -> bool:
        """Wait `seconds`, or until one of this bridge's executions ends (True) or the task is canceled."""
        freed = asyncio.ensure_future(self._freed.wait())
        stop = asyncio.ensure_future(canceled.wait())
        done, pending = await asyncio.wait(
            [freed, stop], timeout=max(seconds, 0.0), return_when=asyncio.FIRST_COMPLETED
        )
        for future in pending:
            future.cancel()
        return freed in done

    def _full_message(self) -> str:
        known = [h.capacity for h in self.handlers.values() if h.capacity is not None]
        busy = sum(min(c.busy, c.slots) for c in known if not c.draining)
        slots = sum(c.slots for c in known if not c.draining)
        draining = sum(1 for c in known if c.draining)
        more = f", {draining} draining" if draining else ""
        return f"queued: every handler is full ({busy} of {slots} execution slots in use{more}); waiting for one"

    # -- what happened ---------------------------------------------------------------------------------

    def _unreserve(self, handler: _Handler) -> None:
        if handler.capacity is not None:
            handler.capacity.busy = max(handler.capacity.busy - 1, 0)

    def _refused(self, handler: _Handler, refusal: HandlerError) -> None:
        log.info("handler took no task", extra={"event": {"handler": handler.name, "reason": refusal.reason}})
        handler.mark_full()
        if refusal.reason == "draining" and handler.capacity is not None:
            handler.capacity.draining = True

    def _refused_handshake(self, handler: _Handler, error: str) -> None:
        handler.last_error = error
        handler.mark_full()
        if "draining" in error and handler.capacity is not None:
            handler.capacity.draining = True

    def _failed(self, handler: _Handler, error: str) -> None:
        handler.failed_at, handler.last_error = time.monotonic(), error
        handler.capacity, handler.checked_at = None, float("-inf")

    def _ended(self, handler: _Handler, client: HandlerClient, lost: bool) -> None:
        """One of this bridge's executions on `handler` ended (or its connection was lost)."""
        if lost:
            self._failed(handler, f"lost the connection to {handler.name}")
        else:
            self._unreserve(handler)
        self.release(handler, client)
        self._freed.set()
        self._freed = asyncio.Event()

    def release(self, handler: _Handler, client: HandlerClient) -> None:
        member = self.handlers.get(handler.name) is handler  # not one that left the DNS meanwhile
        if client.closed or not member or len(handler.idle) >= IDLE_PER_HANDLER:
            asyncio.get_running_loop().create_task(client.close())
            return
        handler.idle.append(client)

    # -- other requests ------------------------------------------------------------------------------

    async def acquire(self) -> tuple[_Handler, HandlerClient]:
        """A connection to any handler that answers (for requests that run nothing)."""
        errors = []
        for handler in sorted(self.handlers.values(), key=lambda h: h.cooling(time.monotonic())):
            try:
                return handler, await self._connection(handler)
            except HandlerUnavailable as exc:
                self._failed(handler, str(exc))
                errors.append(str(exc))
        raise HandlerUnavailable("no handler reachable: " + "; ".join(errors))

    async def hook_status(self) -> tuple[str, HookStatusResult]:
        handler, client = await self.acquire()
        try:
            status = await client.hook_status()
        finally:
            self.release(handler, client)
        return handler.name, status

    async def close(self) -> None:
        refreshes = [handler.refresh for handler in self.handlers.values() if handler.refresh is not None]
        for refresh in refreshes:
            refresh.cancel()
        await asyncio.gather(*refreshes, return_exceptions=True)
        for handler in self.handlers.values():
            idle, handler.idle = handler.idle, []
            for client in idle:
                with contextlib.suppress(Exception):
                    await client.close()
