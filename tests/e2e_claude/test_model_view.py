"""What the orchestrating model receives from the bridge, with the real ``claude`` 2.1.330 on both sides, offline.

An outer `claude -p` has the bridge as its MCP server (`claude mcp add`); the stand-in
Messages API plays its model, which calls the bridge's tools one turn after another
(fake_anthropic_api.tool_calls). The bridge runs each task in a second real `claude`,
whose model the same API plays (routed by a marker in the task). The API logs every
request, so these tests read each tool_result exactly as the outer model got it: its
text, its size, is_error, and the hints, denials and retries in it.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from e2e_claude import support

from cc_executor.contract_tests.live_handler import free_port, live_handler

fake = support.fake_api

pytestmark = pytest.mark.timeout(180)  # a dozen real CLI runs, on a machine maybe 3x slower than ours
PREFIX = "mcp__cc-executor__"
OUTER_TASK = "Delegate the work to fresh Claude Code instances"


def marker() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


def call(tool: str, **arguments: Any) -> fake.ToolUse:
    return fake.ToolUse(PREFIX + tool, arguments)


def bridge_dir(sandbox) -> Path:
    """Where the bridges run, and so their tasks unless told otherwise: not the project the orchestrator runs in.

    A claude started in that project would load its MCP servers, the bridge among them, and a bridge starting
    on the same data dir ends the tasks it finds running (start-up recovery; issue 9 makes it per bridge)."""
    path = sandbox.home / "bridge-cwd"
    path.mkdir(exist_ok=True)
    return path


def orchestrate(sandbox, claude_bin: Path, api, *servers: tuple[str, list[str]]) -> support.Ran:
    """The real claude as the orchestrator, against `api`, with each (name, bridge arguments) added as an MCP
    server (run in bridge_dir) and its execute_task and get_execution_status allowed; run to the end."""
    env = sandbox.full_env(api.url)
    tools = []
    for name, args in servers:
        bridge = [sys.executable, "-m", "cc_executor", "mcp", "--claude-bin", str(claude_bin), *args]
        command = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', str(bridge_dir(sandbox)), *bridge]
        added = support.run([claude_bin, "mcp", "add", name, "--", *command], env=env, cwd=sandbox.project)
        assert added.returncode == 0, added.explain()
        tools += [f"mcp__{name}__execute_task", f"mcp__{name}__get_execution_status"]
    outer = support.run(
        [claude_bin, "-p", "--output-format", "stream-json", "--verbose", "--allowedTools", ",".join(tools)]
        + ["--", OUTER_TASK],
        env=env,
        cwd=sandbox.project,
        timeout=150,
    )
    assert outer.returncode == 0, outer.explain() + "\n" + api.describe()
    return outer


LOCAL = ("cc-executor", ["--backend", "local"])


def test_answers_as_the_orchestrating_model_receives_them(claude_bin, sandbox):
    """A short answer, a 20,000-character one, and a task followed with wait=false and get_execution_status."""
    short, long, slow = marker(), marker(), marker()
    long_answer = ("A line of a long answer, as prose goes, with no quotes in it at all.\n" * 300)[:20_000]

    def follow(request) -> fake.ToolUse:
        started = json.loads(request.tool_result_text())
        return call("get_execution_status", execution_id=started["execution_id"])

    def wait_for_it(request) -> fake.ToolUse:
        polled = json.loads(request.tool_result_text())
        return call("get_execution_status", execution_id=polled["execution"]["execution_id"], wait_s=60)

    script = fake.routed(
        {
            short: fake.text_answer("Forty characters of answer, give or take"),
            long: fake.text_answer(long_answer),
            slow: fake.slow_answer("Slow but sure.", chunks=30, delay_s=0.1),
        },
        fake.tool_calls(
            call("execute_task", task=f"Say something short {short}"),
            call("execute_task", task=f"Say something long {long}"),
            call("execute_task", task=f"Take your time {slow}", wait=False),
            follow,
            wait_for_it,
        ),
    )
    with fake.fake_anthropic_api(script) as api:
        orchestrate(sandbox, claude_bin, api, LOCAL)
        exchanges = api.tool_exchanges(PREFIX)

    assert [e.name.removeprefix(PREFIX) for e in exchanges] == ["execute_task"] * 3 + ["get_execution_status"] * 2
    answered, long_one, started, polled, final = exchanges
    assert not any(e.is_error for e in exchanges)

    got = answered.json()
    assert answered.size <= 500, answered.content
    assert list(got)[:2] == ["status", "result"] and got["result"] == "Forty characters of answer, give or take"
    assert got["backend"] == "local" and got["num_turns"] == 1 and got["input_tokens"] > 0
    assert "usage" not in got and "modelUsage" not in got

    assert long_one.json()["result"] == long_answer
    assert long_one.size <= 21_000, long_one.size

    follow_up = started.json()
    assert follow_up["status"] == "running"
    assert f"get_execution_status with execution_id '{follow_up['execution_id']}' and wait_s" in follow_up["hint"]
    assert polled.size <= 1_500, polled.content
    assert polled.json()["execution"]["status"] == "running"
    assert final.json()["execution"]["status"] == "completed"
    assert final.json()["execution"]["result"] == "Slow but sure."


def test_trouble_as_the_orchestrating_model_receives_it(claude_bin, sandbox):
    """Denied writes, a refused API key, an overloaded API that recovers, and one that does not (timeout)."""
    denied, refused, overloaded, down = marker(), marker(), marker(), marker()
    note = bridge_dir(sandbox) / "notes.md"
    write_then_answer = fake.tool_then_text("Write", {"file_path": str(note), "content": "x"}, "I could not write.")
    script = fake.routed(
        {
            denied: write_then_answer,
            refused: fake.api_error(401),
            overloaded: fake.failing_first(
                2, fake.ApiError(529, "Overloaded", retry=True), fake.text_answer("Made it.")
            ),
            down: fake.api_error(529, "Overloaded", retry=True),
        },
        fake.tool_calls(
            call("execute_task", task=f"Write the notes {denied}"),
            call("execute_task", task=f"Say hello {refused}"),
            call("execute_task", task=f"Say hello {overloaded}"),
            call("execute_task", task=f"Say hello {down}", timeout_s=4),
        ),
    )
    with fake.fake_anthropic_api(script) as api:
        orchestrate(sandbox, claude_bin, api, LOCAL)
        exchanges = api.tool_exchanges(PREFIX)
    denial, refusal, retried, timed_out = exchanges

    assert not denial.is_error and not note.exists()
    got = denial.json()
    assert got["status"] == "completed" and got["result"] == "I could not write."
    assert got["permission_denials"] == [{"tool": "Write", "input": str(note)}]
    assert "permission_mode 'acceptEdits'" in got["hint"] and "allowed_tools ['Write']" in got["hint"]

    # Claude Code gives the model the text of an error result: every fact must be in it
    assert refusal.is_error
    assert "failed on local" in refusal.content and "Error: " in refusal.content
    assert "Invalid API key" in refusal.content or "401" in refusal.content, refusal.content

    assert not retried.is_error
    assert retried.json()["api_retries"] == 2 and retried.json()["result"] == "Made it."

    assert timed_out.is_error
    assert "timed_out" in timed_out.content and "Timed out after 4 s" in timed_out.content
    assert "retried the Claude API" in timed_out.content and "overloaded (529)" in timed_out.content
    assert "Next: The Claude API was failing" in timed_out.content


def test_through_a_handler_in_the_bridges_directory_and_a_missing_handler_named(claude_bin, sandbox):
    """The bridge hands tasks to a real handler, which runs them where the bridge runs (not where it runs itself);
    a bridge whose only handler is down says nothing ran, and which handler it tried."""
    here = marker()
    closed = f"ws://127.0.0.1:{free_port()}/ws/mcp"
    script = fake.routed(
        {here: fake.text_answer("Ran it.")},
        fake.tool_calls(
            fake.ToolUse("mcp__cc-executor__execute_task", {"task": f"Run it {here}"}),
            fake.ToolUse("mcp__cc-down__execute_task", {"task": "never runs"}),
        ),
    )
    with fake.fake_anthropic_api(script) as api:
        with live_handler(env=sandbox.env(api.url)) as handler:
            handler_cwd = Path(f"/proc/{handler.process.pid}/cwd").resolve()
            bridges = (
                ("cc-executor", ["--backend", "handler", "--handler-url", handler.url, "--token", handler.token]),
                ("cc-down", ["--backend", "handler", "--handler-url", closed, "--token", "t"]),
            )
            orchestrate(sandbox, claude_bin, api, *bridges)
        ran, down = api.tool_exchanges("mcp__")

    assert not ran.is_error
    got = ran.json()
    assert got["status"] == "completed" and got["result"] == "Ran it." and got["backend"] == handler.url
    init = json.loads((sandbox.data_dir / "outputs" / got["execution_id"] / "stdout.txt").read_text().split("\n")[0])
    assert init["cwd"] == str(bridge_dir(sandbox)), "the bridge's directory, sent to the handler"
    assert handler_cwd not in (bridge_dir(sandbox), sandbox.project)

    assert down.is_error
    assert "failed on nowhere (nothing ran)" in down.content
    assert f"cannot reach {closed}" in down.content and "cc-executor handler" in down.content
