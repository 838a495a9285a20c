"""The fake claude's --permission-prompt-tool is the real CLI's (2.1.330): both, side by side, call the same
stand-in permission prompt tool (tests/fixtures/permission_tool_standin.py) about a Write, and say the same about
each answer: allowed (the file is written), denied (Claude gets the message), an answer that is no permission
result, an error result, and a tool that is not there (the run stops at that call, exit 1)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_claude import support

fake = support.fake_api
helpers = support.claude_helpers

pytestmark = pytest.mark.timeout(60)

STANDIN = support.REPO / "tests" / "fixtures" / "permission_tool_standin.py"
HEADLESS = ("-p", "--output-format", "stream-json", "--verbose")


def prompt_tool_flags(answer: str, calls: Path, tool: str = "approve", command: str = sys.executable) -> list[str]:
    server = {"type": "stdio", "command": command, "args": [str(STANDIN), answer, str(calls)]}
    config = json.dumps({"mcpServers": {"standin": server}})
    return ["--mcp-config", config, "--permission-prompt-tool", f"mcp__standin__{tool}"]


def run_real(claude_bin: Path, box, flags: list[str], note: Path) -> tuple[int, list[dict[str, Any]], str]:
    script = fake.tool_then_text("Write", {"file_path": str(note), "content": "notes\n"}, "Done.")
    with fake.fake_anthropic_api(script) as api:
        ran = support.run([claude_bin, *HEADLESS, *flags, "Write notes.md"], env=box.full_env(api.url), cwd=note.parent)
    return ran.returncode, [json.loads(line) for line in ran.stdout.splitlines() if line.strip()], ran.stderr


def run_fake(flags: list[str], note: Path) -> tuple[int, list[dict[str, Any]], str]:
    finished = helpers.run_task("[fake:deny]", *flags, cwd=note.parent, timeout=30)
    return finished.returncode, finished.messages, finished.stderr.decode()


def first_write(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What the CLI said about the Write: its tool_result, the tool_use_result (text ones) and the meta, with the
    tool_use_id in place of its value."""
    [use] = [
        block
        for m in messages
        if m["type"] == "assistant"
        for block in m["message"]["content"]
        if block["type"] == "tool_use" and block["name"] == "Write"
    ]
    [reply] = [
        m
        for m in messages
        if m["type"] == "user" and any(b.get("tool_use_id") == use["id"] for b in m["message"]["content"])
    ]
    said = json.loads(json.dumps(reply).replace(use["id"], "TOOL_USE_ID"))
    return {
        "tool_result": said["message"]["content"],
        "tool_use_result": said["tool_use_result"] if isinstance(said["tool_use_result"], str) else "(an object)",
        "tool_result_meta": said.get("tool_result_meta"),
    }


def denied_tools(messages: list[dict[str, Any]]) -> list[str]:
    results = [m for m in messages if m["type"] == "result"]
    return [d["tool_name"] for d in results[-1]["permission_denials"] if d["tool_name"] == "Write"] if results else []


@pytest.mark.parametrize("answer", ["allow", "deny", "invalid", "error"])
def test_each_answer_of_the_prompt_tool_as_the_real_cli(claude_bin, sandbox, tmp_path: Path, answer: str) -> None:
    said = {}
    for who in ("real", "fake"):
        project, calls = tmp_path / who, tmp_path / f"{who}-calls.jsonl"
        project.mkdir()
        note = project / "notes.md"
        flags = prompt_tool_flags(answer, calls)
        code, messages, _ = run_real(claude_bin, sandbox, flags, note) if who == "real" else run_fake(flags, note)
        [call] = [json.loads(line) for line in calls.read_text().splitlines()][:1]
        assert sorted(call) == ["input", "tool_name", "tool_use_id"], call
        assert (call["tool_name"], call["input"]) == ("Write", {"file_path": str(note), "content": "notes\n"})
        said[who] = (code, first_write(messages), denied_tools(messages), note.exists())
        said[who] = json.loads(json.dumps(said[who]).replace(str(project), "PROJECT"))
    assert said["fake"] == said["real"]
    assert said["real"][3] is (answer == "allow")


@pytest.mark.parametrize("why", ["no such tool", "the server does not start"])
def test_a_prompt_tool_that_is_not_there_stops_the_run_at_the_first_call(
    claude_bin, sandbox, tmp_path: Path, why: str
) -> None:
    said = {}
    for who in ("real", "fake"):
        project = tmp_path / who
        project.mkdir()
        note = project / "notes.md"
        if why == "no such tool":
            flags = prompt_tool_flags("allow", tmp_path / "calls.jsonl", tool="nope")
        else:
            flags = prompt_tool_flags("allow", tmp_path / "calls.jsonl", command="${CC_EXECUTOR_TEST_UNSET}")
        code, messages, stderr = run_real(claude_bin, sandbox, flags, note) if who == "real" else run_fake(flags, note)
        init = messages[0]
        statuses = [(s["name"], s["status"]) for s in init["mcp_servers"]]
        last = re.sub(r"toolu_\w+", "TOOL_USE_ID", json.dumps(messages[-1]["message"]["content"]))
        said[who] = (code, statuses, [m["type"] for m in messages[1:]], last, stderr.strip(), note.exists())
    assert said["fake"] == said["real"]
    assert said["real"][0] == 1 and "(passed via --permission-prompt-tool) not found" in said["real"][4]
