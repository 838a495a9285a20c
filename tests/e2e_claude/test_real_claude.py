"""The whole system with the real ``claude`` CLI (2.1.330), offline.

The CLI talks to a stand-in for the Anthropic Messages API on loopback
(tests/fixtures/fake_anthropic_api.py); everything else is real:

a. bridge (ExecutionManager, backend "handler") -> a real handler subprocess -> the real
   ``claude -p ... --output-format stream-json --verbose`` -> the fake API: a success with
   a tool call, a --max-turns stop, authentication failures, a cancel mid-stream;
b. the real CLI as an MCP host of the bridge: ``claude mcp add`` / ``claude mcp list``, and
   a ``claude -p`` run whose model calls the bridge's execute_task, which runs a second
   real ``claude``;
c. the MCP Inspector's CLI as the bridge's MCP client.

The CLI and the Inspector are installed by scripts/install_test_tools.py; without them
these tests fail with a message that says to run it. Each test has its own HOME and data
dir, and ends with no process of its own left (checked in /proc).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_claude import support

from cc_executor.bridge.executions import BridgeSettings, ExecutionManager, TaskRequest
from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.generated.mcp.common import TaskResult, TaskSpec

fake = support.fake_api

pytestmark = pytest.mark.timeout(60)

CLAUDE_VERSION = support.tools.CLAUDE_CLI.version
TASK_WAIT_S = 30.0
BRIDGE_TOOLS = {
    "execute_task",
    "execute_task_list",
    "get_execution_status",
    "get_execution_output",
    "control_execution",
    "get_hook_status",
    "wait_executions",
    "respond_permission",
}


def new_marker() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def handler_for(box, api, api_key: str | None = "test-key") -> Iterator[LiveHandler]:
    """A real handler whose tasks see the fake API (and the sandbox's HOME) in their environment."""
    with live_handler(env=box.env(api.url, api_key)) as handler:
        yield handler


@contextlib.asynccontextmanager
async def bridge_to(handler: LiveHandler, box, claude_bin: Path) -> AsyncIterator[ExecutionManager]:
    settings = BridgeSettings(
        data_dir=box.data_dir,
        claude_bin=str(claude_bin),
        handler_urls=(handler.url,),
        token=handler.token,
        backend="handler",
    )
    manager = ExecutionManager(settings)
    try:
        yield manager
    finally:
        await manager.close()


async def run_task(manager: ExecutionManager, **spec: Any) -> TaskResult:
    request = TaskRequest.for_claude(TaskSpec(**spec), manager.settings)
    return await asyncio.wait_for(manager.run_to_end(request), TASK_WAIT_S)


def stream_lines(manager: ExecutionManager, execution_id: str) -> list[dict[str, Any]]:
    """The CLI's stdout as the bridge stored it, one stream-json message per line."""
    text, _, _, ended = manager.read_output(execution_id, "stdout", 0, 1 << 22)
    assert ended
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_real_cli(api, stdout: list[dict[str, Any]]) -> None:
    """The requests and the stream came from the pinned CLI, with the sandbox's key."""
    init = stdout[0]
    assert (init["type"], init["subtype"]) == ("system", "init"), init
    assert init["claude_code_version"] == CLAUDE_VERSION
    assert init["apiKeySource"] == "ANTHROPIC_API_KEY"
    for request in api.messages_requests:
        assert request.headers["User-Agent"].startswith(f"claude-cli/{CLAUDE_VERSION} "), request.headers
        assert request.headers["x-api-key"] == "test-key"
        assert request.body["stream"] is True


def assert_like_reference(stdout: list[dict[str, Any]], name: str) -> None:
    """The same messages, in the same order, with the same init and result fields, as the recording of
    the real CLI in tests/reference/claude-cli/`name`: the fake API makes the CLI behave as the real API."""
    reference = support.claude_helpers.reference_messages(name)
    assert [(m["type"], m.get("subtype")) for m in stdout] == [(m["type"], m.get("subtype")) for m in reference]
    for ours, theirs in ((stdout[0], reference[0]), (stdout[-1], reference[-1])):
        assert set(ours) == set(theirs), f"{ours['type']}: {set(ours) ^ set(theirs)}"
    for key in ("subtype", "is_error", "num_turns", "stop_reason", "terminal_reason"):
        assert stdout[-1][key] == reference[-1][key], key


# -- a. bridge -> handler -> real claude -> fake API ---------------------------------------


async def test_success_with_a_tool_call(claude_bin, sandbox):
    """A Read tool call then a text answer (as real_stream.jsonl): the answer quotes the file the CLI read."""
    secret = new_marker()
    note = sandbox.project / "note.txt"
    note.write_text(f"the secret is {secret}\n")
    script = fake.tool_then_text("Read", {"file_path": str(note)}, lambda seen: f"The note says: {seen.strip()}")
    with fake.fake_anthropic_api(script) as api, handler_for(sandbox, api) as handler:
        async with bridge_to(handler, sandbox, claude_bin) as manager:
            result = await run_task(manager, task="Read note.txt and tell me the secret", cwd=str(sandbox.project))
            stdout = stream_lines(manager, result.execution_id)
            transcript, _, _, _ = manager.read_output(result.execution_id, "transcript", 0, 1 << 20)

    assert result.status == "completed", result
    assert result.error is None and result.hint is None and result.exit_code == 0
    assert secret in result.result and result.result.startswith("The note says: ")
    assert result.num_turns == 2
    assert result.total_cost_usd is not None and result.total_cost_usd > 0
    assert result.input_tokens == 2 * fake.INPUT_TOKENS and result.output_tokens
    assert result.backend == handler.url
    assert uuid.UUID(result.session_id)
    assert f"turn 1 · Read: {note}" in transcript.splitlines()
    assert_like_reference(stdout, "real_stream.jsonl")
    assert_real_cli(api, stdout)
    first, second = api.messages_requests
    assert "Read" in first.tool_names and not first.tool_results()
    assert secret in second.tool_result_text()
    assert not api.unknown_paths, api.describe()


async def test_max_turns_stops_a_tool_loop(claude_bin, sandbox):
    """A model that calls tools forever, with max_turns=1 (as real_maxturns.jsonl): failed, is_error."""
    note = sandbox.project / "note.txt"
    note.write_text("again\n")
    script = fake.endless_tool_use("Read", {"file_path": str(note)})
    with fake.fake_anthropic_api(script) as api, handler_for(sandbox, api) as handler:
        async with bridge_to(handler, sandbox, claude_bin) as manager:
            result = await run_task(manager, task="Loop forever", cwd=str(sandbox.project), max_turns=1)
            stdout = stream_lines(manager, result.execution_id)

    assert result.status == "failed", result
    assert result.exit_code == 1 and result.result is None
    assert "maximum number of turns" in result.error and "Reached maximum number of turns (1)" in result.error
    assert "max_turns" in result.hint
    assert_like_reference(stdout, "real_maxturns.jsonl")
    assert len(api.messages_requests) == 1
    assert_real_cli(api, stdout)


@pytest.mark.parametrize(
    ("case", "api_key", "said"),
    [("api-401", "test-key", "Invalid API key"), ("no-key", None, "Not logged in")],
)
async def test_authentication_failure(claude_bin, sandbox, case, api_key, said):
    """A key the API refuses (401), or no key at all (as no_credentials.jsonl): the CLI prints an error
    result and exits 1; the task fails and says why."""
    with fake.fake_anthropic_api(fake.api_error(401)) as api, handler_for(sandbox, api, api_key) as handler:
        async with bridge_to(handler, sandbox, claude_bin) as manager:
            result = await run_task(manager, task="Say hello", cwd=str(sandbox.project))
            stdout = stream_lines(manager, result.execution_id)

    assert result.status == "failed", result
    assert result.exit_code == 1 and result.result is None
    assert said in result.error, result.error
    assert stdout[-1]["type"] == "result" and stdout[-1]["is_error"] is True
    if api_key:
        assert len(api.messages_requests) == 1  # a 401 is not retried
        assert stdout[-1]["api_error_status"] == 401
    else:
        assert_like_reference(stdout, "no_credentials.jsonl")
        assert stdout[0]["apiKeySource"] == "none"
        assert api.messages_requests == []  # without a key the CLI does not even ask


async def test_cancel_while_the_api_streams(claude_bin, sandbox):
    """Cancel through the bridge while the fake API is still streaming the answer: the task ends
    canceled, the CLI drops the stream, and no claude process is left."""
    marker = new_marker()
    script = fake.slow_answer("word " * 400, chunks=400, delay_s=0.05)  # 20 s of streaming
    with fake.fake_anthropic_api(script) as api, handler_for(sandbox, api) as handler:
        async with bridge_to(handler, sandbox, claude_bin) as manager:
            request = TaskRequest.for_claude(
                TaskSpec(task=f"Talk slowly {marker}", cwd=str(sandbox.project)), manager.settings
            )
            execution = manager.submit(request)
            assert await asyncio.to_thread(api.stream_started.wait, TASK_WAIT_S), api.describe()
            claude_pids = _claude_processes(sandbox, claude_bin)
            assert claude_pids, support.processes_with_env(f"HOME={sandbox.home}")
            changed, _ = await manager.control(execution.id, "cancel")
            assert changed
            result = await asyncio.wait_for(manager.follow(execution), TASK_WAIT_S)

        assert result.status == "canceled", result
        assert result.duration_ms < 10_000  # long before the 20 s answer would have ended
        assert await asyncio.to_thread(api.stream_aborted.wait, 5), "the CLI kept reading the stream"
        assert not api.closing.is_set()
        deadline = time.monotonic() + 5
        while (left := _claude_processes(sandbox, claude_bin)) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    assert not left, f"processes left after cancel: {left}"
    assert all(not Path(f"/proc/{pid}").exists() or _is_zombie(pid) for pid in claude_pids)


def _claude_processes(sandbox, claude_bin: Path) -> dict[int, str]:
    """The CLI's processes started for this test (the task is on their stdin, not in their argv)."""
    started = support.processes_with_env(f"HOME={sandbox.home}")
    return {pid: cmd for pid, cmd in started.items() if cmd.startswith(str(claude_bin))}


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


# -- b. the real CLI as the bridge's MCP host ------------------------------------------------


def bridge_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "cc_executor", "mcp", "--backend", "local", *extra]


def test_claude_mcp_add_and_list(claude_bin, sandbox):
    """`claude mcp add cc-executor -- … mcp`, then `claude mcp list` starts the bridge and finds it connected."""
    env = sandbox.full_env()
    added = support.run(
        [claude_bin, "mcp", "add", "cc-executor", "--", *bridge_command()], env=env, cwd=sandbox.project
    )
    assert added.returncode == 0, added.explain()
    assert "Added stdio MCP server cc-executor" in added.stdout, added.explain()
    config = json.loads((sandbox.home / ".claude.json").read_text())
    server = config["projects"][str(sandbox.project)]["mcpServers"]["cc-executor"]
    assert server["command"] == sys.executable and server["args"] == bridge_command()[1:]

    listed = support.run([claude_bin, "mcp", "list"], env=env, cwd=sandbox.project, timeout=45)
    assert listed.returncode == 0, listed.explain()
    line = f"cc-executor: {' '.join(bridge_command())} - "
    assert re.search(rf"^{re.escape(line)}[✓✔] Connected$", listed.stdout, re.MULTILINE), listed.explain()


def test_claude_calls_the_bridge_which_runs_claude(claude_bin, sandbox):
    """A real `claude -p` whose model calls mcp__cc-executor__execute_task; the bridge runs a second real
    claude for it, and the first one's answer carries the second one's result."""
    secret = new_marker()
    inner_dir = sandbox.home / "inner"
    inner_dir.mkdir()
    tool = "mcp__cc-executor__execute_task"

    def script(request):
        if "Answer from the inner claude" in request.prompt_text():
            return fake.Text(f"inner answer {secret}")
        if not request.tool_results():
            return fake.ToolUse(tool, {"task": "Answer from the inner claude", "cwd": str(inner_dir)})
        return fake.Text(f"The bridge said: {request.tool_result_text()}")

    with fake.fake_anthropic_api(script) as api:
        env = sandbox.full_env(api.url)
        command = bridge_command("--claude-bin", str(claude_bin))
        added = support.run([claude_bin, "mcp", "add", "cc-executor", "--", *command], env=env, cwd=sandbox.project)
        assert added.returncode == 0, added.explain()
        outer = support.run(
            [claude_bin, "-p", "--output-format", "stream-json", "--verbose", "--allowedTools", tool, "--", "Delegate"],
            env=env,
            cwd=sandbox.project,
            timeout=45,
        )
    assert outer.returncode == 0, outer.explain() + "\n" + api.describe()
    messages = [json.loads(line) for line in outer.stdout.splitlines()]
    init, final = messages[0], messages[-1]
    # claude -p connects local-scope servers in the background: at init the bridge may still be "pending"
    # (its tools listed once connected); the tool call below is what proves the connection.
    (server,) = [server for server in init["mcp_servers"] if server["name"] == "cc-executor"]
    assert server["status"] in ("connected", "pending"), init["mcp_servers"]
    if server["status"] == "connected":
        assert BRIDGE_TOOLS <= {name.removeprefix("mcp__cc-executor__") for name in init["tools"]}
    assert final["type"] == "result" and final["is_error"] is False, final
    assert final["result"].startswith("The bridge said: ")
    task_result = json.loads(final["result"].removeprefix("The bridge said: "))
    assert task_result["status"] == "completed", task_result
    assert task_result["result"] == f"inner answer {secret}"
    assert task_result["backend"] == "local" and task_result["num_turns"] == 1
    assert len(api.messages_requests) == 3  # outer, inner, outer again


# -- c. the MCP Inspector as the bridge's MCP client -----------------------------------------


def inspector(inspector_bin: Path, sandbox, *method: str, env_vars: dict[str, str] | None = None) -> Any:
    """`mcp-inspector --cli -e K=V … <bridge> --method …`; its JSON answer. The Inspector gives the server
    only a default environment (HOME, PATH, …) plus -e, so the bridge's settings go as -e."""
    variables = {"CC_EXECUTOR_DATA_DIR": str(sandbox.data_dir), **(env_vars or {})}
    flags = [arg for name, value in variables.items() for arg in ("-e", f"{name}={value}")]
    done = support.run(
        [inspector_bin, "--cli", *flags, *bridge_command(), *method],
        env=sandbox.full_env(),
        cwd=sandbox.project,
        timeout=45,
    )
    assert done.returncode == 0, done.explain()
    try:
        return json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"the Inspector did not print JSON:\n{done.explain()}")


def test_inspector_lists_the_tools(inspector_bin, sandbox):
    answer = inspector(inspector_bin, sandbox, "--method", "tools/list")
    assert {tool["name"] for tool in answer["tools"]} == BRIDGE_TOOLS
    for tool in answer["tools"]:
        assert tool["inputSchema"]["type"] == "object" and tool["outputSchema"]["type"] == "object"


def test_inspector_calls_get_hook_status(inspector_bin, sandbox):
    answer = inspector(inspector_bin, sandbox, "--method", "tools/call", "--tool-name", "get_hook_status")
    assert answer["isError"] is False
    assert answer["structuredContent"]["backend"] == "local"
    assert answer["structuredContent"]["enabled"] is False


def test_inspector_calls_execute_task_with_the_fake_claude(inspector_bin, sandbox):
    task = f"hello from the inspector {new_marker()}"
    fake_claude = {
        "CC_EXECUTOR_CLAUDE_BIN": str(support.claude_helpers.FAKE_CLAUDE_BIN),
        "FAKE_CLAUDE_PYTHON": sys.executable,
    }
    answer = inspector(
        inspector_bin,
        sandbox,
        *("--method", "tools/call", "--tool-name", "execute_task", "--tool-arg", f"task={task}"),
        env_vars=fake_claude,
    )
    assert answer["isError"] is False, answer
    result = answer["structuredContent"]
    assert result["status"] == "completed" and result["result"] == f"Echo: {task}", result
    assert result["backend"] == "local" and result["num_turns"] == 1
    assert f"Echo: {task}" in answer["content"][0]["text"]
