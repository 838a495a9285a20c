# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class Hooks(RootModel[Any]):
    root: Annotated[Any, Field(title="Hooks")]
    """
    The hooks engine's facts, shared by the handler's hook_status and hook.completed and by the bridge: hooks are commands from a hooks file in the old `.claude-hooks.json` shape, run before and after executions (docs/hooks.md).
    """


class HookRun(BaseModel):
    """
    One run of one hook: what ran, at which stage, for which execution, and how it ended.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    stage: Annotated[
        Literal[
            "pre-execute",
            "pre-tool",
            "pre-claude",
            "post-claude",
            "post-tool",
            "post-execute",
            "post-output",
        ],
        Field(title="HookStage"),
    ]
    """
    A stage hooks run at. pre-execute and post-execute: every execution; pre-claude and post-claude: executions that run Claude Code; pre-tool runs after pre-execute, post-tool and post-output after post-execute (the old handler's names for the same moments). A hooks file may also name pre-edit, post-edit and pre-task-list, which never run (file edits are Claude Code's own hooks: see a task's settings).
    """
    command: str
    """
    The hook's command (at most 200 characters shown).
    """
    execution_id: str | None = None
    """
    The execution the hook ran for (its ExecutionId).
    """
    status: Literal["ok", "failed", "timed_out", "not_started"]
    """
    ok: exit status 0; failed: another exit status or a signal; timed_out: it ran past its timeout and its process group was ended; not_started: it could not be started.
    """
    optional: bool
    """
    An optional hook's failure never stops an execution.
    """
    exit_code: int | None = None
    """
    Its exit status (minus the signal number when a signal ended it).
    """
    duration_s: Annotated[float | None, Field(ge=0.0)] = None
    error: str | None = None
    """
    Why it failed, in a sentence, with the end of what it wrote to stderr.
    """
    output: str | None = None
    """
    The end of what it wrote to stdout (at most 1,000 characters).
    """
    ended_at: AwareDatetime | None = None


class HookStageConfig(BaseModel):
    """
    One configured hook, as hook_status reports it.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    stage: str
    """
    The stage's name in the hooks file.
    """
    command: str
    timeout_s: float
    optional: bool
    when: str
    """
    When it runs, in words.
    """
