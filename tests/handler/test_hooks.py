"""Hooks (issue 11): the hooks file, the engine's runs (their context, timeouts, process groups), and the
handler running them for real over WebSocket, with hook.completed for protocol 2.0 only."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from fixtures.commands import cc_executor
from websockets.asyncio.client import connect

from cc_executor.client import HandlerClient, HandlerError
from cc_executor.contract_tests.live_handler import live_handler
from cc_executor.generated.common.hooks import HookRun
from cc_executor.generated.ws.notifications.process_completed import ProcessCompletedParams
from cc_executor.handler.execution_types import Completion, RunLimits
from cc_executor.handler.hooks import HookContext, HooksEngine, runs_claude
from cc_executor.handler.hooks_file import HooksFileError, HooksSetup, find_hooks, load_hooks

pytestmark = pytest.mark.timeout(60)

#: A hook that records its environment and stdin in $HOOK_LOG (one JSON line per run).
RECORDER = (
    f'{sys.executable} -c "import json, os, sys; '
    "open(os.environ['HOOK_LOG'], 'a').write(json.dumps({'env': {k: v for k, v in os.environ.items() "
    "if k.startswith(('CLAUDE_', 'CC_EXECUTOR_', 'FROM_FILE'))}, 'stdin': json.load(sys.stdin)}) + chr(10))\""
)


def write_hooks(folder: Path, hooks: dict, **extra) -> Path:
    path = folder / ".claude-hooks.json"
    path.write_text(json.dumps({"hooks": hooks, **extra}))
    return path


def records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def context(claude: bool = False, execution_id: str = "exec-1") -> HookContext:
    return HookContext(execution_id, "echo hi", "/tmp", "session-1", known_claude=claude)


# -- the file -------------------------------------------------------------------------------------


def test_the_old_shape_loads_with_per_hook_timeouts_lists_and_optional(tmp_path):
    path = write_hooks(
        tmp_path,
        {
            "pre-execute": "true",
            "post-execute": {"command": "true", "timeout": 5, "optional": True},
            "post-output": ["true", {"command": "false"}],
            "pre-edit": "never runs",
        },
        timeout=30,
        env={"A": "1", "B": True},
        parallel=False,
    )
    config = load_hooks(path)
    assert [(h.stage, h.command, h.timeout_s, h.optional) for h in config.hooks] == [
        ("pre-execute", "true", 30.0, False),
        ("post-execute", "true", 5.0, True),
        ("post-output", "true", 30.0, False),
        ("post-output", "false", 30.0, False),
        ("pre-edit", "never runs", 30.0, False),
    ]
    assert config.env == {"A": "1", "B": "true"}


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{not json", "is not JSON"),
        ('{"hooks": {"PreToolUse": []}}', "PreToolUse is a Claude Code hook event"),
        ('{"hooks": {"pre-exec": "true"}}', "unknown stage 'pre-exec'"),
        ('{"hooks": {"pre-execute": {"command": "true", "timeout": -1}}}', "between 0 and 86400"),
        ('{"hooks": {"pre-execute": {"command": " "}}}', "non-blank"),
        ('{"hooks": {"pre-execute": {"command": "x", "optional": "yes"}}}', "optional must be true or false"),
        ('{"timeout": 5}', 'a "hooks" object'),
    ],
)
def test_a_bad_hooks_file_says_what_is_wrong(tmp_path, content, said):
    path = tmp_path / "hooks.json"
    path.write_text(content)
    with pytest.raises(HooksFileError, match=said) as caught:
        load_hooks(path)
    assert str(path) in str(caught.value)


def test_the_file_in_the_working_directory_is_found_and_a_broken_one_reported(tmp_path):
    assert find_hooks(None, tmp_path) == HooksSetup()
    write_hooks(tmp_path, {"pre-execute": "true"})
    assert find_hooks(None, tmp_path).config is not None
    (tmp_path / ".claude-hooks.json").write_text('{"hooks": {"PreToolUse": []}}')  # Claude Code's shape
    broken = find_hooks(None, tmp_path)
    assert broken.config is None and "Claude Code hook event" in (broken.problem or "")
    status = HooksEngine(broken).status()
    assert status.enabled is False and status.message.startswith("Hooks not loaded: ")
    with pytest.raises(HooksFileError):  # named with --hooks, it must load
        find_hooks(tmp_path / ".claude-hooks.json", tmp_path)


def test_which_commands_run_claude():
    assert runs_claude("exec /opt/bin/claude -p --verbose")
    assert runs_claude("claude -p 'hi'")
    assert not runs_claude("echo hello")
    assert not runs_claude("claude-code-helper --x")


# -- the engine ---------------------------------------------------------------------------------


async def test_hooks_get_their_context_in_the_environment_and_on_stdin(tmp_path):
    log = tmp_path / "log.jsonl"
    path = write_hooks(
        tmp_path, {"pre-execute": RECORDER, "pre-claude": RECORDER, "post-execute": RECORDER}, env={"FROM_FILE": "x"}
    )
    engine = HooksEngine(HooksSetup(load_hooks(path)))
    os.environ["HOOK_LOG"] = str(log)
    try:
        assert await engine.before(context()) is None
        done = Completion("failed", 3, None, None, 1.5, 10, 2)
        await engine.after(context(), done)
    finally:
        del os.environ["HOOK_LOG"]
    pre, post = records(log)  # not a Claude task: no pre-claude
    assert pre["env"].pop("CC_EXECUTOR_EXECUTION_TAG")  # the execution core's: a hook is a process group of its own
    assert pre["env"] == {
        "CLAUDE_SESSION_ID": "session-1",
        "CLAUDE_COMMAND": "echo hi",
        "CLAUDE_CWD": "/tmp",
        "CC_EXECUTOR_STAGE": "pre-execute",
        "CC_EXECUTOR_EXECUTION_ID": "exec-1",
        "CC_EXECUTOR_COMMAND": "echo hi",
        "CC_EXECUTOR_CWD": "/tmp",
        "CC_EXECUTOR_CLAUDE": "0",
        "FROM_FILE": "x",
    }
    assert pre["stdin"] == {
        "stage": "pre-execute",
        "execution_id": "exec-1",
        "session_id": "session-1",
        "command": "echo hi",
        "cwd": "/tmp",
        "claude": False,
    }
    assert post["env"]["CC_EXECUTOR_EXIT_CODE"] == "3" == post["env"]["CLAUDE_EXIT_CODE"]
    assert post["env"]["CC_EXECUTOR_STATUS"] == "failed" and post["env"]["CC_EXECUTOR_DURATION_S"] == "1.500"
    assert post["stdin"]["status"] == "failed" and post["stdin"]["exit_code"] == 3
    assert [run.stage for run in engine.status().last_runs or []] == ["pre-execute", "post-execute"]


async def test_claude_stages_run_for_claude_tasks_only_in_their_order(tmp_path):
    stages = ("pre-execute", "pre-tool", "pre-claude", "post-claude", "post-tool", "post-execute", "post-output")
    engine = HooksEngine(HooksSetup(load_hooks(write_hooks(tmp_path, dict.fromkeys(stages, "true")))))
    seen: list[str] = []

    async def listen(run: HookRun) -> None:
        seen.append(run.stage)

    done = Completion("completed", 0, None, None, 0.1, 0, 0)
    for claude in (False, True):
        await engine.before(context(claude), listen)
        await engine.after(context(claude), done, listen)
    plain = ["pre-execute", "pre-tool", "post-tool", "post-execute", "post-output"]
    assert seen == plain + list(stages)


async def test_a_failing_pre_hook_refuses_unless_it_is_optional(tmp_path):
    hooks = {"pre-execute": [{"command": "echo first; exit 0"}, {"command": "echo nope >&2; exit 4", "optional": True}]}
    engine = HooksEngine(HooksSetup(load_hooks(write_hooks(tmp_path, hooks))))
    assert await engine.before(context()) is None
    hooks["pre-execute"].append({"command": "echo 'no venv' >&2; exit 3"})
    engine = HooksEngine(HooksSetup(load_hooks(write_hooks(tmp_path, hooks))))
    refused = await engine.before(context())
    assert refused is not None and refused.status == "failed" and refused.exit_code == 3
    assert refused.error == "exit code 3: no venv"


async def test_a_hook_past_its_timeout_is_ended_with_its_whole_group(tmp_path):
    tag = f"hook-sleeper-{uuid.uuid4().hex[:8]}"
    command = f"sh -c 'sleep 30; echo {tag}' & sleep 30 # {tag}"
    engine = HooksEngine(
        HooksSetup(load_hooks(write_hooks(tmp_path, {"pre-execute": {"command": command, "timeout": 0.5}}))),
        RunLimits(kill_grace_s=0.5),
    )
    started = time.monotonic()
    refused = await engine.before(context())
    assert refused is not None and refused.status == "timed_out" and "timed out after 0.5 s" in (refused.error or "")
    assert time.monotonic() - started < 5
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, tag)], "nothing left behind"


def _cmdline_has(pid: str, text: str) -> bool:
    try:
        return text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


async def test_the_event_loop_runs_while_hooks_run(tmp_path):
    engine = HooksEngine(HooksSetup(load_hooks(write_hooks(tmp_path, {"pre-execute": "sleep 1"}))))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await engine.before(context())
    ticker.cancel()
    assert ticks >= 10


# -- the handler ---------------------------------------------------------------------------------


async def test_the_handler_runs_hooks_and_tells_v2_clients(tmp_path):
    log = tmp_path / "log.jsonl"
    path = write_hooks(tmp_path, {"pre-execute": RECORDER, "post-execute": RECORDER, "pre-claude": "exit 9"})
    with live_handler("--hooks", str(path), env={"HOOK_LOG": str(log)}) as handler:
        async with await HandlerClient.connect(handler.url, handler.token) as client:
            started = await client.execute("echo hi", execution_id="job-1")
            events = [e async for e in _until_completed(client)]
            runs = [e for e in events if isinstance(e, HookRun)]
            assert [(r.stage, r.status, r.execution_id) for r in runs] == [
                ("pre-execute", "ok", "job-1"),
                ("post-execute", "ok", "job-1"),
            ]
            assert isinstance(events[-1], ProcessCompletedParams) and isinstance(events[-2], HookRun)
            status = await client.hook_status()
            with pytest.raises(HandlerError) as refused:  # a Claude task: pre-claude fails
                await client.execute("claude -p", execution_id="job-2")
        async with connect(handler.url, additional_headers=handler.headers) as old:  # protocol 1.0
            await old.recv()
            await old.send(json.dumps({"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "echo"}}))
            methods = []
            while "process.completed" not in methods:
                methods.append(json.loads(await asyncio.wait_for(old.recv(), 10)).get("method"))
    assert "hook.completed" not in methods, "old clients see nothing new"
    assert started.execution_id == "job-1"
    # job-1; job-2 (pre-execute ran, pre-claude refused: no post stages); the old client's execution
    assert [r["stdin"]["stage"] for r in records(log)] == ["pre-execute", "post-execute", "pre-execute"] + [
        "pre-execute",
        "post-execute",
    ]
    assert records(log)[1]["env"]["CC_EXECUTOR_STATUS"] == "completed"
    assert refused.value.code == -32000 and refused.value.reason == "hook_failed"
    assert refused.value.message == ("The pre-claude hook `exit 9` failed (exit code 9); the execution was not started")
    assert status.enabled and status.config_path == str(path)
    assert status.hooks_configured == ["pre-execute", "post-execute", "pre-claude"]
    assert [(s.stage, s.when) for s in status.stages or []][2] == (
        "pre-claude",
        "before every Claude Code task, after pre-execute",
    )
    assert [(r.stage, r.status) for r in status.last_runs or []] == [("pre-execute", "ok"), ("post-execute", "ok")]
    assert [r["stdin"]["claude"] for r in records(log)] == [False, False, True, False, False]


async def test_an_execution_whose_pre_execution_hooks_run_shows_as_starting(tmp_path):
    """While a slow pre-execute hook runs, status, sessions and `cc-executor status` show the execution as starting
    (no process yet) rather than an idle session; protocol 1.0 replies keep their old shape."""
    entered, release = tmp_path / "entered", tmp_path / "release"
    hook = f"touch {entered}; i=0; while [ ! -e {release} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done"
    path = write_hooks(tmp_path, {"pre-execute": hook})
    with live_handler("--hooks", str(path), token=None) as handler:
        async with (
            await HandlerClient.connect(handler.url) as starting,
            await HandlerClient.connect(handler.url) as viewer,
            connect(handler.url) as old,  # no subprotocol: protocol 1.0
        ):
            await old.recv()
            execute = asyncio.ensure_future(starting.execute("echo started", execution_id="slow-start"))
            for _ in range(400):  # bounded: 20 s
                if entered.exists():
                    break
                await asyncio.sleep(0.05)
            assert entered.exists(), "the pre-execute hook never ran"
            listed = {s.session_id: s for s in (await viewer.sessions()).sessions}
            shown = listed[starting.greeting.session_id]
            assert shown.execution is None and shown.queued_execution is None
            assert shown.starting_execution is not None
            assert (shown.starting_execution.execution_id, shown.starting_execution.state) == ("slow-start", "starting")
            assert shown.starting_execution.command == "echo started" and shown.starting_execution.starting_s >= 0
            await old.send(json.dumps({"jsonrpc": "2.0", "method": "sessions", "id": 7}))
            while (reply := json.loads(await asyncio.wait_for(old.recv(), 10))).get("id") != 7:
                pass
            assert all("starting_execution" not in s for s in reply["result"]["sessions"]), "1.0 keeps its shape"
            table = await asyncio.to_thread(
                cc_executor, tmp_path, "status", handler.url, "--once", env={"COLUMNS": "200"}, timeout=30
            )
            assert table.returncode == 0, table.stderr
            assert "starting 1" in table.stdout
            assert [line for line in table.stdout.splitlines() if "slow-start" in line and "starting (hooks)" in line]
            release.touch()
            started = await asyncio.wait_for(execute, 20)
            assert started.execution_id == "slow-start"
            async for _ in _until_completed(starting):
                pass
            after = {s.session_id: s for s in (await viewer.sessions()).sessions}[starting.greeting.session_id]
            assert after.starting_execution is None


async def test_an_ended_execution_is_counted_before_the_execute_that_waited_for_it_starts(tmp_path):
    """An execute sent while the last execution is being canceled starts once that one has gone. The ended one is in
    the metrics as soon as its completion is out, not only after the next one's pre-execution hooks have run."""
    entered, release = tmp_path / "entered", tmp_path / "release"
    hook = (
        f'[ "$CC_EXECUTOR_EXECUTION_ID" = second ] || exit 0; touch {entered}; i=0; '
        f"while [ ! -e {release} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done"
    )
    path = write_hooks(tmp_path, {"pre-execute": hook})
    with live_handler("--hooks", str(path), token=None) as handler:
        async with await HandlerClient.connect(handler.url) as client:
            await client.execute("trap 'sleep 0.5; exit 0' TERM; sleep 30 & wait", execution_id="first")
            await client.control("CANCEL")  # the group takes half a second to go
            second = asyncio.ensure_future(client.execute("echo second", execution_id="second"))
            events = [event async for event in _until_completed(client)]
            assert events[-1].execution_id == "first"
            for _ in range(400):  # bounded: 20 s
                if entered.exists():
                    break
                await asyncio.sleep(0.05)
            assert entered.exists(), "the waiting execute's pre-execute hook never ran"
            text = await asyncio.to_thread(_metrics, handler.http_url)
            assert 'cc_executor_executions_total{status="canceled"} 1.0' in text, "counted while the next one starts"
            release.touch()
            assert (await asyncio.wait_for(second, 20)).execution_id == "second"
            assert [event async for event in _until_completed(client)][-1].execution_id == "second"


def _metrics(http_url: str) -> str:
    with urllib.request.urlopen(f"{http_url}/metrics", timeout=5) as response:
        return response.read().decode()


async def _until_completed(client: HandlerClient):
    async for event in client.events():
        yield event
        if isinstance(event, ProcessCompletedParams):
            return


# -- stdin ---------------------------------------------------------------------------------------


async def test_stdin_reaches_the_process_in_protocol_2_and_has_its_own_limit():
    big = "é" * (2 * 1024 * 1024)  # 4 MiB of UTF-8, beyond the 1 MiB frame limit
    with live_handler() as handler:
        async with await HandlerClient.connect(handler.url, handler.token) as client:
            await client.execute("cat | sha256sum; cat", stdin=big)
            output = "".join([e.data async for e in _until_completed(client) if hasattr(e, "data")])
            with pytest.raises(HandlerError) as too_big:
                await client.execute("cat", stdin="é" * (4 * 1024 * 1024 + 1))  # 8 MiB + 2 bytes
        async with connect(handler.url, additional_headers=handler.headers) as old:  # protocol 1.0: ignored
            await old.recv()
            frame = {"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "wc -c", "stdin": "abc"}}
            await old.send(json.dumps(frame))
            lines = []
            while not lines or lines[-1].get("method") != "process.completed":
                lines.append(json.loads(await asyncio.wait_for(old.recv(), 10)))
    import hashlib

    assert output.split()[0] == hashlib.sha256(big.encode()).hexdigest()
    assert (
        too_big.value.code == -32602
        and "stdin: 8388610 bytes exceed the handler's limit of 8388608 bytes (--max-stdin-bytes)"
        in too_big.value.message
    )
    assert [line["params"]["data"] for line in lines if line.get("method") == "process.output"] == ["0\n"]


async def test_an_oversized_frame_that_is_not_an_execute_with_stdin_is_too_large():
    with live_handler() as handler:
        async with connect(handler.url, subprotocols=["cc-executor.v2"], additional_headers=handler.headers) as ws:
            await ws.recv()
            padded = {"jsonrpc": "2.0", "method": "execute", "id": 1, "params": {"command": "true " + "x" * (2 << 20)}}
            await ws.send(json.dumps(padded))
            reply = json.loads(await ws.recv())
    assert reply["error"]["code"] == -32600 and reply["error"]["data"]["reason"] == "frame_too_large"
    assert reply["error"]["message"].endswith("exceeds the limit of 1048576 bytes")
