"""`cc-executor run`: one task from the terminal, through the bridge's engine, as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import bridge_helpers as b

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def closed_handler_url() -> str:
    return f"ws://127.0.0.1:{b.free_port()}/ws/mcp"  # nothing listens there


def run(data_dir: Path, *args: str, claude_bin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in b.DROPPED_ENV and k != "CC_EXECUTOR_HANDLER_URL"}
    env["CC_EXECUTOR_DATA_DIR"] = str(data_dir)
    env.update(extra)
    if claude_bin is not None:
        env["CC_EXECUTOR_CLAUDE_BIN"] = claude_bin
    command = [sys.executable, "-m", "cc_executor", "run", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_a_command_runs_locally_when_no_handler_answers_and_its_exit_code_is_kept(tmp_path, closed_handler_url):
    done = run(tmp_path, "--command", "echo hi; echo warn >&2; exit 3", "--handler-url", closed_handler_url)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "hi\n"
    assert "warn" in done.stderr
    assert "failed exit 3" in done.stderr and "backend: local" in done.stderr
    assert "the named handler did not take the task; running it locally" in done.stderr
    assert f"cannot reach {closed_handler_url}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_handler_named_in_the_environment_is_named_too(tmp_path, closed_handler_url):
    done = run(tmp_path, "--command", "echo hi", "--json", CC_EXECUTOR_HANDLER_URL=closed_handler_url)
    assert done.returncode == 0, done.stderr
    assert "running it locally" in done.stderr and closed_handler_url in done.stderr
    assert closed_handler_url in json.loads(done.stdout)["handler_error"]


def test_backend_handler_without_a_handler_fails_and_says_nothing_ran(tmp_path, closed_handler_url):
    done = run(tmp_path, "--command", "echo hi", "--backend", "handler", "--handler-url", closed_handler_url, "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "failed" and result["backend"] == "none"
    assert f"cannot reach {closed_handler_url}" in result["error"]


def test_json_puts_only_the_result_on_stdout(tmp_path, closed_handler_url):
    done = run(tmp_path, "--command", "echo hi", "--handler-url", closed_handler_url, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # nothing else on stdout, not even the command's own output
    assert result["status"] == "completed"
    assert result["exit_code"] == 0
    assert result["backend"] == "local"
    stored = tmp_path / "outputs" / result["execution_id"] / "stdout.txt"
    assert stored.read_text() == "hi\n"


def test_a_claude_task_prints_its_result(tmp_path, closed_handler_url):
    done = run(tmp_path, "summarise --nothing", "--handler-url", closed_handler_url, claude_bin=str(b.FAKE_CLAUDE_BIN))
    assert done.returncode == 0, done.stderr
    assert "completed on local" in done.stdout
    assert done.stdout.rstrip().endswith("Echo: summarise --nothing")


def test_a_claude_task_as_json(tmp_path):
    done = run(tmp_path, "[fake:tool calls=2]", "--backend", "local", "--json", claude_bin=str(b.FAKE_CLAUDE_BIN))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed" and result["result"] == "The answer is 3."
    assert result["num_turns"] == 3


def test_claude_not_logged_in_exits_non_zero_with_the_reason(tmp_path):
    done = run(tmp_path, "[fake:auth]", "--backend", "local", claude_bin=str(b.FAKE_CLAUDE_BIN))
    assert done.returncode == 1
    assert "failed" in done.stdout and "log in" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_missing_claude_binary_is_a_clear_error(tmp_path, closed_handler_url):
    missing = str(tmp_path / "nowhere" / "claude")
    done = run(tmp_path, "hello", "--handler-url", closed_handler_url, claude_bin=missing)
    assert done.returncode != 0
    assert f"the claude executable '{missing}' was not found" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_task_and_command_together_are_refused(tmp_path):
    done = run(tmp_path, "a task", "--command", "echo hi")
    assert done.returncode == 2
    assert "give a TASK, --command or --task-list (one of them)" in done.stderr
    assert done.stdout == ""


def test_the_bridge_logs_one_json_line_per_task_start_and_end(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", JSON_LOG_PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    by_message = {record["msg"]: record for record in records}
    assert by_message["task started"]["backend"] == "local"
    ended = by_message["task ended"]
    assert ended["status"] == "completed" and ended["bytes_out"] == 3 and len(ended["command_sha256"]) == 12


JSON_LOG_PROBE = """
import asyncio, sys
from pathlib import Path
from cc_executor.bridge.executions import BridgeSettings, ExecutionManager, TaskRequest
from cc_executor.logs import configure_logging
configure_logging("json")
async def main():
    settings = BridgeSettings(data_dir=Path(sys.argv[1]), backend="local")
    manager = ExecutionManager(settings)
    await manager.run_to_end(TaskRequest.for_command("printf abc", settings))
    await manager.close()
asyncio.run(main())
"""


def test_running_a_task_from_the_terminal_loads_no_mcp_sdk_and_no_http_client(tmp_path):
    """`run` needs the engine, not the MCP server, and with no handler on this machine (the default socket is not
    there) no HTTP client either: each used to cost half a second or more before anything ran."""
    probe = (
        "import sys\n"
        "from cc_executor.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print(sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'mcp_types', 'httpx', 'starlette'}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in b.DROPPED_ENV and k != "CC_EXECUTOR_HANDLER_URL"}
    env["CC_EXECUTOR_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", probe, "run", "--command", "echo hi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert done.stdout == "hi\n[]\n", done.stderr
    assert "completed exit 0" in done.stderr and "backend: local" in done.stderr
