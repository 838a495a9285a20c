"""Reading a task-list file for `cc-executor run --task-list`: Markdown, JSON or YAML, into checked TaskSpecs.

Markdown in the old cc_executor template's shape: each task is a section headed
`## Task N: title` or `### Task N: title` (the heading level does not matter), and the
section's body is the task; text before the first such heading (an overview) is not a
task. JSON or YAML: a list of task objects (`[{task, ...options}]`, the fields of
execute_task), or an object with such a list under `tasks`. Options given on the command
line apply to every task that does not set them itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cc_executor.generated.mcp.common import TaskSpec

TASK_HEADING = re.compile(r"^#{1,6}\s+Task\s+(\d+)\s*[:.\-–—]\s*(.*?)\s*#*\s*$", re.IGNORECASE | re.MULTILINE)
FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)


class TaskListError(Exception):
    """The file cannot be read as a task list; the message says where and why."""


def read_task_list(path: Path, defaults: dict[str, Any] | None = None) -> list[TaskSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskListError(f"cannot read the task list {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise TaskListError(f"the task list {path} is not UTF-8 text") from None
    if path.suffix.lower() in (".md", ".markdown"):
        items: list[Any] = [{"task": body} for body in markdown_tasks(text, path)]
    else:
        items = _structured(text, path)
    if not items:
        raise TaskListError(f"the task list {path} has no tasks")
    specs = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise TaskListError(f'{path}: task {number} is not an object with a "task" field')
        try:
            specs.append(TaskSpec.model_validate({**(defaults or {}), **item}))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "task"
            raise TaskListError(f"{path}: task {number}: {where}: {first['msg']}") from None
    return specs


def markdown_tasks(text: str, path: Path) -> list[str]:
    """The bodies of the `Task N: title` sections, in order (headings inside code fences do not count)."""
    headings = [match for match in TASK_HEADING.finditer(text) if not _in_fence(text, match.start())]
    if not headings:
        raise TaskListError(f'{path}: no "### Task N: title" sections found')
    bodies = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        body = text[heading.end() : end].strip().removesuffix("---").strip()
        if not body:
            raise TaskListError(
                f"{path}: Task {heading.group(1)} ({heading.group(2)}) has no body: the body is the task"
            )
        bodies.append(body)
    return bodies


def _in_fence(text: str, position: int) -> bool:
    return len(FENCE.findall(text, 0, position)) % 2 == 1


def _structured(text: str, path: Path) -> list[Any]:
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise TaskListError(f"the task list {path} is not valid {kind}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("tasks"), list):
        data = data["tasks"]
    if not isinstance(data, list):
        raise TaskListError(f'{path}: expected a list of tasks ([{{"task": ...}}]) or an object with "tasks"')
    return data
