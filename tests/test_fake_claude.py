"""The fake claude is faithful to the real CLI's recordings, and every directive does
what its docstring says. Every process started here is killed with its group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from fixtures import claude_helpers as h

from cc_executor.bridge.claude_stream import ClaudeStreamParser


@pytest.fixture(autouse=True)
def no_fake_left_behind():
    """Every process group a test starts must be gone when it ends (other people's
    fake claudes on this machine are none of our business)."""
    before = len(h.STARTED_GROUPS)
    yield
    groups = h.STARTED_GROUPS[before:]
    deadline = time.monotonic() + 2  # a SIGKILLed process takes a moment to go
    while (left := {g: m for g in groups if (m := h.group_members(g))}) and time.monotonic() < deadline:
        time.sleep(0.01)
    for pgid in left:
        h.kill_group(pgid)
    assert not left, f"processes left behind: {left}"


def shape(messages: list[dict[str, Any]]) -> list[tuple[str, str | None, frozenset[str]]]:
    """What must match the real CLI: message types in order, with their top-level keys."""
    return [(m["type"], m.get("subtype"), frozenset(m)) for m in messages]


def assert_genuine(finished) -> list[dict[str, Any]]:
    """Every line is compact JSON with raw UTF-8, exactly as JSON.stringify writes it."""
    assert finished.stdout.endswith(b"\n")
    messages = []
    for line in finished.lines:
        obj = json.loads(line)
        assert json.dumps(obj, ensure_ascii=False, separators=(",", ":")) == line
        messages.append(obj)
    return messages


# ---- faithful to the recordings ------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "flags", "reference", "code"),
    [
        ("What is 1+2? [fake:success]", (), "real_streamin.jsonl", 0),
        ("Add 1 and 2 [fake:tool]", (), "real_stream.jsonl", 0),
        ("Add 1 and 2 [fake:tool]", ("--max-turns", "1"), "real_maxturns.jsonl", 1),
        ("[fake:auth]", (), "no_credentials.jsonl", 1),
    ],
)
def test_same_messages_and_keys_as_the_real_cli(task: str, flags: tuple[str, ...], reference: str, code: int) -> None:
    finished = h.run_task(task, *flags)
    assert finished.returncode == code, finished.stderr
    messages = assert_genuine(finished)
    real = h.reference_messages(reference)
    assert shape(messages) == shape(real)
    for fake_msg, real_msg in zip(messages, real, strict=True):
        assert list(fake_msg) == list(real_msg), "key order differs"
        if fake_msg["type"] == "result":
            assert list(fake_msg["usage"]) == list(real_msg["usage"])
            assert fake_msg["subtype"] == real_msg["subtype"]
            assert fake_msg["is_error"] == real_msg["is_error"]
            assert fake_msg["num_turns"] == real_msg["num_turns"]
            assert fake_msg.get("errors") == real_msg.get("errors")
        if fake_msg["type"] == "assistant":
            assert list(fake_msg["message"]) == list(real_msg["message"])
    assert messages[-1]["session_id"] == messages[0]["session_id"]


def test_api_failure_is_shaped_like_the_no_network_recording() -> None:
    finished = h.run_task("[fake:fail retries=3]")
    assert finished.returncode == 1
    messages = assert_genuine(finished)
    real = h.reference_messages("fake_key_no_network.jsonl")
    # this recording's init lacks original_cwd and additional_directories: the CLI varies
    assert set(real[0]) <= set(messages[0])
    assert set(shape(messages[1:])) == set(shape(real[1:]))
    assert [m.get("subtype") for m in messages].count("api_retry") == 3
    assert list(messages[-1]) == list(real[-1])
    outcome = finished.outcome()
    assert outcome.assistant_error == "server_error"
    assert "server_error" in outcome.error_message


def test_sigint_is_shaped_like_the_sigint_recording() -> None:
    with h.FakeClaude(h.fake_argv("[fake:hang]")) as fake:
        fake.read_line()  # init: it is running
        fake.signal(signal.SIGINT)
        finished = fake.communicate(5)
    assert finished.returncode == 1
    messages = assert_genuine(finished)
    assert shape(messages) == shape(h.reference_messages("sig_SIGINT.jsonl"))
    outcome = finished.outcome()
    assert outcome.interrupted and outcome.subtype == "error_during_execution"


def test_session_ids_are_fresh_uuids() -> None:
    first = h.run_task("one").messages[0]["session_id"]
    second = h.run_task("two").messages[0]["session_id"]
    assert first != second
    assert len(first) == 36 and first.count("-") == 4


# ---- each directive ----------------------------------------------------------------


def test_default_echoes_the_prompt() -> None:
    finished = h.run_task("What is 1+2?")
    assert finished.returncode == 0
    outcome = finished.outcome()
    assert outcome.ok and outcome.result == "Echo: What is 1+2?" and outcome.num_turns == 1


def test_tool_calls_and_max_turns() -> None:
    outcome = h.run_task("[fake:tool calls=3]").outcome()
    assert outcome.ok and outcome.num_turns == 4 and outcome.tool_calls == 3
    stopped = h.run_task("[fake:tool calls=3]", "--max-turns", "2")
    assert stopped.returncode == 1
    outcome = stopped.outcome()
    assert outcome.subtype == "error_max_turns" and outcome.errors == ("Reached maximum number of turns (2)",)


def test_max_turns_directive() -> None:
    finished = h.run_task("[fake:max_turns turns=3]")
    assert finished.returncode == 1
    outcome = finished.outcome()
    assert outcome.subtype == "error_max_turns" and outcome.tool_calls == 3 and outcome.num_turns == 4
    assert "maximum number of turns" in outcome.error_message


def test_auth() -> None:
    finished = h.run_task("[fake:auth]")
    assert finished.returncode == 1
    outcome = finished.outcome()
    assert outcome.is_error and outcome.subtype == "success"
    assert outcome.assistant_error == "authentication_failed"
    assert "not logged in" in outcome.error_message.lower()


def test_slow_spreads_progress_over_time() -> None:
    arrivals = []
    with h.FakeClaude(h.fake_argv("[fake:slow seconds=1 steps=2]")) as fake:
        parser = ClaudeStreamParser()
        while not parser.saw_result:
            parser.feed(fake.read_line() + "\n")
            arrivals.append(time.monotonic())
        assert fake.wait(5) == 0
    outcome = parser.finish()
    assert outcome.ok and outcome.tool_calls == 2
    assert arrivals[-1] - arrivals[0] >= 0.8
    assert len({round(t - arrivals[0], 1) for t in arrivals}) >= 3  # not all at once


def test_huge_is_fast_and_parses() -> None:
    with h.FakeClaude(h.fake_argv("[fake:huge mb=64]")) as fake:
        assert fake.proc.stdout is not None
        fd = fake.proc.stdout.fileno()
        parser = ClaudeStreamParser(max_text_chars=64 * 1024)
        first = os.read(fd, 1 << 20)
        start = time.monotonic()
        size, raw = len(first), [first]
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            raw.append(chunk)
        elapsed = time.monotonic() - start
        assert fake.wait(5) == 0
    assert size >= 64 * 1024 * 1024
    assert size / elapsed >= 100e6, f"{size / elapsed / 1e6:.0f} MB/s"
    for chunk in raw:
        parser.feed_bytes(chunk)
    outcome = parser.finish()
    assert outcome.ok and outcome.malformed_lines == 0 and outcome.tool_calls > 400
    assert len(outcome.last_assistant_text) < 100


@pytest.mark.parametrize("partial", [False, True])
def test_crash_dies_like_a_segfault_without_result(partial: bool) -> None:
    finished = h.run_task("[fake:crash partial=1]" if partial else "[fake:crash]")
    assert finished.returncode == -signal.SIGSEGV
    outcome = finished.outcome()
    assert not outcome.saw_result and outcome.tool_calls == 1
    assert "without a result" in outcome.error_message and "killed by SIGSEGV" in outcome.error_message
    assert ("middle of a line" in outcome.error_message) is partial


def test_hang_dies_on_sigterm_with_its_children() -> None:
    with h.FakeClaude(h.fake_argv("[fake:hang children=2]")) as fake:
        assert json.loads(fake.read_line())["subtype"] == "init"  # children started before it
        assert len(h.group_members(fake.pgid)) == 3
        os.killpg(fake.pgid, signal.SIGTERM)
        assert fake.wait(5) == -signal.SIGTERM
        deadline = time.monotonic() + 5
        while h.group_members(fake.pgid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert h.group_members(fake.pgid) == []


def test_hang_children_keep_stdout_open_after_the_leader_dies() -> None:
    """What a runner must expect: EOF comes only when the whole group is gone."""
    with h.FakeClaude(h.fake_argv("[fake:hang children=1]")) as fake:
        fake.read_line()
        fake.signal(signal.SIGTERM)  # the leader only
        assert fake.wait(5) == -signal.SIGTERM
        with pytest.raises(TimeoutError):
            fake.read_line(timeout=0.3)
        assert len(h.group_members(fake.pgid)) == 1


def test_ignore_sigterm_needs_sigkill() -> None:
    with h.FakeClaude(h.fake_argv("[fake:ignore_sigterm]")) as fake:
        fake.read_line()
        fake.signal(signal.SIGTERM)
        fake.signal(signal.SIGINT)
        assert fake.wait(0.3) is None
        fake.signal(signal.SIGKILL)
        assert fake.wait(5) == -signal.SIGKILL


def test_malformed_lines_then_a_result() -> None:
    finished = h.run_task("[fake:malformed]")
    assert finished.returncode == 0
    outcome = finished.outcome()
    assert outcome.ok and outcome.malformed_lines == 7
    assert outcome.result == "Echo: [fake:malformed]"


def test_stderr_directive() -> None:
    finished = h.run_task("[fake:stderr lines=4]")
    assert finished.returncode == 0
    assert finished.stderr.decode().count("\n") == 4
    assert_genuine(finished)
    assert finished.outcome().ok


def test_echo_env_and_stdin_states() -> None:
    env = h.fake_env({"CC_EXECUTOR_TOKEN": "tok-123", "CLAUDE_CODE_ENTRYPOINT": "sdk-py", "MY_VAR": "v"})
    echo = json.loads(h.run_task("[fake:echo_env vars=MY_VAR]", env=env).outcome().result)
    assert echo == {
        "env": {
            "CLAUDECODE": None,
            "CLAUDE_CODE_ENTRYPOINT": "sdk-py",
            "CC_EXECUTOR_TOKEN": "tok-123",
            "MY_VAR": "v",
            "ANTHROPIC_API_KEY": echo["env"]["ANTHROPIC_API_KEY"],
        },
        "stdin": "empty",
        "stdin_bytes": 0,
    }
    closed = h.run_task("[fake:echo_env]", stdin=None, preexec_fn=lambda: os.close(0))
    assert json.loads(closed.outcome().result)["stdin"] == "closed"


def test_stdin_data_is_read_and_an_open_silent_pipe_is_waited_for() -> None:
    with h.FakeClaude(h.fake_argv("[fake:echo_args]"), stdin=subprocess.PIPE) as fake:
        outcome = fake.communicate(5, input=b"context from a pipe").outcome()
    assert json.loads(outcome.result)["prompt"] == "[fake:echo_args]\n\ncontext from a pipe"
    env = h.fake_env({"FAKE_CLAUDE_STDIN_TIMEOUT": "0.2"})
    with h.FakeClaude(h.fake_argv("[fake:echo_env]"), stdin=subprocess.PIPE, env=env) as fake:
        finished = fake.communicate(5, close_stdin=False)
    assert json.loads(finished.outcome().result)["stdin"] == "open"
    assert b"no stdin data received in 0.2s" in finished.stderr


def test_echo_args() -> None:
    echo = json.loads(h.run_task("-dash [fake:echo_args]", "--model", "opus").outcome().result)
    assert echo["argv"] == [*h.HEADLESS, "--model", "opus", "--", "-dash [fake:echo_args]"]
    assert echo["prompt"] == "-dash [fake:echo_args]"
    assert echo["cwd"] == os.getcwd()


def test_unknown_directive_is_an_error() -> None:
    finished = h.run_task("[fake:nope]")
    assert finished.returncode == 2 and b"unknown directive" in finished.stderr


# ---- the command line, as the real CLI ---------------------------------------------


@pytest.mark.parametrize(
    ("argv", "stderr"),
    [
        (["-p", "--output-format", "stream-json", "hi"], "requires --verbose"),
        (["--output-format", "stream-json", "--verbose", "hi"], "-p"),
        (["-p", "--bogus", "hi"], "error: unknown option '--bogus'"),
        (["-p", "--modle", "x", "hi"], "(Did you mean --model?)"),
        (["-p", "--output-format", "xml", "hi"], "Allowed choices are text, json, stream-json."),
        (
            ["-p", "--permission-mode", "yolo", "hi"],
            "argument 'yolo' is invalid. Allowed choices are acceptEdits, auto, bypassPermissions, manual, dontAsk, plan.",
        ),
        (["-p", "--max-turns", "many", "hi"], "'--max-turns <turns>' argument 'many' is invalid"),
        (["-p", "--model"], "argument missing"),
        (["-p", "--", "doctor"], "subcommand"),
        (["-p", "a", "b"], "too many arguments"),
        (["-p"], "Input must be provided either through stdin or as a prompt argument"),
        (["-p", "--mcp-config", "/nonexistent.json", "--", "hi"], "Invalid MCP configuration"),
    ],
)
def test_command_line_errors(argv: list[str], stderr: str) -> None:
    finished = h.run_fake([str(h.FAKE_CLAUDE_BIN), *argv])
    assert finished.returncode == 1
    assert stderr in finished.stderr.decode()
    assert finished.stdout == b""


def test_refuses_to_nest_inside_claude_code() -> None:
    finished = h.run_task("hi", env=h.fake_env({"CLAUDECODE": "1"}))
    assert finished.returncode == 1
    assert b"cannot be launched inside another Claude Code session" in finished.stderr
    assert "no output and exited with code 1" in finished.outcome().error_message


def test_version_and_startup_time() -> None:
    finished = h.run_fake([str(h.FAKE_CLAUDE_BIN), "--version"])
    assert finished.stdout == b"2.1.330 (Claude Code)\n"
    assert finished.elapsed < 1.0


def test_text_and_json_output_formats() -> None:
    text = h.run_fake([str(h.FAKE_CLAUDE_BIN), "-p", "hello"])
    assert text.returncode == 0 and text.stdout == b"Echo: hello\n"
    single = h.run_fake([str(h.FAKE_CLAUDE_BIN), "-p", "--output-format", "json", "[fake:auth]"])
    assert single.returncode == 1
    [result] = [json.loads(line) for line in single.lines]
    assert result["type"] == "result" and result["is_error"] is True


@pytest.mark.parametrize(("mode", "shown"), [("manual", "default"), ("default", "default"), ("plan", "plan")])
def test_permission_modes_as_the_cli_reports_them(mode: str, shown: str) -> None:
    assert h.run_task("hi", "--permission-mode", mode).messages[0]["permissionMode"] == shown


DENIAL_SHAPE = [
    ("system", "init"),
    ("assistant", None), ("system", "permission_denied"), ("user", None),
    ("assistant", None), ("system", "permission_denied"), ("user", None),
    ("assistant", None),
    ("result", "success"),
]  # fmt: skip


def test_deny_denies_as_the_real_cli_does_headless(tmp_path: Path) -> None:
    """A Write and an `rm` in the default mode: denied, each reported three ways (the real CLI's shape is checked
    against the real CLI in tests/e2e_claude)."""
    finished = h.run_task("[fake:deny]", cwd=tmp_path)
    assert finished.returncode == 0
    messages = assert_genuine(finished)
    assert [(m["type"], m.get("subtype")) for m in messages] == DENIAL_SHAPE
    assert [m["tool_name"] for m in messages if m.get("subtype") == "permission_denied"] == ["Write", "Bash"]
    assert [d["tool_input"] for d in messages[-1]["permission_denials"]] == [
        {"file_path": str(tmp_path / "notes.md"), "content": "notes\n"},
        {"command": "rm -rf build", "description": "Remove the build directory"},
    ]
    assert messages[3]["message"]["content"][0]["is_error"] is True
    assert [d.tool_name for d in finished.outcome().permission_denials] == ["Write", "Bash"]


@pytest.mark.parametrize(
    ("flags", "denied"),
    [
        (("--permission-mode", "acceptEdits"), ["Bash"]),
        (("--permission-mode", "bypassPermissions"), []),
        (("--allowedTools", "Write,Bash(rm:*)"), []),
        (("--allowedTools", "Bash"), ["Write"]),
    ],
)
def test_deny_obeys_the_permission_mode_and_allowed_tools(tmp_path: Path, flags: tuple[str, ...], denied: list) -> None:
    result = h.run_task("[fake:deny]", *flags, cwd=tmp_path).messages[-1]
    assert [d["tool_name"] for d in result["permission_denials"]] == denied


def test_retry_then_success_and_fail_with_an_http_status() -> None:
    retried = h.run_task("[fake:retry retries=3]")
    assert retried.returncode == 0
    lines = [m for m in retried.messages if m.get("subtype") == "api_retry"]
    assert [(m["attempt"], m["error_status"], m["error"]) for m in lines] == [(n, 529, "overloaded") for n in (1, 2, 3)]
    assert retried.outcome().ok and retried.outcome().api_retries == 3
    failed = h.run_task("[fake:fail retries=2 status=500 delay=0.2]")
    assert failed.returncode == 1 and failed.elapsed >= 0.4
    assert {m["error"] for m in failed.messages if m.get("subtype") == "api_retry"} == {"server_error"}


def test_long_answers_have_exactly_the_length_asked_for() -> None:
    outcome = h.run_task("[fake:long chars=20000]").outcome()
    assert outcome.ok and len(outcome.result) == 20000 and outcome.result.count("\n") > 200


def test_disallowed_tools_leave_the_tool_list() -> None:
    init = h.run_task("hi", "--disallowedTools", "Bash,WebFetch").messages[0]
    assert "Bash" not in init["tools"] and "WebFetch" not in init["tools"] and "Read" in init["tools"]


def test_mcp_config_servers_are_listed(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text('{"mcpServers":{"bridge":{"command":"python"}}}')
    init = h.run_task("hi", "--mcp-config", str(config)).messages[0]
    assert init["mcp_servers"] == [{"name": "bridge", "status": "connected", "source": "dynamic"}]
