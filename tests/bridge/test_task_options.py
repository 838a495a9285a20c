"""Issue 11 over MCP, on both backends (the bridge itself, and a real handler): prompts of any size on stdin,
sessions (resume, fork), the CLI's other task options, Claude Code's own hooks in progress, and the hooks file
(get_hook_status, a pre-execute hook that refuses a task). The fake claude plays the CLI (tests/fixtures)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fixtures import bridge_helpers as b

from cc_executor.contract_tests.live_handler import LiveHandler, live_handler
from cc_executor.handler.hooks_file import HooksSetup, load_hooks

pytestmark = pytest.mark.timeout(60)

HOOKS = {
    "pre-execute": "echo pre-ok",
    "pre-claude": {"command": "test ! -e \"$CC_EXECUTOR_CWD/refuse\" || { echo 'refused by policy' >&2; exit 5; }"},
    "post-execute": "echo post-ok",
}


@pytest.fixture(scope="module")
def hooks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hooks") / ".claude-hooks.json"
    path.write_text(json.dumps({"hooks": HOOKS, "timeout": 10}))
    return path


@pytest.fixture(scope="module")
def handler(hooks_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHandler]:
    home = tmp_path_factory.mktemp("handler-home")
    with live_handler("--hooks", str(hooks_file), env={"HOME": str(home)}) as running:
        yield running


@pytest.fixture(params=["local", "handler"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def bridge(
    backend: str, tmp_path: Path, handler: LiveHandler, hooks_file: Path, **overrides
) -> AsyncIterator[b.McpBridge]:
    if backend == "handler":
        overrides |= {"handler_urls": (handler.url,), "token": handler.token, "backend": "handler"}
    else:
        overrides |= {"hooks": HooksSetup(load_hooks(hooks_file))}
    async with b.mcp_bridge(tmp_path, **overrides) as br:
        yield br


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake keeps sessions in $HOME/.claude, as the real CLI: here, the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


# -- prompts of any size ----------------------------------------------------------------------------


async def test_a_4_mib_task_reaches_claude_intact(backend, tmp_path, handler, hooks_file):
    line = "Ünïcødé line of the embedded file, with 'quotes', $VARS and `backticks`; — ✓\n"
    task = "[fake:digest] Summarise this file:\n" + line * (4 * 1024 * 1024 // len(line.encode()))
    size = len(task.encode())
    assert 4 * 1024 * 1024 - 200 < size <= 4 * 1024 * 1024
    async with bridge(backend, tmp_path, handler, hooks_file) as br:
        data = await br.ok("execute_task", {"task": task})
        too_big = await br.error("execute_task", {"task": task + "x" * 200})
    assert json.loads(data["result"]) == {"bytes": size, "sha256": hashlib.sha256(task.encode()).hexdigest()}
    assert "at most 4,194,304 (4 MiB) are taken" in too_big


# -- sessions ----------------------------------------------------------------------------------------


async def test_a_follow_up_continues_the_session_and_a_fork_branches_it(backend, tmp_path, handler, hooks_file):
    async with bridge(backend, tmp_path, handler, hooks_file) as br:
        first = await br.ok("execute_task", {"task": "Remember: the password is swordfish"})
        session = first["session_id"]
        follow = await br.ok("execute_task", {"task": "[fake:recall] What was it?", "resume_session_id": session})
        fork = await br.ok(
            "execute_task", {"task": "[fake:recall] branch", "resume_session_id": session, "fork_session": True}
        )
        recent = await br.ok("get_execution_status", {"limit": 3})
        unknown = await br.failed("execute_task", {"task": "hi", "resume_session_id": "no-such-session"})
        refused = await br.error("execute_task", {"task": "hi", "fork_session": True})
    recalled = json.loads(follow["result"])
    assert follow["session_id"] == session == recalled["session_id"]
    assert recalled["history"] == ["Remember: the password is swordfish"]
    branched = json.loads(fork["result"])
    assert fork["session_id"] == branched["session_id"] != session
    assert branched["history"] == ["Remember: the password is swordfish", "[fake:recall] What was it?"]
    assert [row.get("session_id") for row in recent["recent"]] == [fork["session_id"], session, session]
    assert "No conversation found with session ID: no-such-session" in unknown["error"]
    assert "resume_session_id must be the session_id of an earlier task's result" in unknown["hint"]
    assert "fork_session needs resume_session_id" in refused


# -- the CLI's other options ---------------------------------------------------------------------------


async def test_json_schema_gives_structured_output(backend, tmp_path, handler, hooks_file):
    schema = {"type": "object", "properties": {"path": {"type": "string"}, "bytes": {"type": "integer"}}}
    schema["required"] = ["path", "bytes"]
    async with bridge(backend, tmp_path, handler, hooks_file) as br:
        result = await br.call("execute_task", {"task": "Name the largest file", "json_schema": schema})
        missing = await br.failed("execute_task", {"task": "[fake:success structured=0] x", "json_schema": schema})
    data = result.structured_content
    assert not result.is_error and data["status"] == "completed"
    assert data["structured_output"] == {"path": "fake", "bytes": 1} and "result" not in data
    assert 'Structured output:\n{"path": "fake", "bytes": 1}' in b.text_of(result)
    assert missing["status"] == "failed" and "without the structured output json_schema asks for" in missing["error"]
    assert "saying in the task what the JSON should hold" in missing["hint"]


async def test_a_hit_budget_is_a_clear_failure(backend, tmp_path, handler, hooks_file):
    async with bridge(backend, tmp_path, handler, hooks_file) as br:
        data = await br.failed("execute_task", {"task": "[fake:tool calls=5] loop", "max_budget_usd": 0.0005})
    assert data["status"] == "failed" and data["exit_code"] == 1
    assert "spending limit (--max-budget-usd)" in data["error"] and "Reached maximum budget ($0.0005)" in data["error"]
    assert "larger max_budget_usd" in data["hint"]
    assert data["total_cost_usd"] > 0.0005


async def test_options_reach_the_cli(backend, tmp_path, handler, hooks_file):
    extra = tmp_path / "extra"
    extra.mkdir()
    options = {
        "system_prompt": "You are terse.",
        "fallback_model": "sonnet",
        "add_dirs": [str(extra)],
        "settings": {"env": {"X": "1"}},
    }
    async with bridge(backend, tmp_path, handler, hooks_file) as br:
        data = await br.ok("execute_task", {"task": "[fake:echo_args]", **options})
    seen = json.loads(data["result"])["options"]
    assert seen["system_prompt"] == "You are terse." and seen["fallback_model"] == "sonnet"
    assert seen["add_dir"] == [str(extra)] and json.loads(seen["settings"]) == {"env": {"X": "1"}}
    assert seen["include_hook_events"] is True


async def test_claude_codes_own_hooks_show_in_progress(backend, tmp_path, handler, hooks_file):
    """Progress shows them as steps (rate-limited, so the transcript is checked: it has every step)."""
    settings = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo lint-clean"}]}]}}
    async with bridge(backend, tmp_path, handler, hooks_file, progress_interval_s=0) as br:
        result = await br.call("execute_task", {"task": "tidy up", "settings": settings})
        page = await br.ok("get_execution_output", {"execution_id": result.structured_content["execution_id"]})
    assert not result.is_error
    assert "turn 1 · Claude Code hook Stop: success: lint-clean" in page["data"].splitlines()


# -- the hooks file -----------------------------------------------------------------------------------


async def test_hooks_run_around_tasks_and_get_hook_status_reports_them(backend, tmp_path, handler, hooks_file):
    refuse_dir = tmp_path / "guarded"
    refuse_dir.mkdir()
    (refuse_dir / "refuse").touch()
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with bridge(backend, tmp_path, handler, hooks_file, progress_interval_s=0) as br:  # every step reported
        ok = await br.call("execute_task", {"task": "hooked"}, progress_callback=on_progress)
        refused = await br.failed("execute_task", {"task": "not here", "cwd": str(refuse_dir)})
        status = await br.ok("get_hook_status", {})
    assert not ok.is_error
    assert [p for p in progress if p.startswith("hook ")] == [
        "hook pre-execute `echo pre-ok`: ok",
        "hook pre-claude `" + HOOKS["pre-claude"]["command"] + "`: ok",
        "hook post-execute `echo post-ok`: ok",
    ]
    assert refused["backend"] == "none" and "exit_code" not in refused
    assert "The pre-claude hook `test ! -e" in refused["error"] and "refused by policy" in refused["error"]
    assert status["enabled"] is True and status["config_path"] == str(hooks_file)
    assert status["backend"] == (handler.url if backend == "handler" else "local")
    assert [s["stage"] for s in status["stages"]] == ["pre-execute", "pre-claude", "post-execute"]
    assert status["last_runs"][-1]["status"] == "failed" and status["last_runs"][-1]["stage"] == "pre-claude"
    assert len(json.dumps(status)) < 4000
