# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from typing import Annotated, Literal


class HookStageInfo(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    stage: str
    """
    The stage's name in the hooks file, e.g. pre-execute.
    """
    command: str
    """
    The hook's command (at most 200 characters shown).
    """
    timeout_s: float
    """
    Seconds it may run before it is stopped and counts as failed.
    """
    optional: bool
    """
    A failing optional pre-stage hook does not stop the execution.
    """
    when: str
    """
    When it runs, in words (e.g. 'before every execution', 'never: ...').
    """


class HookRunInfo(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    stage: str
    status: Literal["ok", "failed", "timed_out", "not_started"]
    command: str | None = None
    """
    At most 200 characters.
    """
    execution_id: str | None = None
    exit_code: int | None = None
    duration_s: Annotated[float | None, Field(ge=0.0)] = None
    error: str | None = None
    """
    Why it failed (at most 300 characters).
    """
    ended_at: AwareDatetime | None = None


class GetHookStatusOutput(BaseModel):
    """
    The hooks of whoever runs the bridge's tasks: the handler it uses, or the bridge itself (local backend): the hooks file, its stages, and the latest runs.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    enabled: bool
    """
    Whether hooks run: a hooks file (--hooks FILE, or .claude-hooks.json where the handler or bridge was started) was loaded.
    """
    message: str
    """
    The status in words: the file and its stages, or why no hooks run.
    """
    backend: str
    """
    The handler that answered, or 'local' (the bridge's own hooks, for tasks it runs itself).
    """
    config_path: str | None = None
    """
    The hooks file in use.
    """
    stages: Annotated[list[HookStageInfo] | None, Field(max_length=20)] = None
    """
    Each configured hook: its stage, command and timeout, and when it runs.
    """
    last_runs: Annotated[list[HookRunInfo] | None, Field(max_length=10)] = None
    """
    The latest hook runs, oldest first (at most 10).
    """
