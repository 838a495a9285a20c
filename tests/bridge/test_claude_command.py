"""The claude argv builder: flag names, the task after ``--``, and a round trip through
the fake claude (which parses its argv as the real CLI's commander does)."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest
from fixtures import claude_helpers as h

from cc_executor.bridge.claude_command import (
    CLAUDE_BIN_ENV,
    CLAUDE_SUBCOMMANDS,
    MAX_ARG_BYTES,
    build_claude_argv,
    resolve_claude_bin,
)
from cc_executor.bridge.tool_specs import load_tools

ALL_OPTIONS = {
    "model": "sonnet",
    "allowed_tools": ["Read", "Bash(git log:*)", "mcp__bridge__add"],
    "disallowed_tools": ["WebFetch", "WebSearch"],
    "permission_mode": "acceptEdits",
    "max_turns": 7,
    "append_system_prompt": "Be brief.\nReally.",
    "mcp_config": '{"mcpServers":{"bridge":{"command":"x"}}}',
}


def test_minimal_argv() -> None:
    assert build_claude_argv("claude", "Say hi") == [
        "claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--",
        "Say hi",
    ]


def test_every_option_uses_the_cli_flag_names() -> None:
    argv = build_claude_argv("/opt/claude", "do it", **ALL_OPTIONS)
    assert argv == [
        "/opt/claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--model",
        "sonnet",
        "--allowedTools",
        "Read,Bash(git log:*),mcp__bridge__add",
        "--disallowedTools",
        "WebFetch,WebSearch",
        "--permission-mode",
        "acceptEdits",
        "--max-turns",
        "7",
        "--append-system-prompt",
        "Be brief.\nReally.",
        "--mcp-config",
        '{"mcpServers":{"bridge":{"command":"x"}}}',
        "--",
        "do it",
    ]


def test_empty_options_are_left_out() -> None:
    argv = build_claude_argv("claude", "t", model="", allowed_tools=[], disallowed_tools=[], mcp_config="")
    assert argv == ["claude", "-p", "--output-format", "stream-json", "--verbose", "--", "t"]


@pytest.mark.parametrize("task", ["-x", "--help", "--version", "-p", "--", "- list item"])
def test_a_task_that_looks_like_a_flag_stays_the_task(task: str) -> None:
    argv = build_claude_argv("claude", task, allowed_tools=["Read"])
    assert argv[-2:] == ["--", task]


def test_a_task_that_names_a_subcommand_is_not_dispatched() -> None:
    assert build_claude_argv("claude", "update")[-1] == "update\n"
    assert build_claude_argv("claude", "update the docs")[-1] == "update the docs"


def _fake_module():
    spec = importlib.util.spec_from_file_location("fake_claude_module", h.FAKE_CLAUDE)
    assert spec is not None and spec.loader is not None
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    return fake


def test_subcommand_lists_agree_with_the_fake() -> None:
    assert _fake_module().SUBCOMMANDS == CLAUDE_SUBCOMMANDS


@pytest.mark.parametrize("kwargs", [{"task": "a\x00b"}, {"task": "é" * (MAX_ARG_BYTES // 2 + 1)}, {"model": "x\x00"}])
def test_rejects_what_the_kernel_would(kwargs: dict) -> None:
    task = kwargs.pop("task", "t")
    with pytest.raises(ValueError):
        build_claude_argv("claude", task, **kwargs)


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
    ],
)
def test_what_the_cli_would_refuse_is_refused_by_the_spec_before_the_builder(arguments: dict, field: str) -> None:
    """The builder checks only what no schema can say: the rest is spec/mcp's (checked once, at the MCP boundary)."""
    errors = load_tools()["execute_task"].argument_errors(arguments)
    assert errors and all(error.startswith(f"{field}:") for error in errors), errors


def test_the_permission_modes_are_those_the_cli_accepts() -> None:
    """claude 2.1.330 lists acceptEdits, auto, bypassPermissions, manual, dontAsk, plan, and still takes default."""
    spec = json.loads((h.REPO / "spec" / "mcp" / "common.json").read_text())["$defs"]["PermissionMode"]["enum"]
    fake = _fake_module()
    assert set(spec) - {None} == {*fake.PERMISSION_MODES, "default"}
    assert fake.PERMISSION_MODES == ("acceptEdits", "auto", "bypassPermissions", "manual", "dontAsk", "plan")


def test_longest_task_is_accepted() -> None:
    assert build_claude_argv("claude", "x" * MAX_ARG_BYTES)[-1] == "x" * MAX_ARG_BYTES


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

TRICKY = "--model x -p [fake:echo_args] 'quotes' \"dq\" $HOME `id` ; rm -rf / \n line2 · — ✓"


def _echo(finished) -> dict:
    assert finished.returncode == 0, finished.stderr
    outcome = finished.outcome()
    assert outcome.ok, outcome.error_message
    return json.loads(outcome.result)


def test_round_trip_through_the_fake(tmp_path: Path) -> None:
    argv = build_claude_argv(str(h.FAKE_CLAUDE_BIN), TRICKY, **ALL_OPTIONS)
    echo = _echo(h.run_fake(argv, cwd=tmp_path))
    assert echo["argv"] == argv[1:]
    assert echo["prompt"] == TRICKY
    assert echo["cwd"] == str(tmp_path)
    assert echo["options"] == {
        "print": True,
        "output_format": "stream-json",
        "verbose": True,
        "model": "sonnet",
        "allowed_tools": ["Read,Bash(git log:*),mcp__bridge__add"],
        "disallowed_tools": ["WebFetch,WebSearch"],
        "permission_mode": "acceptEdits",
        "max_turns": "7",
        "append_system_prompt": "Be brief.\nReally.",
        "mcp_config": ['{"mcpServers":{"bridge":{"command":"x"}}}'],
    }


def test_round_trip_through_a_shell_with_shlex_join() -> None:
    argv = build_claude_argv("claude", TRICKY, allowed_tools=["Read"], max_turns=2)
    echo = _echo(h.run_fake(["/bin/sh", "-c", shlex.join(argv)]))  # found on PATH: fake_env
    assert echo["argv"] == argv[1:]
    assert echo["prompt"] == TRICKY


def test_the_model_option_reaches_the_session() -> None:
    argv = build_claude_argv(str(h.FAKE_CLAUDE_BIN), "hi", model="claude-sonnet-5-5")
    init = h.run_fake(argv).messages[0]
    assert init["model"] == "claude-sonnet-5-5"


def test_without_the_separator_the_cli_would_misread_the_task() -> None:
    """Why the builder puts ``--`` before the task: the CLI's variadic options swallow a
    following task, and a task starting with ``-`` is taken for a flag."""
    fake = str(h.FAKE_CLAUDE_BIN)
    swallowed = h.run_fake([fake, *h.HEADLESS, "--allowedTools", "Read", "[fake:echo_args]"])
    assert swallowed.returncode == 1
    assert "Input must be provided" in swallowed.stderr.decode()
    as_flag = h.run_fake([fake, *h.HEADLESS, "-x marks the spot"])
    assert as_flag.returncode == 1
    assert "error: unknown option '-x marks the spot'" in as_flag.stderr.decode()
