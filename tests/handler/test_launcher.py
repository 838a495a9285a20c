"""A shell kept ready in its cgroup: the command it becomes finds exactly what a fresh start gives it.

What is compared is what a command can see: its environment, working directory, stdin,
process group, cgroup and open descriptors, each once started from the ready shell and once
from scratch. A ready shell is recognised the way anyone looking at the machine would: a
child of this process whose command line is the ready script.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fixtures.cgroup_support import require_cgroups

from cc_executor.handler import cgroups
from cc_executor.handler.execution_types import RunLimits
from cc_executor.handler.launcher import EXECUTION_TAG_ENV, MAX_LINE_BYTES, Launcher
from cc_executor.handler.proc_scan import children, pid_alive
from cc_executor.handler.process_runner import RunningProcess, SpawnError, launcher

pytestmark = pytest.mark.timeout(60)
LIMITS = RunLimits(kill_grace_s=0.5, drain_grace_s=0.3)
#: What a command reports about itself: environment (NUL-separated), cwd, cgroup, process group, and the
#: descriptors it inherited (those of `ls`, which replaces the shell, the one it opens to list them aside).
SELF_REPORT = (
    "env -0; printf '\\1%s\\1' \"$(pwd -P)\"; cat /proc/self/cgroup | grep '^0::'; "
    "cut -d' ' -f5 /proc/$$/stat; readlink /proc/$$/fd/0; exec ls -m /proc/self/fd"
)


@pytest.fixture
def needs_cgroups() -> None:
    require_cgroups("the launcher keeps no shell ready (every start is fresh)")


@pytest.fixture
async def warm(needs_cgroups: None) -> AsyncIterator[Launcher]:
    made = launcher(LIMITS)
    try:
        yield made
    finally:
        await made.close()


def ready_shells() -> list[int]:
    found = []
    for pid in children(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 2 and b"read -r line" in argv[2]:
            found.append(pid)
    return found


def cgroup_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cgroup").read_text().split("0::", 1)[1].strip().rsplit("/", 1)[-1]
    except (OSError, IndexError):
        return ""


async def until_ready(made: Launcher, timeout_s: float = 10.0) -> int:
    """The shell the next execution gets, once the launcher holds it and it sits in its own cgroup (it moved itself
    there: it is ready, not being made). The shell can be seen in its cgroup before its launcher has it."""
    for _ in range(int(timeout_s / 0.02)):
        shells = [pid for pid in ready_shells() if cgroup_of(pid).startswith(cgroups.PREFIX)]
        if made.ready and made.ready[0] in shells:
            return made.ready[0]
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"no ready shell appeared (the launcher holds {made.ready}, this process has {ready_shells()})"
    )


class Output:
    def __init__(self) -> None:
        self.text = {"stdout": "", "stderr": ""}

    async def __call__(self, stream, pieces) -> None:
        self.text[stream] += "".join(piece.data for piece in pieces)


async def run(command: str, made: Launcher | None, **kwargs) -> tuple[RunningProcess, str]:
    output = Output()
    running = await RunningProcess.start(command, output, limits=LIMITS, launcher=made, **kwargs)
    completion = await asyncio.wait_for(running.wait(), 30)
    assert completion.status == "completed", (completion, output.text["stderr"])
    return running, output.text["stdout"]


def report(text: str, tag: str) -> dict[str, object]:
    environment, cwd, rest = text.split("\1")
    variables = dict(entry.split("=", 1) for entry in environment.split("\0") if entry)
    assert variables.pop(EXECUTION_TAG_ENV) == tag
    cgroup_line, pgid, stdin, fds = rest.strip().split("\n")
    cgroup = cgroup_line.rsplit("/", 1)[-1]
    return {"env": variables, "cwd": cwd, "cgroup": cgroup, "pgid": int(pgid), "stdin": stdin, "fds": fds}


TRICKY = {
    "MULTILINE": "one\ntwo\n\nthree\n",
    "QUOTES": 'it\'s "quoted" $HOME `date` \\ back',
    "EMPTY": "",
    "UNICODE": "naïve — 東京 ✓",
    "SPACES": "  a  b  ",
}


async def test_a_command_from_the_ready_shell_sees_what_a_fresh_start_gives_it(warm, tmp_path, monkeypatch):
    monkeypatch.setenv("OLDPWD", "/somewhere/before")
    await run("true", warm)  # the first start is fresh; it leaves a shell ready
    ready = await until_ready(warm)
    environ = {**os.environ, **TRICKY, "ADDED_LATER": "x"}
    environ.pop("HOME", None)  # one the ready shell has, the command must not
    running, text = await run(SELF_REPORT, warm, cwd=str(tmp_path), environ=environ)
    assert running.pid == ready, "the ready shell ran it"
    from_ready = report(text, running.tag)

    fresh_running, fresh_text = await run(SELF_REPORT, None, cwd=str(tmp_path), environ=environ)
    fresh = report(fresh_text, fresh_running.tag)

    assert from_ready["env"] == fresh["env"]
    for name, value in TRICKY.items():
        assert from_ready["env"][name] == value  # type: ignore[index]
    assert "HOME" not in from_ready["env"] and from_ready["env"]["OLDPWD"] == "/somewhere/before"  # type: ignore[operator,index]
    assert from_ready["cwd"] == fresh["cwd"] == str(tmp_path.resolve())
    assert from_ready["cgroup"] == f"{cgroups.PREFIX}{running.tag}", "it runs in its own cgroup"
    assert from_ready["pgid"] == running.pid, "it leads a process group of its own"
    assert from_ready["fds"] == fresh["fds"], "no descriptor of the launcher's leaks into the command"
    assert from_ready["stdin"] == fresh["stdin"] == "/dev/null"
    await cgroups.removals_done()  # an empty cgroup is removed in the background
    assert running.cgroup is not None and not running.cgroup.path.exists(), "its cgroup went with it"


#: A program that reports what it was given: argv, environment, cwd, descriptors, stdin.
REPORTER = (
    "import json, os, sys; print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ), 'cwd': os.getcwd(), "
    "'fds': sorted(os.listdir('/proc/self/fd')), 'stdin': os.readlink('/proc/self/fd/0')}))"
)


async def test_an_exec_of_literal_words_runs_as_from_a_fresh_shell(warm, tmp_path):
    """How the bridge runs Claude (`exec` + shlex.join(argv)): the ready shell execs it itself, with the same result."""
    command = "exec " + shlex.join([sys.executable, "-c", REPORTER, "a b", "it's", "two\nlines", "$HOME", "*", ""])
    await run("true", warm)
    ready = await until_ready(warm)
    environ = {**os.environ, **TRICKY}
    running, text = await run(command, warm, cwd=str(tmp_path), environ=environ)
    fresh_running, fresh_text = await run(command, None, cwd=str(tmp_path), environ=environ)
    assert running.pid == ready
    from_ready, fresh = json.loads(text), json.loads(fresh_text)
    assert from_ready["env"].pop(EXECUTION_TAG_ENV) == running.tag
    assert fresh["env"].pop(EXECUTION_TAG_ENV) == fresh_running.tag
    assert from_ready == fresh
    assert from_ready["argv"] == ["a b", "it's", "two\nlines", "$HOME", "*", ""]


async def test_stdin_reaches_the_command_exactly_or_it_reads_nothing(warm):
    await run("true", warm)
    await until_ready(warm)
    data = os.urandom(300_000)
    _, text = await run("sha256sum", warm, stdin=data)
    assert text.split()[0] == hashlib.sha256(data).hexdigest()
    await until_ready(warm)
    _, text = await run("wc -c", warm)
    assert text.strip() == "0", "without stdin the command reads /dev/null"


async def test_without_a_cwd_the_command_runs_where_this_process_is(warm, tmp_path, monkeypatch):
    await run("true", warm)
    await until_ready(warm)
    monkeypatch.chdir(tmp_path)
    _, text = await run("pwd -P", warm)
    assert text.strip() == str(tmp_path.resolve())


async def test_what_the_ready_shell_cannot_say_exactly_starts_fresh(warm):
    await run("true", warm)
    ready = await until_ready(warm)
    odd = {**os.environ, "NOT-A-SHELL-NAME": "x", "SEEN": "yes"}  # a name `export` refuses (some shells pass it on)
    running, text = await run("env", warm, environ=odd)
    assert running.pid != ready and "SEEN=yes" in text
    long_command = "echo " + "x" * MAX_LINE_BYTES
    running, text = await run(long_command, warm)
    assert running.pid != ready and text.strip() == "x" * MAX_LINE_BYTES
    with pytest.raises(SpawnError, match="could not start"):
        await RunningProcess.start("echo a\0b", Output(), limits=LIMITS, launcher=warm)
    assert ready in ready_shells(), "the ready shell is still there for the next execution"


async def test_a_ready_shell_that_died_is_not_used(warm):
    await run("true", warm)
    ready = await until_ready(warm)
    os.killpg(ready, 9)
    for _ in range(200):
        if not pid_alive(ready):  # ended (a zombie until it is reaped)
            break
        await asyncio.sleep(0.02)
    running, text = await run("echo fine", warm)
    assert running.pid != ready and text == "fine\n"


async def test_closing_the_launcher_leaves_no_process_and_no_cgroup(warm):
    await run("true", warm)
    ready = await until_ready(warm)
    cgroup = cgroup_of(ready)
    await warm.close()
    assert ready_shells() == []
    assert not (cgroups.own_cgroup() / cgroup).exists()  # type: ignore[operator]
    running, text = await run("echo after close", warm)
    assert text == "after close\n" and await asyncio.sleep(0.2) is None and ready_shells() == []


async def test_a_process_that_leaves_group_and_tag_is_still_ended_with_its_cgroup(warm, tmp_path):
    """The containment issue 9 asked for holds for a command started from the ready shell."""
    await run("true", warm)
    ready = await until_ready(warm)
    pidfile = tmp_path / "escapee"
    escape = (
        f"setsid env -u {EXECUTION_TAG_ENV} sh -c 'echo $$ > {pidfile}; exec sleep 300' </dev/null >/dev/null 2>&1 &"
    )
    running, _ = await run(escape + " sleep 0.2", warm)
    assert running.pid == ready
    escapee = int(pidfile.read_text())
    for _ in range(250):
        if not os.path.exists(f"/proc/{escapee}") or " Z" in Path(f"/proc/{escapee}/stat").read_text():
            break
        await asyncio.sleep(0.02)
    else:
        os.kill(escapee, 9)
        raise AssertionError("the escaped process outlived its execution")
