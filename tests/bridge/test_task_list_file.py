"""Task-list files (issue 11): Markdown in the old template's shape, JSON and YAML, read into checked tasks,
and `cc-executor run --task-list` running them (sequential or --parallel, --json, the exit status)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import bridge_helpers as b

from cc_executor.bridge.task_list_file import TaskListError, read_task_list

pytestmark = pytest.mark.timeout(60)

OLD_TEMPLATE = """# Web Application Setup Task List

## Overview
Set up a basic web application.

---

### Task 1: Check Python Environment

Verify Python 3.10+ is installed and accessible.

Success Criteria:
- Python version is 3.10 or higher

```markdown
## Task 9: an example inside a code fence is not a task
```

### Task 2: Create Project Structure

Set up the directory structure.
"""


def test_the_old_markdown_template_gives_one_task_per_section(tmp_path):
    path = tmp_path / "tasks.md"
    path.write_text(OLD_TEMPLATE)
    first, second = read_task_list(path, {"permission_mode": "acceptEdits"})
    assert first.task.startswith("Verify Python 3.10+ is installed") and "## Task 9" in first.task
    assert first.task.endswith("```")
    assert second.task == "Set up the directory structure."
    assert first.permission_mode == second.permission_mode == "acceptEdits"


def test_json_and_yaml_carry_options_per_task(tmp_path):
    (tmp_path / "tasks.json").write_text(json.dumps([{"task": "a", "max_turns": 3}, {"task": "b"}]))
    (tmp_path / "tasks.yaml").write_text("tasks:\n  - task: a\n    model: sonnet\n  - task: b\n")
    a, b_ = read_task_list(tmp_path / "tasks.json", {"max_turns": 9})
    assert (a.max_turns, b_.max_turns) == (3, 9), "a task's own option wins over the command line's"
    assert [s.model for s in read_task_list(tmp_path / "tasks.yaml")] == ["sonnet", None]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("t.md", "# Nothing here\n", 'no "### Task N: title" sections'),
        ("t.md", "### Task 1: Empty\n\n### Task 2: x\nbody\n", "Task 1 (Empty) has no body"),
        ("t.json", '[{"task": "a", "max_turns": 0}]', "task 1: max_turns"),
        ("t.json", '{"task": "a"}', "expected a list of tasks"),
        ("t.yaml", "- task: a\n- [x", "not valid YAML"),
        ("t.json", "[]", "has no tasks"),
        ("t.json", '[{"task": "a", "bogus": 1}]', "task 1: bogus"),
    ],
)
def test_a_bad_task_list_says_where(tmp_path, name, content, said):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TaskListError, match=re.escape(said)):
        read_task_list(path)


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in b.DROPPED_ENV and k != "CC_EXECUTOR_HANDLER_URL"}
    env |= {"CC_EXECUTOR_DATA_DIR": str(data_dir), "CC_EXECUTOR_CLAUDE_BIN": str(b.FAKE_CLAUDE_BIN)}
    env["HOME"] = str(data_dir)
    command = [sys.executable, "-m", "cc_executor", "run", "--backend", "local", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=45, stdin=subprocess.DEVNULL)


def test_run_task_list_in_parallel_prints_every_result_and_succeeds(tmp_path):
    path = tmp_path / "tasks.md"
    path.write_text("".join(f"### Task {n}: part {n}\n\npart {n} [fake:slow seconds=1 steps=1]\n\n" for n in (1, 2, 3)))
    done = run(tmp_path, "--task-list", str(path), "--parallel", "3", "--json")
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert [r["status"] for r in output["results"]] == ["completed"] * 3
    assert output["summary"]["total"] == 3 and output["summary"]["duration_ms"] < 2900


def test_run_task_list_exits_non_zero_when_a_task_failed(tmp_path):
    path = tmp_path / "tasks.yaml"
    path.write_text("- task: fine\n- task: not logged in [fake:auth]\n")
    done = run(tmp_path, "--task-list", str(path))
    assert done.returncode == 1
    assert "Summary: 1 of 2 completed, 1 failed" in done.stdout and "Echo: fine" in done.stdout


def test_run_task_list_with_a_bad_file_is_one_line(tmp_path):
    path = tmp_path / "tasks.md"
    path.write_text("no tasks\n")
    done = run(tmp_path, "--task-list", str(path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and 'no "### Task N: title"' in done.stderr


def test_a_list_with_a_task_that_would_ask_for_permission_runs_nothing(tmp_path):
    """Nobody can answer a permission request while `run --task-list` runs the list: refused before anything runs."""
    (tmp_path / "tasks.json").write_text(
        json.dumps([{"task": "a"}, {"task": "b [fake:deny]", "permission_prompts": "orchestrator"}])
    )
    done = run(tmp_path, "--task-list", str(tmp_path / "tasks.json"))
    assert done.returncode == 2, done.stderr
    said = " ".join(done.stderr.split())  # the terminal wraps it
    assert "error: task 2 of the list has permission_prompts 'orchestrator', and nobody can answer" in said
    assert "Traceback" not in done.stderr and not (tmp_path / "notes.md").exists()
