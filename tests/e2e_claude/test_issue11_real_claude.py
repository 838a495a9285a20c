"""Issue 11 with the real ``claude`` CLI (2.1.330), offline against the stand-in Messages API, through a real
handler: the prompt travels on stdin (1 MB reaches the API intact), a resumed task's request carries the first
conversation, json_schema yields structured_output, and a failing pre-execute hook stops a real Claude task."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_claude import support
from e2e_claude.test_real_claude import bridge_to, new_marker, run_task

from cc_executor.contract_tests.live_handler import LiveHandler, live_handler

fake = support.fake_api

pytestmark = pytest.mark.timeout(60)


@contextlib.contextmanager
def handler_with(box, api, *args: str) -> Iterator[LiveHandler]:
    with live_handler(*args, env=box.env(api.url)) as handler:
        yield handler


async def test_a_1_mb_prompt_reaches_the_api_intact(claude_bin, sandbox):
    marker = new_marker()
    body = "".join(f"{n:07d} the embedded file's line, ünïcødé — ✓\n" for n in range(20_000))
    task = f"Summarise {marker}:\n{body}"
    assert len(task.encode()) > 1_000_000
    with fake.fake_anthropic_api(fake.text_answer("Summarised.")) as api, handler_with(sandbox, api) as handler:
        async with bridge_to(handler, sandbox, claude_bin) as manager:
            result = await run_task(manager, task=task, cwd=str(sandbox.project))
    assert result.status == "completed" and result.result == "Summarised.", result
    (request,) = api.messages_requests
    assert request.prompt_text().endswith(task), "the whole prompt, byte for byte, after Claude Code's reminders"


async def test_a_resumed_task_sends_the_first_conversation(claude_bin, sandbox):
    first_words, follow_words = f"remember {new_marker()}", f"what did I say {new_marker()}"
    script = fake.routed({follow_words: fake.text_answer("You said to remember.")}, fake.text_answer("Noted."))
    with fake.fake_anthropic_api(script) as api, handler_with(sandbox, api) as handler:
        async with bridge_to(handler, sandbox, claude_bin) as manager:
            first = await run_task(manager, task=first_words, cwd=str(sandbox.project))
            follow = await run_task(
                manager, task=follow_words, cwd=str(sandbox.project), resume_session_id=first.session_id
            )
            fork = await run_task(
                manager,
                task="and now?",
                cwd=str(sandbox.project),
                resume_session_id=first.session_id,
                fork_session=True,
            )
    assert first.status == follow.status == fork.status == "completed"
    assert follow.session_id == first.session_id and fork.session_id not in (None, first.session_id)
    second = api.messages_requests[1]
    said = json.dumps(second.messages)
    assert first_words in said and "Noted." in said and follow_words in said
    assert [m["role"] for m in second.messages if m["role"] in ("user", "assistant")][:3] == [
        "user",
        "assistant",
        "user",
    ]


async def test_json_schema_yields_structured_output(claude_bin, sandbox):
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}

    def script(request):
        if "StructuredOutput" in request.tool_names and not request.tool_results():
            return fake.ToolUse("StructuredOutput", {"name": "Ada"})
        return fake.Text("done")

    with fake.fake_anthropic_api(script) as api, handler_with(sandbox, api) as handler:
        async with bridge_to(handler, sandbox, claude_bin) as manager:
            result = await run_task(manager, task="Name a pioneer", cwd=str(sandbox.project), json_schema=schema)
    assert result.status == "completed", result
    assert result.structured_output == {"name": "Ada"} and result.result is None


async def test_a_failing_pre_execute_hook_stops_a_real_claude_task(claude_bin, sandbox, tmp_path: Path):
    ran = tmp_path / "hook-ran"
    hooks = tmp_path / "hooks.json"
    hooks.write_text(json.dumps({"hooks": {"pre-execute": f"cat > {ran}; echo 'workspace is locked' >&2; exit 2"}}))
    with fake.fake_anthropic_api(fake.text_answer("should not run")) as api:
        with handler_with(sandbox, api, "--hooks", str(hooks)) as handler:
            async with bridge_to(handler, sandbox, claude_bin) as manager:
                result = await run_task(manager, task="Do something", cwd=str(sandbox.project))
    assert result.status == "failed" and result.backend == "none"
    assert "The pre-execute hook `cat >" in result.error and "exit code 2: workspace is locked" in result.error
    assert api.messages_requests == [], "claude never started"
    context = json.loads(ran.read_text())
    assert context["claude"] is True and context["execution_id"] == result.execution_id
    assert context["command"].startswith(f"exec {claude_bin} -p ")
