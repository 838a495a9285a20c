"""A bridge that runs for days stays bounded: files, queue, memory, disk, and processes.

A task holds no file until it has a slot (it has them once it has started); at most --max-queued wait for one (one more is a
clear error); an execution leaves memory once it has ended (the history answers for it);
all stored output stays under --max-output-total-bytes, the oldest ended tasks' output
going first; and what tasks leave behind is reaped, so no zombie piles up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from fixtures import bridge_helpers as b

from cc_executor.bridge.disk_budget import folder_bytes
from cc_executor.bridge.executions import ExecutionManager, TaskRequest
from cc_executor.generated.mcp.common import TaskSpec

pytestmark = pytest.mark.timeout(120)


def open_files_under(folder: Path) -> list[str]:
    found = []
    for entry in os.scandir("/proc/self/fd"):
        try:
            target = os.readlink(entry.path)
        except OSError:
            continue
        if target.startswith(f"{folder}/"):
            found.append(target)
    return found


async def test_a_task_waiting_for_a_slot_holds_no_file(tmp_path):
    manager = ExecutionManager(b.settings(tmp_path, max_concurrent=1))
    try:
        running = manager.submit(TaskRequest.for_command("echo started; sleep 30", manager.settings))
        queued = [manager.submit(TaskRequest.for_command("sleep 30", manager.settings)) for _ in range(3)]
        with anyio.fail_after(10):
            while running.store.bytes["stdout"] == 0:
                await anyio.sleep(0.01)
        assert [execution.status for execution in queued] == ["queued"] * 3
        # a stream's file is made with its first bytes: the running task's stdout only
        assert open_files_under(tmp_path / "outputs") == [str(tmp_path / "outputs" / running.id / "stdout.txt")]
        assert not any((tmp_path / "outputs" / execution.id).exists() for execution in queued)
    finally:
        await manager.close()
    assert open_files_under(tmp_path / "outputs") == []


async def test_a_started_task_finds_its_files_made_before_its_first_output(tmp_path):
    """They are made while its process boots, so a quick task's output, which all comes as it exits, finds them:
    stdout for a command; stdout and the transcript for a Claude task."""
    quiet_claude = tmp_path / "claude"
    quiet_claude.write_text("#!/bin/sh\nexec sleep 30\n")
    quiet_claude.chmod(0o755)
    manager = ExecutionManager(b.settings(tmp_path / "data", claude_bin=str(quiet_claude)))
    try:
        command = manager.submit(TaskRequest.for_command("sleep 30", manager.settings))
        claude = manager.submit(TaskRequest.for_claude(TaskSpec(task="quiet"), manager.settings))
        with anyio.fail_after(10):
            await command.settled.wait()
            await claude.settled.wait()
        assert (command.status, claude.status) == ("running", "running")
        outputs = tmp_path / "data" / "outputs"
        made = [outputs / command.id / "stdout.txt", outputs / claude.id / "stdout.txt"]
        made.append(outputs / claude.id / "transcript.txt")
        assert sorted(open_files_under(outputs)) == sorted(map(str, made))
        assert command.store.bytes["stdout"] == claude.store.bytes["stdout"] == 0
    finally:
        await manager.close()


async def test_the_queue_is_bounded_and_says_so(tmp_path):
    tag = b.marker()
    try:
        async with b.mcp_bridge(tmp_path, max_concurrent=1, max_queued=2) as bridge:
            started = [await bridge.ok("execute_task", {"task": f"{tag} [fake:hang]", "wait": False}) for _ in range(3)]
            assert [s["status"] for s in started] == ["running", "queued", "queued"]
            refused = await bridge.error("execute_task", {"task": f"{tag} one too many", "wait": False})
            assert "2 tasks are already waiting for a slot" in refused and "--max-queued" in refused
            for execution in started:
                await bridge.ok("control_execution", {"execution_id": execution["execution_id"], "action": "cancel"})
    finally:
        b.kill_all(tag)


async def test_ended_executions_leave_memory_and_the_history_answers_for_them(tmp_path):
    async with b.mcp_bridge(tmp_path) as bridge:
        results = [await bridge.ok("execute_task", {"task": f"task {n}"}) for n in range(5)]
        assert bridge.manager.executions == {}, "nothing ended is kept in memory"
        for result in results:
            status = await bridge.ok("get_execution_status", {"execution_id": result["execution_id"]})
            assert status["execution"] == result | {"task": status["execution"]["task"]}
        listing = await bridge.ok("get_execution_status", {})
        assert len(listing["recent"]) == 5


async def test_stored_output_stays_under_the_cap_and_the_oldest_ended_goes_first(tmp_path):
    cap = 100_000
    manager = ExecutionManager(b.settings(tmp_path, max_output_total_bytes=cap))
    write = "head -c 40000 /dev/zero | tr '\\0' a"
    try:
        results = [await manager.run_to_end(TaskRequest.for_command(write, manager.settings)) for _ in range(5)]
        assert folder_bytes(tmp_path / "outputs") <= cap
        kept = [(tmp_path / "outputs" / str(r.execution_id) / "stdout.txt").exists() for r in results]
        assert kept[-2:] == [True, True] and not kept[0], kept
        first = manager.history.get(str(results[0].execution_id))
        assert first is not None and first.status == "completed", "the history keeps what the disk let go"
        assert manager.disk.pruned >= 1

        alone = ExecutionManager(b.settings(tmp_path / "alone", max_output_total_bytes=10_000))
        try:
            result = await alone.run_to_end(TaskRequest.for_command(write, alone.settings))
            stored = (tmp_path / "alone" / "outputs" / str(result.execution_id) / "stdout.txt").stat().st_size
        finally:
            await alone.close()
        assert stored <= 10_000 and result.status == "completed"
    finally:
        await manager.close()


LEAVES_A_DAEMON = """#!/bin/sh
# A claude that leaves a daemon behind (own session, still carrying the execution's tag) and exits.
setsid sleep 300 </dev/null >/dev/null 2>&1 &
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","num_turns":1}'
exec "{python}" -c "pass" "$@"
"""


def zombie_children(pid: int) -> list[int]:
    return [proc.pid for proc in b.all_processes() if proc.state == "Z" and proc.ppid == pid]


async def test_a_long_running_bridge_collects_no_zombies(tmp_path):
    claude = b.executable(tmp_path / "daemonizing-claude", LEAVES_A_DAEMON.replace("{python}", sys.executable))
    tag = b.marker()
    try:
        with anyio.fail_after(60):
            async with b.stdio_session(tmp_path, CC_EXECUTOR_CLAUDE_BIN=str(claude)) as session:
                await session.initialize()
                for n in range(3):
                    await session.call_tool("execute_task", {"task": f"{tag} {n}"})
                (bridge,) = b.child_pids_running(b.BRIDGE_MARK, tmp_path)
                deadline = anyio.current_time() + 10
                while zombie_children(bridge) and anyio.current_time() < deadline:
                    await anyio.sleep(0.1)
                assert zombie_children(bridge) == [], "the daemons' zombies were reaped"
                assert not [p for p in b.processes("sleep 300") if p.ppid == bridge], "and the daemons were ended"
    finally:
        b.kill_all(tag)
