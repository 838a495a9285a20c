"""The claude argv builder: flag names, the task on stdin (never on the command line), and a round trip
through the fake claude (which parses its argv as the real CLI's commander does)."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest
from fixtures import claude_helpers as h

from cc_executor.bridge.claude_command import (
    CLAUDE_BIN_ENV,
    HEADLESS_FLAGS,
    MAX_ARG_BYTES,
    build_claude_argv,
    resolve_claude_bin,
)
from cc_executor.bridge.task_request import MAX_TASK_BYTES, TaskRequest
from cc_executor.bridge.tool_specs import load_tools
from cc_executor.generated.mcp.common import TaskSpec

ALL_OPTIONS = {
    "model": "sonnet",
    "allowed_tools": ["Read", "Bash(git log:*)", "mcp__bridge__add"],
    "disallowed_tools": ["WebFetch", "WebSearch"],
    "permission_mode": "acceptEdits",
    "max_turns": 7,
    "append_system_prompt": "Be brief.\nReally.",
    "mcp_config": '{"mcpServers":{"bridge":{"command":"x"}}}',
    "resume_session_id": "11111111-2222-4333-8444-555555555555",
    "fork_session": True,
    "max_budget_usd": 0.25,
    "json_schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
    "system_prompt": "You are terse.",
    "fallback_model": "sonnet,haiku",
    "add_dirs": ["/srv/data", "/srv/more data"],
    "settings": {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}},
}
HEAD = ["-p", "--output-format", "stream-json", "--verbose", "--include-hook-events"]


def test_minimal_argv_has_no_task() -> None:
    assert build_claude_argv("claude") == ["claude", *HEAD]
    assert list(HEADLESS_FLAGS) == HEAD


def test_every_option_uses_the_cli_flag_names() -> None:
    argv = build_claude_argv("/opt/claude", **ALL_OPTIONS)
    assert argv == [
        "/opt/claude",
        *HEAD,
        *("--model", "sonnet", "--fallback-model", "sonnet,haiku"),
        *("--allowedTools", "Read,Bash(git log:*),mcp__bridge__add", "--disallowedTools", "WebFetch,WebSearch"),
        *("--permission-mode", "acceptEdits", "--max-turns", "7", "--max-budget-usd", "0.25"),
        *("--system-prompt", "You are terse.", "--append-system-prompt", "Be brief.\nReally."),
        *("--json-schema", '{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}'),
        *("--settings", '{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"true"}]}]}}'),
        *("--mcp-config", '{"mcpServers":{"bridge":{"command":"x"}}}'),
        *("--add-dir", "/srv/data", "--add-dir", "/srv/more data"),
        *("--resume", "11111111-2222-4333-8444-555555555555", "--fork-session"),
    ]


def test_a_settings_file_goes_as_its_path() -> None:
    assert build_claude_argv("claude", settings="/etc/claude/task.json")[-2:] == ["--settings", "/etc/claude/task.json"]


def test_empty_options_are_left_out() -> None:
    argv = build_claude_argv("claude", model="", allowed_tools=[], disallowed_tools=[], mcp_config="", add_dirs=[])
    assert argv == ["claude", *HEAD]


def test_fork_needs_a_session_to_fork() -> None:
    with pytest.raises(ValueError, match="fork_session needs resume_session_id"):
        build_claude_argv("claude", fork_session=True)


@pytest.mark.parametrize("kwargs", [{"model": "x\x00"}, {"system_prompt": "é" * (MAX_ARG_BYTES // 2 + 1)}])
def test_rejects_what_the_kernel_would(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        build_claude_argv("claude", **kwargs)


def test_the_task_goes_to_stdin_whatever_its_size(tmp_path: Path) -> None:
    from cc_executor.bridge.settings import BridgeSettings

    settings = BridgeSettings(data_dir=tmp_path, claude_bin="claude")
    task = "é" * (MAX_TASK_BYTES // 2)  # 4 MiB of UTF-8: 32 times what one argument may hold
    request = TaskRequest.for_claude(TaskSpec(task=task), settings)
    assert request.stdin == task
    assert task not in request.command and len(request.command) < 200
    with pytest.raises(ValueError, match="at most 4,194,304"):
        TaskRequest.for_claude(TaskSpec(task=task + "x"), settings)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"task": ""}, "task"),
        ({"task": "  \n"}, "task"),
        ({"task": "t", "permission_mode": "yolo"}, "permission_mode"),
        ({"task": "t", "max_turns": 0}, "max_turns"),
        ({"task": "t", "max_turns": True}, "max_turns"),
        ({"task": "t", "max_turns": "3"}, "max_turns"),
        ({"task": "t", "allowed_tools": "Read"}, "allowed_tools"),
        ({"task": "t", "cwd": "relative/dir"}, "cwd"),
        ({"task": "t", "max_budget_usd": 0}, "max_budget_usd"),
        ({"task": "t", "json_schema": "not an object"}, "json_schema"),
        ({"task": "t", "add_dirs": ["relative"]}, "add_dirs.0"),
        ({"task": "t", "settings": "relative.json"}, "settings"),
        ({"task": "t", "resume_session_id": "-x"}, "resume_session_id"),
        ({"task": "t", "fork_session": "yes"}, "fork_session"),
    ],
)
def test_what_the_cli_would_refuse_is_refused_by_the_spec_before_the_builder(arguments: dict, field: str) -> None:
    """The builder checks only what no schema can say: the rest is spec/mcp's (checked once, at the MCP boundary)."""
    errors = load_tools()["execute_task"].argument_errors(arguments)
    assert errors and all(error.startswith(f"{field}:") for error in errors), errors


def _fake_module():
    spec = importlib.util.spec_from_file_location("fake_claude_module", h.FAKE_CLAUDE)
    assert spec is not None and spec.loader is not None
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    return fake


def test_the_permission_modes_are_those_the_cli_accepts() -> None:
    """claude 2.1.330 lists acceptEdits, auto, bypassPermissions, manual, dontAsk, plan, and still takes default."""
    spec = json.loads((h.REPO / "spec" / "mcp" / "common.json").read_text())["$defs"]["PermissionMode"]["enum"]
    fake = _fake_module()
    assert set(spec) - {None} == {*fake.PERMISSION_MODES, "default"}
    assert fake.PERMISSION_MODES == ("acceptEdits", "auto", "bypassPermissions", "manual", "dontAsk", "plan")


def test_resolve_claude_bin_order(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {CLAUDE_BIN_ENV: "/env/claude"}
    assert resolve_claude_bin("/flag/claude", environ=env) == "/flag/claude"
    assert resolve_claude_bin(None, environ=env) == "/env/claude"
    assert resolve_claude_bin(None, environ={CLAUDE_BIN_ENV: ""}) == "claude"
    assert resolve_claude_bin(None, environ={}) == "claude"
    monkeypatch.setenv(CLAUDE_BIN_ENV, "/from/os/environ")
    assert resolve_claude_bin(None) == "/from/os/environ"
    monkeypatch.delenv(CLAUDE_BIN_ENV)
    assert resolve_claude_bin() == "claude"


# ---- round trip through the fake ---------------------------------------------------

#: Flags, a subcommand's name, quotes and shell syntax: on stdin nothing of it is parsed.
TRICKY = "--model x -p [fake:echo_args] 'quotes' \"dq\" $HOME `id` ; rm -rf / \n line2 · — ✓"


def _echo(finished) -> dict:
    assert finished.returncode == 0, finished.stderr
    outcome = finished.outcome()
    assert outcome.ok, outcome.error_message
    return json.loads(outcome.result)


def test_round_trip_through_the_fake(tmp_path: Path) -> None:
    options = {key: value for key, value in ALL_OPTIONS.items() if key not in ("resume_session_id", "fork_session")}
    argv = build_claude_argv(str(h.FAKE_CLAUDE_BIN), **options)
    echo = _echo(h.run_fake(argv, cwd=tmp_path, input=TRICKY.encode()))
    assert echo["argv"] == argv[1:]
    assert echo["prompt"] == TRICKY
    assert echo["cwd"] == str(tmp_path)
    assert echo["options"] == {
        "print": True,
        "output_format": "stream-json",
        "verbose": True,
        "include_hook_events": True,
        "model": "sonnet",
        "fallback_model": "sonnet,haiku",
        "allowed_tools": ["Read,Bash(git log:*),mcp__bridge__add"],
        "disallowed_tools": ["WebFetch,WebSearch"],
        "permission_mode": "acceptEdits",
        "max_turns": "7",
        "max_budget_usd": "0.25",
        "system_prompt": "You are terse.",
        "append_system_prompt": "Be brief.\nReally.",
        "json_schema": argv[argv.index("--json-schema") + 1],
        "settings": argv[argv.index("--settings") + 1],
        "mcp_config": ['{"mcpServers":{"bridge":{"command":"x"}}}'],
        "add_dir": ["/srv/data", "/srv/more data"],
    }


@pytest.mark.parametrize("task", ["update", "-x", "--help", "--", "doctor the tests"])
def test_a_task_that_looks_like_a_flag_or_a_subcommand_stays_the_task(task: str) -> None:
    argv = build_claude_argv(str(h.FAKE_CLAUDE_BIN), allowed_tools=["Read"])
    outcome = h.run_fake(argv, input=task.encode()).outcome()
    assert outcome.ok and outcome.result == f"Echo: {task}"


def test_round_trip_through_a_shell_with_shlex_join() -> None:
    argv = build_claude_argv("claude", allowed_tools=["Read"], max_turns=2)
    echo = _echo(h.run_fake(["/bin/sh", "-c", shlex.join(argv)], input=TRICKY.encode()))  # found on PATH: fake_env
    assert echo["argv"] == argv[1:]
    assert echo["prompt"] == TRICKY


def test_the_model_option_reaches_the_session() -> None:
    argv = build_claude_argv(str(h.FAKE_CLAUDE_BIN), model="claude-sonnet-5-5")
    init = h.run_fake(argv, input=b"hi").messages[0]
    assert init["model"] == "claude-sonnet-5-5"
