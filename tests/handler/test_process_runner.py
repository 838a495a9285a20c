"""The execution core against real processes: exact output, process groups, steering, no leftovers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time

import pytest

from cc_executor.handler.execution_types import OutputPiece, RunLimits
from cc_executor.handler.proc_scan import pid_alive
from cc_executor.handler.process_runner import RunningProcess, SpawnError, child_environment

FAST = RunLimits(kill_grace_s=1.0, drain_grace_s=0.3)


class Collector:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.pieces: dict[str, list[OutputPiece]] = {"stdout": [], "stderr": []}
        self.delay_s = delay_s

    async def __call__(self, stream, pieces) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.pieces[stream] += pieces

    def text(self, stream: str) -> str:
        return "".join(p.data for p in self.pieces[stream])


async def run(command: str, **kwargs) -> tuple[Collector, object]:
    sink = Collector()
    running = await RunningProcess.start(command, sink, limits=kwargs.pop("limits", FAST), **kwargs)
    return sink, await running.wait()


async def test_stdout_and_stderr_arrive_exactly_and_concurrently():
    # Both streams far beyond a pipe buffer at once: a reader that serialised them would deadlock.
    script = (
        "import sys\n"
        "for i in range(20000):\n"
        "    sys.stdout.write(f'out {i} ' + 'x' * 50 + '\\n'); sys.stderr.write(f'err {i} ' + 'y' * 50 + '\\n')\n"
    )
    sink, completion = await asyncio.wait_for(run(f'{sys.executable} -c "{script}"'), 30)
    expected_out = "".join(f"out {i} " + "x" * 50 + "\n" for i in range(20000))
    expected_err = "".join(f"err {i} " + "y" * 50 + "\n" for i in range(20000))
    assert sink.text("stdout") == expected_out and sink.text("stderr") == expected_err
    assert completion.status == "completed" and completion.stdout_bytes == len(expected_out)
    assert all(p.data.endswith("\n") for p in sink.pieces["stdout"]), "frames should end at line boundaries"


async def test_a_long_line_without_newline_is_intact():
    sink, completion = await run("head -c 3000000 /dev/zero | tr '\\0' 'a'", limits=RunLimits(frame_chars=65536))
    text = sink.text("stdout")
    assert len(text) == 3_000_000 and set(text) == {"a"}
    indexes = [p.chunk_index for p in sink.pieces["stdout"]]
    assert indexes == list(range(len(indexes))) and sink.pieces["stdout"][-1].total_chunks == len(indexes)


async def test_exit_codes_and_signals():
    _, failed = await run("exit 3")
    assert (failed.status, failed.exit_code, failed.error) == ("failed", 3, None)
    _, killed = await run("kill -KILL $$")
    assert (killed.status, killed.exit_code, killed.signal) == ("failed", -9, "SIGKILL")


async def test_stdin_is_closed_environment_is_scrubbed_cwd_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDECODE", "1")
    monkeypatch.setenv("CLAUDE_CODE_ENTRYPOINT", "cli")
    monkeypatch.setenv("CC_EXECUTOR_TOKEN", "secret")
    monkeypatch.setenv("MY_SECRET", "hush")
    monkeypatch.setenv("KEEP_ME", "yes")
    probe = (
        "import json, os, sys; print(json.dumps({'stdin': sys.stdin.read(), 'cwd': os.getcwd(), "
        "'env': {k: os.environ.get(k) for k in ['CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CC_EXECUTOR_TOKEN', "
        "'MY_SECRET', 'KEEP_ME']}}))"
    )
    sink, completion = await run(
        f'{sys.executable} -c "{probe}"', cwd=str(tmp_path), limits=RunLimits(scrub_env=("MY_SECRET",))
    )
    seen = json.loads(sink.text("stdout"))
    assert completion.status == "completed"
    assert seen == {
        "stdin": "",
        "cwd": str(tmp_path),
        "env": {
            "CLAUDECODE": None,
            "CLAUDE_CODE_ENTRYPOINT": None,
            "CC_EXECUTOR_TOKEN": None,
            "MY_SECRET": None,
            "KEEP_ME": "yes",
        },
    }


def test_child_environment_keeps_everything_else():
    assert child_environment({"A": "1", "CLAUDECODE": "1", "S": "x"}, ["S"]) == {"A": "1"}


async def test_a_nul_character_is_a_spawn_error_not_a_crash():
    with pytest.raises(SpawnError, match="null byte"):
        await RunningProcess.start("echo a\x00b", Collector())


async def test_a_missing_working_directory_is_a_clear_spawn_error():
    with pytest.raises(SpawnError, match="working directory does not exist"):
        await RunningProcess.start("echo", Collector(), cwd="/definitely/not/here")


async def test_cancel_ends_the_whole_group_grandchildren_included():
    sink = Collector()
    running = await RunningProcess.start("sleep 60 & sleep 60 & echo $!; wait", sink, limits=FAST)
    while not sink.text("stdout"):
        await asyncio.sleep(0.01)
    grandchild = int(sink.text("stdout").split()[0])
    assert pid_alive(grandchild)
    assert running.cancel()
    completion = await asyncio.wait_for(running.wait(), 10)
    assert completion.status == "canceled" and completion.error == "Canceled by the client"
    assert not pid_alive(grandchild) and not pid_alive(running.pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(running.pgid, 0)


async def test_sigterm_ignored_escalates_to_sigkill():
    running = await RunningProcess.start("trap '' TERM; echo ready; sleep 60", Collector(), limits=FAST)
    await asyncio.sleep(0.2)
    started = time.monotonic()
    running.cancel()
    completion = await asyncio.wait_for(running.wait(), 10)
    assert completion.signal == "SIGKILL" and completion.status == "canceled"
    assert 0.9 <= time.monotonic() - started < 5


async def test_timeout_terminates_and_paused_time_does_not_count():
    running = await RunningProcess.start("sleep 30", Collector(), timeout_s=1, limits=FAST)
    await asyncio.sleep(0.3)
    assert running.pause()
    assert not running.pause(), "pausing twice changes nothing"
    await asyncio.sleep(1.2)  # longer than the timeout, but paused
    assert not running.done
    assert running.resume() and not running.resume()
    completion = await asyncio.wait_for(running.wait(), 10)
    assert completion.status == "timed_out" and "Timed out after 1 s" in completion.error
    assert completion.execution_time >= 2.0  # 1 s of running plus more than 1 s of pause


async def test_pause_stops_the_group_and_resume_continues_it():
    sink = Collector()
    running = await RunningProcess.start("for i in 1 2 3 4 5 6; do echo $i; sleep 0.1; done", sink, limits=FAST)
    await asyncio.sleep(0.15)
    running.pause()
    frozen = sink.text("stdout")
    await asyncio.sleep(0.5)
    assert sink.text("stdout") == frozen, "no output while paused"
    running.resume()
    completion = await asyncio.wait_for(running.wait(), 10)
    assert completion.status == "completed" and sink.text("stdout") == "1\n2\n3\n4\n5\n6\n"


async def test_children_left_holding_the_pipes_are_ended_with_the_execution():
    sink = Collector()
    running = await RunningProcess.start("sleep 60 & echo $!", sink, limits=FAST)
    completion = await asyncio.wait_for(running.wait(), 10)
    assert completion.status == "completed" and completion.exit_code == 0
    assert not pid_alive(int(sink.text("stdout")))


async def test_a_slow_consumer_slows_the_process_instead_of_filling_memory():
    sink = Collector(delay_s=0.05)
    running = await RunningProcess.start("yes abcdefghij", sink, limits=RunLimits(frame_chars=4096, kill_grace_s=1))
    await asyncio.sleep(1.0)
    received = sum(len(p.data) for p in sink.pieces["stdout"])
    sink.delay_s = 0  # drain the rest quickly
    running.cancel()
    completion = await asyncio.wait_for(running.wait(), 10)
    # Everything read from the pipe was delivered: bounded by what the slow sink took, plus buffers.
    assert completion.stdout_bytes - received < 2 * 1024 * 1024
    # The sink takes a batch (at most one 256 KiB read) per 50 ms: about 20 batches in the second; `yes`
    # alone writes gigabytes in that time.
    assert received < 8 * 1024 * 1024, "the consumer sets the pace"


async def test_line_framing_holds_a_half_line_until_its_newline():
    sink = Collector()
    command = "printf 'a\\nb\\n'; printf 'half'; sleep 0.3; printf ' done\\nlast'"
    running = await RunningProcess.start(command, sink, limits=FAST, framing="line")
    completion = await asyncio.wait_for(running.wait(), 10)
    assert completion.status == "completed"
    texts = [p.data for p in sink.pieces["stdout"]]
    assert "".join(texts) == "a\nb\nhalf done\nlast" and any(text.startswith("half done\n") for text in texts)
    assert all(text.endswith("\n") for text in texts[:-1]), "no piece ends mid-line but the stream's last"


async def test_batched_framing_sends_a_half_line_when_the_stream_goes_quiet():
    sink = Collector()
    running = await RunningProcess.start("printf 'a\\nb\\n'; printf 'half'; sleep 0.3; echo", sink, limits=FAST)
    await asyncio.wait_for(running.wait(), 10)
    assert [p.data for p in sink.pieces["stdout"]] == ["a\nb\n", "half", "\n"]


async def test_output_bytes_are_counted_and_hash_matches():
    sink, completion = await run("seq 1 200000")
    expected = "".join(f"{i}\n" for i in range(1, 200001))
    assert hashlib.sha256(sink.text("stdout").encode()).digest() == hashlib.sha256(expected.encode()).digest()
    assert completion.stdout_bytes == len(expected)


async def test_a_daemon_that_leaves_the_group_is_still_ended():
    # Double fork + setsid: the classic daemon, outside the process group and session.
    sink = Collector()
    running = await RunningProcess.start("setsid sh -c 'sleep 60 & echo $! > /dev/stderr' & wait", sink, limits=FAST)
    completion = await asyncio.wait_for(running.wait(), 15)
    daemon = int(sink.text("stderr").split()[0])
    assert completion.status == "completed"
    assert not pid_alive(daemon), "the daemon outlived its execution"


async def test_a_process_that_closes_stdout_but_keeps_running_is_ended():
    running = await RunningProcess.start("exec >&- 2>&-; sleep 60", Collector(), timeout_s=1, limits=FAST)
    completion = await asyncio.wait_for(running.wait(), 15)
    assert completion.status == "timed_out" and not pid_alive(running.pid)
