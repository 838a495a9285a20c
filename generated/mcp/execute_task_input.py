# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import ConfigDict
from .common import TaskFields


class ExecuteTaskInput(TaskFields):
    """
    Arguments of execute_task: one task and its options (TaskFields), and whether to wait for it.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    wait: bool | None = True
    """
    true (default): run to the end, reporting progress, and return the result; with permission_prompts 'orchestrator' it returns early (status running) when a permission request waits for you and the MCP host cannot be asked directly (elicitation): answer it with respond_permission, then follow the task with get_execution_status. false: return at once with the execution_id and status; then call get_execution_status with wait_s until the status is final.
    """
