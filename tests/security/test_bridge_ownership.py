"""Several bridges on one data dir: none kills or shows another's work; a dead one's work is recovered.

Each bridge is a real `cc-executor mcp` process over stdio (the fake claude runs the tasks),
as Claude Code starts one per window, one for every `claude mcp list` (start, health check,
exit), and one in a task's inner Claude that loads a user-scoped cc-executor.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import anyio
import pytest
from fixtures import bridge_helpers as b
from mcp import ClientSession

from cc_executor.bridge.executions import ABANDONED, ExecutionManager
from cc_executor.bridge.history import History
from cc_executor.bridge.ownership import BRIDGES_FOLDER
from cc_executor.handler.launcher import EXECUTION_TAG_ENV

pytestmark = pytest.mark.timeout(120)


async def start_hanging(session: ClientSession, tag: str) -> str:
    started = await session.call_tool("execute_task", {"task": f"{tag} [fake:hang]", "wait": False})
    assert started.structured_content["status"] == "running", started.structured_content
    return started.structured_content["execution_id"]


async def status_of(session: ClientSession, execution_id: str) -> dict:
    answer = await session.call_tool("get_execution_status", {"execution_id": execution_id})
    assert not answer.is_error, answer.content
    return answer.structured_content["execution"]


async def listed(session: ClientSession) -> list[str]:
    answer = await session.call_tool("get_execution_status", {})
    return [row["execution_id"] for row in answer.structured_content["recent"]]


def run_a_bridge_that_starts_and_exits(data_dir: Path) -> None:
    """What `claude mcp list` does to every registered server: start it, shake hands (so its engine loads and looks
    for what earlier bridges left), and let it go again."""
    import subprocess

    handshake = b"".join(json.dumps(message).encode() + b"\n" for message in (b.INITIALIZE, b.INITIALIZED))
    done = subprocess.run([*b.BRIDGE], env=b.bridge_env(data_dir), input=handshake, capture_output=True, timeout=60)
    assert done.returncode == 0 and b'"serverInfo"' in done.stdout, done.stderr
    assert (data_dir / "executions.sqlite3").exists(), "its engine loaded"


async def test_two_bridges_and_a_third_that_starts_and_exits_run_side_by_side(tmp_path):
    first_tag, second_tag = b.marker(), b.marker()
    try:
        with anyio.fail_after(60):
            async with b.stdio_session(tmp_path) as first, b.stdio_session(tmp_path) as second:
                await first.initialize()
                await second.initialize()
                first_id = await start_hanging(first, first_tag)
                second_id = await start_hanging(second, second_tag)
                await b.wait_for_processes(first_tag)
                await b.wait_for_processes(second_tag)

                await anyio.to_thread.run_sync(run_a_bridge_that_starts_and_exits, tmp_path)
                async with b.stdio_session(tmp_path) as third:  # one more window opens, and closes
                    await third.initialize()
                    assert await listed(third) == [], "a new bridge lists none of the running bridges' tasks"
                    unknown = await third.call_tool("get_execution_status", {"execution_id": first_id})
                    assert unknown.is_error and "Unknown execution_id" in unknown.content[0].text
                    refused = await third.call_tool("control_execution", {"execution_id": first_id, "action": "cancel"})
                    assert refused.is_error

                assert (await status_of(first, first_id))["status"] == "running"
                assert (await status_of(second, second_id))["status"] == "running"
                assert b.processes(first_tag) and b.processes(second_tag), "nothing killed the other bridges' tasks"
                assert await listed(first) == [first_id]
                assert await listed(second) == [second_id]
                for session, execution_id in ((first, first_id), (second, second_id)):
                    await session.call_tool("control_execution", {"execution_id": execution_id, "action": "cancel"})
                    assert (await status_of(session, execution_id))["status"] in ("running", "canceled")
    finally:
        b.kill_all(first_tag)
        b.kill_all(second_tag)
    assert "marked failed" not in (tmp_path / "bridge-stderr.log").read_text()


INNER_CLAUDE = """#!/bin/sh
# A task's Claude that loads a user-scoped cc-executor: the inner bridge starts on the same data dir
# (and recovers what it may), then goes away; the task itself runs on.
"{python}" -m cc_executor mcp --backend local </dev/null 2>>"{log}"
echo "inner bridge exited with $?" >>"{log}"
exec "{python}" -c "import time; time.sleep(300)" "{log}"  # the task runs on, found by its log's path
"""


async def test_a_tasks_inner_bridge_does_not_kill_the_task(tmp_path):
    log = tmp_path / "inner.log"
    inner = b.executable(tmp_path / "inner-claude", INNER_CLAUDE.format(python=sys.executable, log=log))
    tag = str(log)  # the task's prompt goes to its stdin, not its argv
    try:
        with anyio.fail_after(60):
            async with b.stdio_session(tmp_path, CC_EXECUTOR_CLAUDE_BIN=str(inner)) as session:
                await session.initialize()
                started = await session.call_tool("execute_task", {"task": "run on", "wait": False})
                execution_id = started.structured_content["execution_id"]
                while "inner bridge exited" not in (log.read_text() if log.exists() else ""):
                    await anyio.sleep(0.05)
                assert "inner bridge exited with 0" in log.read_text(), log.read_text()
                await anyio.sleep(0.3)
                assert (await status_of(session, execution_id))["status"] == "running", log.read_text()
                assert b.processes(tag), "the task's process still runs"
                await session.call_tool("control_execution", {"execution_id": execution_id, "action": "cancel"})
                final = await session.call_tool("get_execution_status", {"execution_id": execution_id, "wait_s": 10})
    finally:
        b.kill_all(tag)
    assert final.structured_content["execution"]["status"] == "canceled"


async def test_only_the_executions_of_a_dead_bridge_are_failed_and_ended(tmp_path):
    """In process: a live bridge's running row is left alone, a dead bridge's is failed and its processes ended."""
    import subprocess

    live = ExecutionManager(b.settings(tmp_path))
    leftover = subprocess.Popen(["sleep", "300"], env={**os.environ, EXECUTION_TAG_ENV: "dead-bridge-tag"})
    legacy = subprocess.Popen(["sleep", "300"], env={**os.environ, EXECUTION_TAG_ENV: "legacy-tag"})
    try:
        history = History(tmp_path / "executions.sqlite3")
        history.add(
            "of-the-live-one", "2026-12-01T09:00:00+00:00", "a task", "local", "running", owner=live.identity.id
        )
        history.add("of-a-dead-one", "2026-12-01T09:00:01+00:00", "a task", "local", "running", owner="0" * 32)
        history.set_tag("of-a-dead-one", "dead-bridge-tag")
        history.add("legacy-still-running", "2026-12-01T09:00:02+00:00", "a task", "local", "running")
        history.set_tag("legacy-still-running", "legacy-tag")  # its processes live: its bridge may too
        history.add("legacy-gone", "2026-12-01T09:00:03+00:00", "a task", "local", "running")
        history.close()
        starting = ExecutionManager(b.settings(tmp_path))
        try:
            starting.recover_abandoned()
            assert starting.history.get("of-the-live-one").status == "running"
            assert starting.history.get("legacy-still-running").status == "running"
            for gone in ("of-a-dead-one", "legacy-gone"):
                row = starting.history.get(gone)
                assert row.status == "failed" and row.result.error == ABANDONED
            assert leftover.wait(10) == -15, "the dead bridge's leftover process was ended"
            assert legacy.poll() is None, "an older bridge's task that may still be followed was left alone"
        finally:
            await starting.close()
    finally:
        await live.close()
        for process in (leftover, legacy):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert list((tmp_path / BRIDGES_FOLDER).iterdir()) == [], "bridges remove their lock files"


def test_the_bridge_lock_files_are_private_and_die_with_their_bridge(tmp_path):
    import subprocess

    child = subprocess.Popen([*b.BRIDGE], env=b.bridge_env(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(b.INITIALIZE).encode() + b"\n")
        child.stdin.flush()
        child.stdout.readline()
        child.stdin.write(json.dumps(b.INITIALIZED).encode() + b"\n")  # the engine, which takes the lock, loads
        child.stdin.flush()
        folder = tmp_path / BRIDGES_FOLDER
        for _ in range(600):
            if folder.is_dir() and list(folder.iterdir()):
                break
            anyio.run(anyio.sleep, 0.05)
        (lock,) = folder.iterdir()
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
        manager = ExecutionManager(b.settings(tmp_path))
        assert lock.stem in manager.identity.live_bridges()
        child.kill()
        child.wait()
        assert lock.stem not in manager.identity.live_bridges(), "a SIGKILLed bridge's lock is free at once"
        manager.recover_abandoned()
        assert not lock.exists(), "recovery removes the lock files of dead bridges"
        anyio.run(manager.close)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
