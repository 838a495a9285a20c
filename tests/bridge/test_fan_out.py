"""Fan-out (issue 11): execute_task_list with max_parallel (results in list order, progress never backwards,
stop_on_failure), and wait_executions for several executions at once, compact."""

from __future__ import annotations

import json
import time

import pytest
from fixtures import bridge_helpers as b

pytestmark = pytest.mark.timeout(60)


async def test_max_parallel_runs_tasks_at_once_and_keeps_their_order(tmp_path):
    tasks = [{"task": f"part {n} [fake:slow seconds=1.5 steps=3]"} for n in range(3)] + [{"task": "quick one"}]
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with b.mcp_bridge(tmp_path, progress_interval_s=0) as br:
        data = await br.ok("execute_task_list", {"tasks": tasks, "max_parallel": 4}, progress_callback=on_progress)
    results, summary = data["results"], data["summary"]
    assert [r["result"] for r in results] == ["Finished the slow task."] * 3 + ["Echo: quick one"]
    assert summary["completed"] == 4 and summary["skipped"] == 0
    durations = sum(r["duration_ms"] for r in results)
    assert summary["duration_ms"] < durations * 0.6, "they ran at once, not one after another"
    values = [value for value, _, _ in progress]
    assert values == sorted(set(values)), "strictly increasing on one token, whatever task reports"
    assert {total for _, total, _ in progress} == {4} and values[-1] > 3
    assert {m.split(" · ")[0] for _, _, m in progress if m} == {"task 1/4", "task 2/4", "task 3/4", "task 4/4"}


async def test_one_after_another_by_default(tmp_path):
    tasks = [{"task": f"step {n} [fake:slow seconds=0.5 steps=1]"} for n in range(2)]
    async with b.mcp_bridge(tmp_path) as br:
        data = await br.ok("execute_task_list", {"tasks": tasks})
    first, second = data["results"]
    assert data["summary"]["duration_ms"] >= first["duration_ms"] + second["duration_ms"]


async def test_stop_on_failure_in_parallel_lets_running_tasks_finish_and_starts_no_more(tmp_path):
    tasks = [
        {"task": "fails at once [fake:auth]"},
        {"task": "already running [fake:slow seconds=1 steps=1]"},
        {"task": "never started 1"},
        {"task": "never started 2"},
    ]
    async with b.mcp_bridge(tmp_path) as br:
        data = await br.failed("execute_task_list", {"tasks": tasks, "max_parallel": 2, "stop_on_failure": True})
    assert [r["status"] for r in data["results"]] == ["failed", "completed"]
    assert data["summary"]["skipped"] == 2 and data["summary"]["failed"] == 1


async def test_wait_executions_waits_for_any_or_all_and_answers_briefly(tmp_path):
    async with b.mcp_bridge(tmp_path) as br:
        quick = await br.ok("execute_task", {"task": "quick [fake:long chars=5000]", "wait": False})
        slow = await br.ok("execute_task", {"task": "slow [fake:slow seconds=2 steps=2]", "wait": False})
        ids = [quick["execution_id"], slow["execution_id"]]
        started = time.monotonic()
        anyone = await br.ok("wait_executions", {"execution_ids": ids, "mode": "any", "wait_s": 30})
        took_any = time.monotonic() - started
        partial = await br.ok("wait_executions", {"execution_ids": ids, "wait_s": 0})
        everyone = await br.ok("wait_executions", {"execution_ids": ids, "wait_s": 30})
        unknown = await br.error("wait_executions", {"execution_ids": [*ids, "nope"]})
        failing = await br.ok("execute_task", {"task": "no [fake:auth]", "wait": False})
        failed = await br.call("wait_executions", {"execution_ids": [failing["execution_id"]], "wait_s": 30})
    assert anyone["done"] is True and anyone["pending"] == 1 and took_any < 1.8
    assert [e["status"] for e in anyone["executions"]] == ["completed", "running"]
    assert "call wait_executions again with execution_ids" in anyone["hint"]
    assert partial["done"] is False and partial["pending"] == 1
    assert everyone["done"] is True and everyone["pending"] == 0
    brief = everyone["executions"][0]
    assert brief["result_truncated"] is True and len(brief["result"]) == 300 and brief["session_id"]
    assert everyone["executions"][1]["result"] == "Finished the slow task."
    assert len(json.dumps(everyone)) < 1500, "short results: a model can wait for many tasks"
    assert "Unknown execution_id(s) ['nope']" in unknown
    assert failed.is_error and "failed" in b.text_of(failed) and "Not logged in" in b.text_of(failed)
