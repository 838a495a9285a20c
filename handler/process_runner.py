"""The one execution core: a shell command in its own process group, streamed and steered.

The handler and the bridge's local fallback both run processes through this
module, so process-group handling, streaming, pause/resume, cancel and timeout
behave the same wherever a task runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .cgroups import ExecutionCgroup
from .execution_types import Completion, CompletionStatus, OutputPiece, RunLimits, StreamName
from .launcher import EXECUTION_TAG_ENV, READ_SIZE, Children, Launcher, Started, start_fresh
from .output_framer import Framing, OutputFramer
from .proc_scan import all_pids, children, descendants, group_alive, pid_alive, with_environment_entry, zombie

log = logging.getLogger("cc_executor.handler")

#: Receives the pieces of one stream that are ready, a batch per read (the session frames them in one write).
OutputSink = Callable[[StreamName, list[OutputPiece]], Awaitable[None]]

#: Variables a nested `claude` must not inherit: with them it refuses to start, or believes it runs
#: inside the orchestrator's session (whose id, messaging socket and token, launcher and notes they
#: name: the real CLI 2.1.330 sets them for the commands and MCP servers it starts). Credentials
#: and user configuration (ANTHROPIC_API_KEY, CLAUDE_CONFIG_DIR, ...) pass. The token never leaves.
ORCHESTRATOR_SESSION_ENV = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_CODE_SESSION_KIND",
    "CLAUDE_CODE_SESSION_NAME",
    "CLAUDE_CODE_SESSION_ATTENDED",
    "CLAUDE_CODE_CHILD_SESSION",
    "CLAUDE_CODE_MESSAGING_SOCKET",
    "CLAUDE_CODE_MESSAGING_TOKEN",
    "CLAUDE_CODE_LAUNCHED_BY_SESSION_IDS",
    "CLAUDE_CODE_CHILD_NOTES_DIR",
    "CLAUDE_CODE_SHELL_MCP_SERVERS",
    "CLAUDE_CODE_STARTER_MAY_HOLD_CONNECTOR_FILE",
    "CLAUDE_CODE_SSE_PORT",
    "CLAUDE_PROJECT_DIR",
    "CLAUDE_PID",
)
ALWAYS_SCRUBBED = (*ORCHESTRATOR_SESSION_ENV, "CC_EXECUTOR_TOKEN")

FLUSH_DELAY_S = 0.02  # how long a half-written line may wait for its end
POLL_S = 0.01


class SpawnError(Exception):
    """The process could not be started (bad cwd, no /bin/sh, out of resources)."""


def child_environment(base: Mapping[str, str], scrub: Iterable[str] = ()) -> dict[str, str]:
    """The parent's environment less what breaks nested agents and the configured secrets."""
    dropped = set(ALWAYS_SCRUBBED) | set(scrub)
    return {name: value for name, value in base.items() if name not in dropped}


def launcher(limits: RunLimits) -> Launcher:
    """A launcher for a long-lived owner that runs executions with `limits` (close it when done)."""
    return Launcher(lambda: child_environment(os.environ, limits.scrub_env))


def become_subreaper() -> bool:
    """Adopt orphaned grandchildren (Linux), so their exit can be seen and reaped here.

    Without it a process the command left behind is re-parented to PID 1, and its
    zombie keeps the process group looking alive until PID 1 gets round to it.
    """
    global _SUBREAPER
    if _SUBREAPER is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _SUBREAPER = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _SUBREAPER = False
    return _SUBREAPER


PR_SET_CHILD_SUBREAPER = 36
_SUBREAPER: bool | None = None
STRAY_REAP_INTERVAL_S = 2.0


def tagged_processes(tag: str, *, everywhere: bool = False) -> list[int]:
    """Live processes whose environment carries this execution tag.

    As a subreaper this process adopts every orphan of its executions, so looking at
    its own descendants finds them all; otherwise (or `everywhere`, for the leftovers
    of an earlier process) every readable process is looked at.
    """
    candidates = descendants(os.getpid()) if _SUBREAPER and not everywhere else all_pids()
    return with_environment_entry(f"{EXECUTION_TAG_ENV}={tag}".encode(), candidates)


def escalation(send: Callable[[int], None], alive: Callable[[], bool], grace_s: float) -> Iterator[float]:
    """The one way processes are ended: SIGTERM, up to `grace_s` for them to go, then SIGKILL and as long again.

    It yields how long to wait before looking again, so the same steps serve a blocking
    caller (time.sleep) and the event loop (asyncio.sleep).
    """
    for signum in (signal.SIGTERM, signal.SIGKILL):
        send(signum)
        deadline = time.monotonic() + grace_s
        while alive() and time.monotonic() < deadline:
            yield POLL_S
        if not alive():
            return


def end_tagged_processes(tag: str, grace_s: float = 2.0) -> list[int]:
    """End every process left over from an execution of an earlier process (blocking; runs at startup)."""
    found = tagged_processes(tag, everywhere=True)
    for pause in escalation(lambda signum: _kill_all(found, signum), lambda: any(map(pid_alive, found)), grace_s):
        time.sleep(pause)
    cgroup = ExecutionCgroup.of_tag(tag)
    if cgroup is not None:  # what dropped the tag too
        found += [pid for pid in cgroup.end() if pid not in found]
    return found


def _kill_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _reap_strays() -> None:
    """Reap adopted processes that left their group (daemons) and have exited since (never a leader: asyncio
    waits for those, and a start in progress may not have said which pid it got yet)."""
    if Children.spawning:
        return
    try:  # one system call, where a scan of /proc costs a read per thread: has any child ended at all?
        if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            return
    except ChildProcessError:  # no children
        return
    for pid in children(os.getpid()):
        if pid not in Children.leaders and zombie(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


async def reap_strays_forever(interval_s: float = STRAY_REAP_INTERVAL_S) -> None:
    """A daemon that an execution left behind may exit long after its execution ended: reap it then, so a
    long-running handler or bridge (a subreaper) never collects zombies. Only where `reap_strays` is safe."""
    while True:
        await asyncio.sleep(interval_s)
        _reap_strays()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass
class _Clock:
    """Wall time, and active time: the timeout's clock, which stops while the group is paused and while a hold
    is on (a permission request waiting for its answer, when the task asked for that)."""

    started: float = field(default_factory=time.monotonic)
    paused_since: float | None = None
    holds: int = 0
    stopped_total: float = 0.0
    stopped_since: float | None = None

    @property
    def counting(self) -> bool:
        return self.paused_since is None and self.holds == 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def active(self) -> float:
        stopped = self.stopped_total
        if self.stopped_since is not None:
            stopped += time.monotonic() - self.stopped_since
        return self.elapsed() - stopped

    def pause(self) -> None:
        self.paused_since = time.monotonic()
        self._settle()

    def resume(self) -> None:
        self.paused_since = None
        self._settle()

    def hold(self) -> None:
        self.holds += 1
        self._settle()

    def release(self) -> None:
        self.holds = max(0, self.holds - 1)
        self._settle()

    def _settle(self) -> None:
        now = time.monotonic()
        if not self.counting and self.stopped_since is None:
            self.stopped_since = now
        elif self.counting and self.stopped_since is not None:
            self.stopped_total += now - self.stopped_since
            self.stopped_since = None


class RunningProcess:
    """One started process group; `wait()` returns its Completion exactly once it is gone."""

    def __init__(
        self,
        started: Started,
        command: str,
        timeout_s: float | None,
        sink: OutputSink,
        limits: RunLimits,
        framing: Framing,
        stdin: bytes | None = None,
    ) -> None:
        self.process = started.process
        self.tag = started.tag
        self.cgroup = started.cgroup
        self._cgroup_ended = False
        self._transport = started.transport
        self._exited = started.exited
        self.pid = self.process.pid
        self.pgid = self.pid  # start_new_session: the leader's pid is the group's id
        self.command = command
        self.timeout_s = timeout_s
        self.clock = _Clock()
        self.bytes_out: dict[StreamName, int] = {"stdout": 0, "stderr": 0}
        self._sink = sink
        self._limits = limits
        self._framing: Framing = framing
        self._stop_reason: tuple[CompletionStatus, str] | None = None
        self._stop_requested = asyncio.Event()
        self._counting = asyncio.Event()  # set while the timeout's clock runs
        self._counting.set()
        self._open_streams: set[StreamName] = {"stdout", "stderr"}
        self._reading: set[StreamName] = set()  # pumps waiting on the pipe, not on the sink
        self._feeder = asyncio.create_task(self._feed_stdin(stdin), name=f"stdin {self.pid}") if stdin else None
        self._supervisor = asyncio.create_task(self._supervise(), name=f"execution {self.pid}")

    @classmethod
    async def start(
        cls,
        command: str,
        sink: OutputSink,
        *,
        cwd: str | None = None,
        timeout_s: float | None = None,
        limits: RunLimits = RunLimits(),
        environ: Mapping[str, str] | None = None,
        framing: Framing = "batched",
        stdin: bytes | None = None,
        launcher: Launcher | None = None,
    ) -> RunningProcess:
        """Spawn `/bin/sh -c command` in a new session (from `launcher`'s ready shell when it has one); `framing`
        cuts its output into pieces.

        Its stdin is closed, or with `stdin` a pipe that gets those bytes and is then closed (written
        beside the run, so a process that never reads them blocks nothing but its own writer)."""
        if cwd is not None and not os.path.isdir(cwd):
            raise SpawnError(f"working directory does not exist: {cwd}")
        become_subreaper()
        environment = child_environment(os.environ if environ is None else environ, limits.scrub_env)
        try:
            if launcher is None:
                started = await start_fresh(command, cwd=cwd, environment=environment, stdin=bool(stdin))
            else:
                started = await launcher.start(command, cwd=cwd, environment=environment, stdin=bool(stdin))
        except (OSError, ValueError) as exc:  # ValueError: e.g. a NUL character in the command or cwd
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise SpawnError(f"could not start the process: {detail}") from exc
        return cls(started, command, timeout_s, sink, limits, framing, stdin)

    # -- steering -------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.clock.paused_since is not None

    @property
    def stopping(self) -> bool:
        return self._stop_reason is not None

    @property
    def done(self) -> bool:
        return self._supervisor.done()

    def pause(self) -> bool:
        """SIGSTOP the whole group; False if it was already paused or is ending."""
        if self.paused or self.stopping or self.done:
            return False
        self._signal_group(signal.SIGSTOP)
        self.clock.pause()
        self._clock_changed()
        return True

    def resume(self) -> bool:
        """SIGCONT the whole group; False if it was not paused."""
        if not self.paused:
            return False
        self._signal_group(signal.SIGCONT)
        self.clock.resume()
        self._clock_changed()
        return True

    def cancel(self, reason: str = "Canceled by the client") -> bool:
        """Terminate the whole group (SIGTERM, grace, SIGKILL); False if already ending."""
        return self._request_stop("canceled", reason)

    async def wait(self) -> Completion:
        return await asyncio.shield(self._supervisor)

    @contextlib.contextmanager
    def timeout_held(self) -> Iterator[None]:
        """While open, the timeout's clock stands still (as while paused), though the group runs on."""
        self.clock.hold()
        self._clock_changed()
        try:
            yield
        finally:
            self.clock.release()
            self._clock_changed()

    def _clock_changed(self) -> None:
        if self.clock.counting:
            self._counting.set()
        else:
            self._counting.clear()

    # -- inside ---------------------------------------------------------------

    async def _feed_stdin(self, data: bytes) -> None:
        """Write `data` to the process's stdin, then close it; a process that exits or closes it first is no error."""
        writer = self.process.stdin
        assert writer is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            writer.close()

    def _request_stop(self, status: CompletionStatus, reason: str) -> bool:
        if self._stop_reason is not None or self.done:
            return False
        self._stop_reason = (status, reason)
        self._stop_requested.set()
        return True

    def _signal_group(self, signum: int) -> bool:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)
            return True
        return False

    def _group_alive(self) -> bool:
        """True while a live process is in the group (zombies we adopted are reaped first)."""
        if self.process.returncode is not None:
            self._reap_group()
        return group_alive(self.pgid)

    async def _end_escaped(self) -> bool:
        """End processes that left the group (SIGTERM, then SIGKILL): those still in the execution's cgroup where it
        has one (one read; a process that left the cgroup too needs rights that would let it drop its tag as
        well), else those that carry its tag (a scan of this process's descendants). Whether there were any."""
        escaped = self.cgroup.pids() if self.cgroup is not None else tagged_processes(self.tag)
        if not escaped:
            return False
        log.info("ending processes that left the group", extra={"event": {"pid": self.pid, "escaped": escaped}})

        def alive() -> bool:
            nonlocal escaped
            if self._limits.reap_strays:
                _reap_strays()
            escaped = [pid for pid in escaped if pid_alive(pid)]
            return bool(escaped)

        for pause in escalation(lambda signum: _kill_all(escaped, signum), alive, self._limits.kill_grace_s):
            await asyncio.sleep(pause)
        return True

    async def _end_cgroup(self, recheck: bool) -> None:
        """Kill what is left in the execution's cgroup (what left the group and dropped the tag), and remove it.
        Without `recheck` it was just read empty: it is only removed."""
        if self.cgroup is None:
            return
        self._cgroup_ended = True
        if not (recheck and self.cgroup.populated()):  # the usual case: everything ended with the group
            self.cgroup.remove_soon()
            return
        left = await asyncio.to_thread(self.cgroup.end)
        if left:
            log.info("ended processes that escaped group and tag", extra={"event": {"pid": self.pid, "left": left}})
        if self._limits.reap_strays:
            _reap_strays()

    def _reap_group(self) -> None:
        """Reap exited members of the group that were re-parented to us.

        Called only after asyncio has reaped the leader, so it never steals its status.
        """
        while True:
            try:
                if os.waitid(os.P_PGID, self.pgid, os.WEXITED | os.WNOHANG) is None:
                    return
            except ChildProcessError:
                return

    async def _supervise(self) -> Completion:
        pumps = asyncio.gather(self._pump("stdout", self.process.stdout), self._pump("stderr", self.process.stderr))
        exited = self._exited
        timer = asyncio.ensure_future(self._watch_timeout())
        stop = asyncio.ensure_future(self._stop_requested.wait())
        try:
            ending: set[asyncio.Future[Any]] = {exited, stop}
            await asyncio.wait(ending, return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():
                await self._terminate_group(exited)
            elif self._group_alive():
                # The leader is gone; give its children a moment to finish writing,
                # then end them too: nothing outlives its execution.
                await asyncio.wait({pumps}, timeout=self._limits.drain_grace_s)
                if self._group_alive():
                    await self._terminate_group(exited)
            await self._drain(pumps)
            await self._end_cgroup(recheck=await self._end_escaped())
        finally:
            for task in (timer, stop, self._feeder):
                if task is not None:
                    task.cancel()
            if not exited.done():  # only when we are cancelled ourselves
                self._signal_group(signal.SIGKILL)
            if self.cgroup is not None and not self._cgroup_ended:  # cancelled before _end_cgroup ran
                self.cgroup.end()  # blocks briefly: nothing can be awaited any more
            pumps.cancel()
            with contextlib.suppress(BaseException):
                await pumps
            self._transport.close()  # release pipes a daemon may still hold
            Children.leaders.discard(self.pid)
            if self._limits.reap_strays:
                _reap_strays()
        return self._completion(self.process.returncode)

    async def _pump(self, name: StreamName, reader: asyncio.StreamReader | None) -> None:
        assert reader is not None
        framer = OutputFramer(self._limits.frame_chars, self._framing)
        pending_read: asyncio.Future[bytes] | None = None
        while True:
            if pending_read is None:
                pending_read = asyncio.ensure_future(reader.read(READ_SIZE))
            self._reading.add(name)
            if framer.has_pending and framer.flushes_partial_lines and not pending_read.done():
                await asyncio.wait({pending_read}, timeout=FLUSH_DELAY_S)
                if not pending_read.done():
                    self._reading.discard(name)
                    await self._send(name, framer.flush())
                    continue
            data = await pending_read
            self._reading.discard(name)
            pending_read = None
            if not data:
                break
            self.bytes_out[name] += len(data)
            await self._send(name, framer.feed(data))
        await self._send(name, framer.finish())
        self._open_streams.discard(name)

    async def _send(self, name: StreamName, pieces: list[OutputPiece]) -> None:
        if pieces:
            await self._sink(name, pieces)

    async def _watch_timeout(self) -> None:
        if self.timeout_s is None:
            return
        while True:
            await self._counting.wait()
            remaining = self.timeout_s - self.clock.active()
            if remaining <= 0:
                seconds = f"{self.timeout_s:g}"
                self._request_stop("timed_out", f"Timed out after {seconds} s; the process group was terminated")
                return
            await asyncio.sleep(remaining)  # then look again: a pause or hold meanwhile left time over

    async def _terminate_group(self, exited: asyncio.Future[None]) -> None:
        """SIGTERM the group (continuing it if paused), then SIGKILL after the grace period."""

        def send(signum: int) -> None:
            self._signal_group(signum)
            if signum == signal.SIGTERM:  # a stopped process cannot act on SIGTERM
                self._signal_group(signal.SIGCONT)
                self.clock.resume()
                self._clock_changed()

        def alive() -> bool:
            return not exited.done() or self._group_alive()

        for pause in escalation(send, alive, self._limits.kill_grace_s):
            await asyncio.sleep(pause)
        await exited

    async def _drain(self, pumps: asyncio.Future[tuple[None, None]]) -> None:
        """Wait for all output; stop waiting for pipes held open by processes outside the group."""
        idle_since: float | None = None
        while not pumps.done():
            await asyncio.wait({pumps}, timeout=0.1)
            starved = bool(self._open_streams) and self._open_streams <= self._reading
            if pumps.done() or not starved or self._group_alive():
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > self._limits.drain_grace_s:
                self._transport.close()  # feeds EOF to both readers
                await pumps
        await pumps

    def _completion(self, returncode: int | None) -> Completion:
        signal_name = _signal_name(-returncode) if returncode is not None and returncode < 0 else None
        if self._stop_reason is not None:
            status, error = self._stop_reason
        elif returncode == 0:
            status, error = "completed", None
        else:
            status = "failed"
            error = f"Killed by {signal_name}" if signal_name else None
        return Completion(
            status=status,
            exit_code=returncode,
            signal=signal_name,
            error=error,
            execution_time=self.clock.elapsed(),
            stdout_bytes=self.bytes_out["stdout"],
            stderr_bytes=self.bytes_out["stderr"],
            timeout_s=self.timeout_s,
        )
