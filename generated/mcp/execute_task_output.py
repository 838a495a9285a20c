# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated
from pydantic import Field, RootModel
from . import common


class ExecuteTaskOutput(RootModel[common.TaskResult]):
    root: Annotated[
        common.TaskResult,
        Field(
            examples=[
                {
                    "status": "completed",
                    "result": "The answer is 3.",
                    "execution_id": "9b2f0c1e-3d4a-4c8b-9f51-1a2b3c4d5e6f",
                    "session_id": "11111111-2222-4333-8444-555555555555",
                    "num_turns": 2,
                    "total_cost_usd": 0.00072,
                    "input_tokens": 240,
                    "output_tokens": 24,
                    "duration_ms": 4210,
                    "exit_code": 0,
                    "backend": "ws://127.0.0.1:8003/ws/mcp",
                },
                {
                    "status": "running",
                    "hint": 'Follow it with get_execution_status {"execution_id": "job-7", "wait_s": 60}; repeat until the status is final.',
                    "execution_id": "job-7",
                    "backend": "local",
                },
                {
                    "status": "completed",
                    "result": "Wrote nothing: I was not allowed to.",
                    "hint": "Claude Code denied 1 tool call that needed approval (Write). To allow it, run the task again with permission_mode 'acceptEdits' or allowed_tools ['Write'].",
                    "execution_id": "job-8",
                    "num_turns": 2,
                    "permission_denials": [
                        {"tool": "Write", "input": "/home/me/project/notes.md"}
                    ],
                    "duration_ms": 3100,
                    "exit_code": 0,
                    "backend": "local",
                },
                {
                    "status": "timed_out",
                    "error": "Timed out after 40 s while the Claude CLI was retrying the Claude API (3 retries, last: overloaded, HTTP 529); the process group was terminated.",
                    "hint": "The Claude API was overloaded or failing; try again later, or give a larger timeout_s.",
                    "execution_id": "job-9",
                    "api_retries": 3,
                    "duration_ms": 40012,
                    "exit_code": -15,
                    "backend": "local",
                },
            ],
            title="ExecuteTaskOutput",
        ),
    ]
