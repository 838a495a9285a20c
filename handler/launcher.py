"""Starting an execution's shell: from one made ready beforehand when there is one, else from scratch.

Moving a new process into its own cgroup (cgroups.py) waits for a full RCU grace period when
moves are spread out (about 12 ms on the reference VM), more than everything else a task costs
the bridge. A `Launcher` keeps shells ready between executions: each already in a fresh cgroup,
its pipes made, in a session of its own, blocked reading one line on its stdin. An execution
sends that line (cd, the changes to the environment it was started with, `exec /bin/sh -c
command`), and the command starts with what a fresh `/bin/sh -c command` gets: its working
directory, its environment, the pipes, its own process group and the cgroup. The move's wait
is paid while nothing waits for it, and the next ready shell is made shortly after one is used.

A command that is `exec` and literal words (the bridge runs Claude so) is run by the ready
shell itself, which saves starting a second shell. A ready shell is used only where it is
exact; otherwise (no cgroup to put it in, a variable name the shell cannot export, a NUL
character, a line so long the shell would read it slowly, another event loop, a ready shell
that died) the execution starts from scratch as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import sys
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .cgroups import ExecutionCgroup, removals_done

#: The shell's `read` takes one byte per system call: beyond this a fresh start is quicker.
MAX_LINE_BYTES = 4096
#: How long closing waits for an unused ready shell to go (it ends on EOF, else it is killed).
CLOSE_WAIT_S = 2.0
#: The next shell is made this long after a start, not during it: making one costs this process a spawn
#: (~1 ms of the event loop), and the new shell's move holds the cgroup lock for a grace period (~12 ms).
REFILL_DELAY_S = 0.05
#: Shells kept ready: two, so that a task started right after another (the first one's refill still waiting
#: for its move) finds one too.
READY_SHELLS = 2

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORD = r"""(?:[A-Za-z0-9_@%+=:,./-]+|'[^']*'(?:"'"'[^']*')*)"""  # what shlex.quote makes of a word
_LITERAL_EXEC = re.compile(rf"exec(?: {_WORD})+")
#: Run by the ready shell: join the cgroup ($1), then run the one line it is sent ($n is a newline, for values that
#: hold one). Without a line (the launcher closed, or its process died) it just ends.
_READY_SCRIPT = '{ echo 0 >"$1"; } 2>/dev/null; n="\n"; IFS= read -r line || exit 0; eval "$line"'

#: Every process of an execution carries this in its environment, so one that leaves the
#: process group (a daemon: setsid, double fork) is still found and ended with it.
EXECUTION_TAG_ENV = "CC_EXECUTOR_EXECUTION_TAG"
READ_SIZE = 256 * 1024


class Children:
    """This process's execution shells, as the stray reaper must know them."""

    leaders: set[int] = set()  # leaders asyncio reaps itself; never reap them elsewhere
    spawning = 0  # starts in progress: a leader that already exited is not in `leaders` yet


class _ExitAwareProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """Tells when the leader exits, even while a grandchild still holds the pipes.

    (On Python 3.11 `Process.wait()` waits for the pipes to close as well.)
    """

    def __init__(self, exited: asyncio.Future[None]) -> None:
        super().__init__(limit=READ_SIZE, loop=asyncio.get_running_loop())
        self._exited_future = exited

    def process_exited(self) -> None:
        super().process_exited()
        if not self._exited_future.done():
            self._exited_future.set_result(None)


@dataclass
class Started:
    """A shell that runs (or is ready to run) an execution's command."""

    transport: asyncio.SubprocessTransport
    process: asyncio.subprocess.Process
    exited: asyncio.Future[None]  # resolved when the process has exited (before its pipes are drained)
    tag: str
    cgroup: ExecutionCgroup | None


def watch_children_with_pidfds() -> None:
    """Learn of children's exits through pidfds in the event loop (Linux; Python 3.12 does so by itself): Python
    3.11's default watcher starts a thread for every child and hands each exit over from it, which costs every
    start and every end of an execution a thread switch. Call in the running loop, before any child starts."""
    if sys.version_info < (3, 12) and hasattr(os, "pidfd_open"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            watcher = asyncio.PidfdChildWatcher()
            watcher.attach_loop(asyncio.get_running_loop())
            asyncio.set_child_watcher(watcher)


async def _spawn(
    argv: list[str], *, cwd: str | None, environment: Mapping[str, str], stdin: bool
) -> tuple[asyncio.SubprocessTransport, asyncio.subprocess.Process, asyncio.Future[None]]:
    """`argv` in a new session, its output piped; stdin a pipe, or /dev/null."""
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()
    Children.spawning += 1
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: _ExitAwareProtocol(exited),
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=environment,
            start_new_session=True,
        )
        Children.leaders.add(transport.get_pid())
    finally:
        Children.spawning -= 1
    return transport, asyncio.subprocess.Process(transport, protocol, loop), exited


async def start_fresh(
    command: str,
    *,
    cwd: str | None,
    environment: dict[str, str],
    stdin: bool,
) -> Started:
    """`/bin/sh -c command` started now, tagged, in a new cgroup where there can be one (its shell moves itself in
    first). `environment` is the command's whole environment but for its tag.

    Raises OSError or ValueError (a NUL character) when it cannot start; the cgroup is then removed."""
    tag = uuid.uuid4().hex
    environment = {**environment, EXECUTION_TAG_ENV: tag}
    cgroup = await asyncio.to_thread(ExecutionCgroup.create, tag)  # mkdir too waits while a move holds the lock
    argv = ["/bin/sh", "-c", command] if cgroup is None else cgroup.argv(command)
    try:
        transport, process, exited = await _spawn(argv, cwd=cwd, environment=environment, stdin=stdin)
    except BaseException:
        if cgroup is not None:
            cgroup.remove_soon()
        raise
    return Started(transport, process, exited, tag, cgroup)


class Launcher:
    """Starts executions' shells, keeping READY_SHELLS ready (in their cgroups) where cgroups are available.

    Owned by a long-lived server (the handler, the bridge's local backend), which must `close()` it: an unused ready
    shell is a process of its own. `environment` is what executions get unless they say otherwise (the diff is sent).
    """

    def __init__(self, environment: Callable[[], dict[str, str]]) -> None:
        self._environment = environment
        self._ready: list[tuple[Started, dict[str, str]]] = []  # oldest first
        self._making: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._refill: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._usable = True  # False once a cgroup could not be made: a ready shell would save nothing

    @property
    def ready(self) -> list[int]:
        """The pids of the shells ready now, the next execution's first."""
        return [shell.process.pid for shell, _ in self._ready]

    async def start(self, command: str, *, cwd: str | None, environment: dict[str, str], stdin: bool) -> Started:
        """The command's shell, started: from a ready one when it can be used exactly, else from scratch.
        `environment` is the command's whole environment but for its tag (EXECUTION_TAG_ENV)."""
        started = self._take(command, cwd, environment, stdin)
        if started is None:
            started = await start_fresh(command, cwd=cwd, environment=environment, stdin=stdin)
        self._refill_later()
        return started

    def _take(self, command: str, cwd: str | None, environment: dict[str, str], stdin: bool) -> Started | None:
        if not self._ready or asyncio.get_running_loop() is not self._loop:
            return None  # none yet (or another event loop's: closed with the launcher)
        shell, ready_environment = self._ready[0]
        if shell.exited.done() or _has_exited(shell.process.pid):  # killed while it waited
            self._ready.pop(0)
            self._retire(shell)
            return self._take(command, cwd, environment, stdin)
        line = _line(command, cwd, {**environment, EXECUTION_TAG_ENV: shell.tag}, ready_environment, stdin)
        if line is None:
            return None  # still good for another execution
        self._ready.pop(0)
        writer = shell.process.stdin
        assert writer is not None
        writer.write(line)
        if not stdin:
            writer.close()  # after the line is written; the command itself reads /dev/null
        return shell

    def _retire(self, shell: Started) -> None:
        task = asyncio.get_running_loop().create_task(_discard(shell), name="ready shell gone")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _refill_later(self) -> None:
        if self._refill is None and not self._closed:
            self._refill = asyncio.get_running_loop().call_later(REFILL_DELAY_S, self._make_ready)

    def _make_ready(self) -> None:
        self._refill = None
        if self._closed or not self._usable or len(self._ready) >= READY_SHELLS or self._making is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._making = self._loop.create_task(self._make(), name="ready shell")

    async def _make(self) -> None:
        tag = uuid.uuid4().hex
        cgroup = await asyncio.to_thread(ExecutionCgroup.create, tag)
        try:
            if cgroup is None:
                self._usable = False
                return
            environment = {**self._environment(), EXECUTION_TAG_ENV: tag}
            argv = ["/bin/sh", "-c", _READY_SCRIPT, "/bin/sh", str(cgroup.path / "cgroup.procs")]
            try:
                transport, process, exited = await _spawn(argv, cwd="/", environment=environment, stdin=True)
            except (OSError, ValueError):
                self._usable = False
                cgroup.remove_soon()
                return
            shell = Started(transport, process, exited, tag, cgroup)
            if self._closed:
                await _discard(shell)
                return
            self._ready.append((shell, environment))
        finally:
            self._making = None
        self._refill_later()  # the next one, while fewer than READY_SHELLS are ready

    async def close(self) -> None:
        """End the ready shells (and one being made), and wait for the cgroups being removed."""
        self._closed = True
        if self._refill is not None:
            self._refill.cancel()
        if self._making is not None:
            with contextlib.suppress(BaseException):
                await self._making
        ready, self._ready = self._ready, []
        for shell, _ in ready:
            await _discard(shell)
        if self._retiring:
            await asyncio.wait(self._retiring)
        await removals_done()


async def _discard(shell: Started) -> None:
    """End an unused ready shell: it ends on EOF; killed if it does not go in time. Its cgroup is removed."""
    assert shell.process.stdin is not None
    shell.process.stdin.close()
    try:
        await asyncio.wait_for(asyncio.shield(shell.exited), CLOSE_WAIT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(shell.process.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(shell.exited), CLOSE_WAIT_S)
    shell.transport.close()
    Children.leaders.discard(shell.process.pid)
    if shell.cgroup is not None:
        await asyncio.to_thread(shell.cgroup.end)


def _has_exited(pid: int) -> bool:
    """Whether this child has ended, though not reaped yet (asyncio reaps it): one waitid that leaves it be."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _line(
    command: str, cwd: str | None, environment: dict[str, str], ready: dict[str, str], stdin: bool
) -> bytes | None:
    """The line a ready shell runs to become `/bin/sh -c command` in `cwd` with `environment` (it was started with
    `ready`); None when it cannot be said exactly, or would take the shell long to read."""
    try:
        folder = cwd if cwd is not None else os.getcwd()
    except OSError:
        return None
    words: list[str] = [f"cd -P -- {_quoted(folder)} || exit 126"]
    # cd set OLDPWD: it gets the value it would have had, like every variable that differs from the ready shell's
    changed = {name for name in environment.keys() | ready.keys() if environment.get(name) != ready.get(name)}
    for name in sorted(changed | {"OLDPWD"}):
        if not _NAME.match(name):
            return None
        value = environment.get(name)
        words.append(f"unset {name}" if value is None else f"export {name}={_quoted(value)}")
    runs = _literal_exec(command) or f"exec /bin/sh -c {_quoted(command)}"
    words.append(runs + ("" if stdin else " </dev/null"))
    line = "; ".join(words)
    if "\0" in line:
        return None
    data = line.encode("utf-8", "surrogateescape") + b"\n"
    return data if len(data) <= MAX_LINE_BYTES else None


def _literal_exec(command: str) -> str | None:
    """`command` as the ready shell may run it itself: `exec` and words that are literal as shlex.join writes
    them (safe characters, or single-quoted), so no expansion happens and nothing of the shell's own state can
    show; a fresh `sh -c` would only parse the same text and exec the same argv. None for any other command."""
    return _one_line(command) if _LITERAL_EXEC.fullmatch(command) else None


def _quoted(text: str) -> str:
    return _one_line(shlex.quote(text))


def _one_line(quoted: str) -> str:
    """Shell text whose newlines are all inside single quotes, with each said as "$n" (the ready shell reads one
    line)."""
    return quoted.replace("\n", "'\"$n\"'")
