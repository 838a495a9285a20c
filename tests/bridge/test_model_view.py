"""What a model sees of the bridge's tools (issue 10), one test group per point, through a real MCP client.

The sizes are of the structured content serialized as Claude Code serializes it for the
model (compact JSON, raw UTF-8: what `JSON.stringify` writes). tests/e2e_claude checks the
same with the real `claude` as the orchestrator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from fixtures import bridge_helpers as b

from cc_executor.bridge.tool_specs import bundle, load_tools

pytestmark = pytest.mark.timeout(60)
SPEC_MCP = Path(__file__).resolve().parents[2] / "spec" / "mcp"
#: Every key a TaskResult may have; nothing raw from the CLI (usage, modelUsage, stderr...).
TASK_RESULT_KEYS = set(bundle(SPEC_MCP / "execute_task_output.json")["properties"])


def as_model_sees(structured: dict[str, Any]) -> str:
    return json.dumps(structured, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


# -- 1. structured content written for a model ----------------------------------------------


async def test_a_short_answer_is_a_short_result_answer_first(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call("execute_task", {"task": "Say hello in forty characters or so, please"})
    data = result.structured_content
    assert not result.is_error
    assert len(as_model_sees(data)) <= 500, as_model_sees(data)
    assert list(data)[:2] == ["status", "result"]
    assert data["result"] == "Echo: Say hello in forty characters or so, please"
    assert set(data) == {
        "status", "result", "execution_id", "session_id", "num_turns", "total_cost_usd", "input_tokens",
        "output_tokens", "duration_ms", "exit_code", "backend",
    }  # fmt: skip
    assert (data["input_tokens"], data["output_tokens"]) == (120, 12)  # the fake's usage, summed
    b.assert_same_facts(data, b.text_of(result))


async def test_a_20000_character_answer_arrives_whole_in_under_21000_characters(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.ok("execute_task", {"task": "[fake:long chars=20000]"})
    assert len(data["result"]) == 20_000 and "result_truncated" not in data and "hint" not in data
    assert len(as_model_sees(data)) <= 21_000, len(as_model_sees(data))


async def test_wait_false_says_which_call_to_make_next(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call("execute_task", {"task": "[fake:slow seconds=1 steps=1]", "wait": False})
        data = result.structured_content
        follow = re.search(r"get_execution_status with execution_id '([^']+)' and wait_s", data["hint"])
        assert follow and follow.group(1) == data["execution_id"]
        final = await br.ok("get_execution_status", {"execution_id": follow.group(1), "wait_s": 10})
    assert set(data) == {"status", "hint", "execution_id", "backend"}
    assert (data["status"], data["backend"]) == ("running", "local")
    assert data["hint"] in b.text_of(result)
    assert final["execution"]["status"] == "completed"


# -- 2. failures are error results, with their structured content ------------------------------


async def test_a_timeout_is_an_error_result_that_says_what_to_try(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call("execute_task", {"task": "[fake:hang]", "timeout_s": 1})
    assert result.is_error
    data = result.structured_content
    assert data["status"] == "timed_out"
    assert data["error"] == "Timed out after 1 s; the process group was terminated"
    assert "timeout_s" in data["hint"]
    b.assert_same_facts(data, b.text_of(result))


async def test_a_canceled_task_is_an_error_result(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        async with anyio.create_task_group() as group:
            results = []

            async def run() -> None:
                results.append(await br.call("execute_task", {"task": "[fake:hang]"}))

            group.start_soon(run)
            with anyio.fail_after(10):
                while not (listing := await br.ok("get_execution_status", {}))["recent"]:
                    await anyio.sleep(0.02)
            await br.ok("control_execution", {"execution_id": listing["recent"][0]["execution_id"], "action": "cancel"})
    (result,) = results
    assert result.is_error
    assert result.structured_content["status"] == "canceled"
    assert result.structured_content["error"] == "Canceled by control_execution"


# -- 3. permission denials are visible ------------------------------------------------------------


async def test_denied_tool_calls_are_listed_with_a_hint(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        result = await br.call("execute_task", {"task": "[fake:deny]", "cwd": str(tmp_path)})
    data = result.structured_content
    assert not result.is_error and data["status"] == "completed", "Claude finished: the denials are not a failure"
    assert data["permission_denials"] == [
        {"tool": "Write", "input": str(tmp_path / "notes.md")},
        {"tool": "Bash", "input": "rm -rf build"},
    ]
    assert "denied 2 tool calls" in data["hint"] and "headless" in data["hint"]
    assert "permission_mode 'acceptEdits'" in data["hint"]
    assert "allowed_tools ['Write', 'Bash(rm:*)']" in data["hint"]
    b.assert_same_facts(data, b.text_of(result))


@pytest.mark.parametrize(
    ("options", "denied"),
    [
        ({"permission_mode": "acceptEdits"}, ["Bash"]),
        ({"allowed_tools": ["Write", "Bash(rm:*)"]}, []),
        ({"permission_mode": "manual"}, ["Write", "Bash"]),
        ({"permission_mode": "bypassPermissions"}, []),
    ],
)
async def test_what_the_hint_suggests_allows_the_calls(tmp_path, options, denied):
    async with b.mcp_bridge(tmp_path) as br:
        data = await br.ok("execute_task", {"task": "[fake:deny]", "cwd": str(tmp_path), **options})
    assert [d["tool"] for d in data.get("permission_denials", [])] == denied
    assert ("hint" in data) == bool(denied)


async def test_a_status_poll_shows_denials_while_the_task_runs(tmp_path):
    async with b.mcp_bridge(tmp_path) as br:
        arguments = {"task": "[fake:deny wait=5]", "cwd": str(tmp_path), "wait": False}
        poll = {"execution_id": (await br.ok("execute_task", arguments))["execution_id"]}
        with anyio.fail_after(10):
            while (
                len((status := await br.ok("get_execution_status", poll))["execution"].get("permission_denials", []))
                < 2
            ):
                await anyio.sleep(0.05)
        await br.ok("control_execution", {**poll, "action": "cancel"})
    running = status["execution"]
    assert running["status"] == "running"
    assert running["permission_denials"] == [
        {"tool": "Write", "input": str(tmp_path / "notes.md")},
        {"tool": "Bash", "input": "rm -rf build"},
    ]
    assert any(step.startswith("turn 2 · denied Bash: rm -rf build") for step in running["activity"])


def test_the_permission_mode_says_what_default_means_headless():
    described = load_tools()["execute_task"].tool.input_schema["properties"]["permission_mode"]["description"]
    assert "headless" in described.lower() and "denied" in described
    assert "default (the default; `manual` is the same)" in described
    assert "permission_denials" in described and "allowed_tools" in described


# -- 4. API trouble is visible ----------------------------------------------------------------------


async def test_api_retries_are_counted_and_shown_in_progress(tmp_path, mode):
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with b.mcp_bridge(tmp_path, mode, progress_interval_s=0) as br:
        data = await br.ok("execute_task", {"task": "[fake:retry retries=3 delay=0.05]"}, progress_callback=on_progress)
    assert data["status"] == "completed" and data["api_retries"] == 3
    assert [m for m in progress if "API" in m] == [f"turn 1 · API overloaded (529), retry {n} of 10" for n in (1, 2, 3)]


async def test_a_timeout_during_retries_names_them(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        # 9 retries 0.6 s apart outlast the 3 s timeout; 3 s leave room for at least 2 of them even where the fake
        # claude takes a second or two to start (a loaded machine)
        data = await br.failed("execute_task", {"task": "[fake:fail retries=9 status=529 delay=0.6]", "timeout_s": 3})
    assert data["status"] == "timed_out" and data["api_retries"] >= 2
    assert data["error"].startswith("Timed out after 3 s; the process group was terminated. ")
    assert f"retried the Claude API {data['api_retries']} times; the last error: overloaded (529)" in data["error"]
    assert "Claude API was failing" in data["hint"]


async def test_a_status_poll_shows_retries_while_they_happen(tmp_path):
    async with b.mcp_bridge(tmp_path) as br:
        started = await br.ok("execute_task", {"task": "[fake:retry retries=4 delay=0.5]", "wait": False})
        with anyio.fail_after(10):
            poll = {"execution_id": started["execution_id"]}
            while "api_retries" not in (status := await br.ok("get_execution_status", poll))["execution"]:
                await anyio.sleep(0.05)
    running = status["execution"]
    assert running["status"] == "running"
    assert any("API overloaded (529), retry 1 of 10" in step for step in running["activity"])


# -- 5. progress only increases ------------------------------------------------------------------


async def test_progress_only_increases_across_a_task_list_and_names_task_turn_and_tool(tmp_path, mode):
    progress: list[tuple[float, float | None, str]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message or ""))

    tasks = [{"task": f"step {n} [fake:slow seconds=0.6 steps=3]"} for n in range(3)]
    async with b.mcp_bridge(tmp_path, mode, progress_interval_s=0) as br:
        data = await br.ok("execute_task_list", {"tasks": tasks}, progress_callback=on_progress)
    assert data["summary"]["completed"] == 3
    values = [value for value, _, _ in progress]
    assert all(later > earlier for earlier, later in zip(values, values[1:], strict=False)), values
    assert {total for _, total, _ in progress} == {3}
    assert values[-1] < 3
    for index in (1, 2, 3):
        mine = [message for _, _, message in progress if message.startswith(f"task {index}/3 · ")]
        assert any(m.startswith(f"task {index}/3 · turn 1 · mcp__bridge__slow: ") for m in mine), mine
        assert f"task {index}/3 · completed: done" in mine


async def test_a_step_held_back_by_the_rate_limit_still_goes_out(tmp_path):
    """Progress is rate-limited; the latest step of an interval goes out when the interval ends, so the step a
    task then dwells on (a tool running for long) is what the client shows."""
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with b.mcp_bridge(tmp_path, progress_interval_s=0.4) as br:
        # init right after the start, and a tool result right after its call, then 1.5 s of quiet each time
        await br.ok("execute_task", {"task": "[fake:slow seconds=3 steps=1]"}, progress_callback=on_progress)
    assert progress[0] == "started on local"
    assert progress[1].startswith("Claude Code 2.1.330 started: "), progress
    assert progress[2] == "turn 1 · mcp__bridge__slow: " + '{"seconds":3.0}'
    assert progress[3] == 'turn 1 · ↳ {"result":"finished"}', progress


# -- 6. readable by default ------------------------------------------------------------------------


async def test_a_status_poll_of_a_noisy_task_stays_under_1500_characters(tmp_path):
    async with b.mcp_bridge(tmp_path) as br:
        task = "x" * 5000 + " [fake:huge mb=3 line_kb=32]"
        started = await br.ok("execute_task", {"task": task, "wait": False})
        polls = []
        with anyio.fail_after(30):
            while True:
                status = await br.ok("get_execution_status", {"execution_id": started["execution_id"]})
                if status["execution"]["status"] != "running":
                    break
                polls.append(as_model_sees(status))
                await anyio.sleep(0.02)
    assert polls, "polled while it ran"
    assert max(len(poll) for poll in polls) <= 1500, max(len(poll) for poll in polls)
    assert all('{"type"' not in poll and "tool_use_id" not in poll for poll in polls), "no raw stream-json"
    assert any('"activity"' in poll for poll in polls)


async def test_a_status_poll_with_many_denials_keeps_to_1500_characters(tmp_path):
    deep = tmp_path / ("a-rather-long-directory-name-" * 3) / "and-deeper-still"
    deep.mkdir(parents=True)
    async with b.mcp_bridge(tmp_path) as br:
        arguments = {"task": "[fake:deny repeat=8 wait=5]", "cwd": str(deep), "wait": False}
        poll = {"execution_id": (await br.ok("execute_task", arguments))["execution_id"]}
        with anyio.fail_after(10):
            while (status := await br.ok("get_execution_status", poll))["execution"].get("num_turns", 0) < 16:
                await anyio.sleep(0.05)
        await br.ok("control_execution", {**poll, "action": "cancel"})
    assert len(as_model_sees(status)) <= 1500, len(as_model_sees(status))
    running = status["execution"]
    first = running["permission_denials"][0]
    assert first["tool"] == "Write" and first["input"].endswith("/and-deeper-still/notes.md"), "its file name kept"
    assert len(first["input"]) == 120 and "…" in first["input"]
    assert running["num_turns"] == 16


async def test_output_is_a_readable_transcript_unless_raw_is_asked_for(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.ok("execute_task", {"task": "[fake:deny]", "cwd": str(tmp_path)})
        text = await br.ok("get_execution_output", {"execution_id": data["execution_id"]})
        raw = await br.ok("get_execution_output", {"execution_id": data["execution_id"], "format": "raw"})
    assert text["format"] == "text" and raw["format"] == "raw"
    denied_rm = (
        f"rm in '{tmp_path / 'build'}' needs approval. The path is inside the working directories for this session "
        f"('{tmp_path}'), and Claude Code asks before a shell command creates, changes or removes files there."
    )
    assert len(denied_rm) > 200
    assert text["data"].splitlines() == [
        "Claude Code 2.1.330 started: model claude-opus-5-5, permission mode default, 23 tools",
        f"turn 1 · Write: {tmp_path / 'notes.md'}",
        f"turn 1 · denied Write: {tmp_path / 'notes.md'} (Claude requested permissions to write to "
        f"{tmp_path / 'notes.md'}, but you haven't granted it yet.)",
        f"turn 1 ·   ↳ error: Claude requested permissions to write to {tmp_path / 'notes.md'}, but you haven't "
        "granted it yet.",
        "turn 2 · Bash: rm -rf build",
        f"turn 2 · denied Bash: rm -rf build (rm in '{tmp_path / 'build'}' needs approval. The path is inside the "
        f"working directories for this session ('{tmp_path}'), and Claude Code asks before a shell command creates, "
        "changes or removes files there.)",
        f"turn 2 ·   ↳ error: {denied_rm[:200]}… ({len(denied_rm)} characters)",  # tool results are shortened
        "turn 3 · Claude: Done, as far as I was allowed.",
        "done: success after 3 turns, $0.0011",
    ]
    assert [json.loads(line)["type"] for line in raw["data"].splitlines()][-1] == "result"


# -- 7. nothing cut silently ------------------------------------------------------------------------


async def test_an_answer_over_the_inline_cap_says_so_and_pages_whole(tmp_path, mode):
    async with b.mcp_bridge(tmp_path, mode) as br:
        data = await br.ok("execute_task", {"task": "[fake:long chars=2500000]"})  # over the parser's old 1 MiB cap
        offset = int(re.search(r"offset (\d+)\)", data["hint"]).group(1))
        rest = ""
        while True:
            page = await br.ok(
                "get_execution_output",
                {"execution_id": data["execution_id"], "stream": "result", "offset": offset, "limit": 100000},
            )
            rest += page["data"]
            if page["complete"]:
                break
            offset = page["next_offset"]
    assert data["result_truncated"] is True and data["result_chars"] == 2_500_000
    assert len(data["result"]) == 20_000
    assert f"'{data['execution_id']}', stream 'result'" in data["hint"]
    assert len(data["result"] + rest) == 2_500_000
    whole = (tmp_path / "outputs" / data["execution_id"] / "result.txt").read_text()
    assert data["result"] + rest == whole and whole.startswith("The fake answer goes on")


# -- 8. one vocabulary ---------------------------------------------------------------------------


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = set(node.get("properties", {})) if isinstance(node.get("properties"), dict) else set()
        return own | {key for value in node.values() for key in _keys(value)}
    if isinstance(node, list):
        return {key for item in node for key in _keys(item)}
    return set()


def test_status_is_the_only_word_for_where_an_execution_stands():
    for spec in load_tools().values():
        for schema in (spec.tool.input_schema, spec.tool.output_schema):
            assert "state" not in _keys(schema), spec.name
    words = (SPEC_MCP / "tools.yaml").read_text() + "".join(p.read_text() for p in SPEC_MCP.glob("*.json"))
    assert not re.search(r"\bstate\b", words), re.findall(r".{40}\bstate\b.{40}", words)
