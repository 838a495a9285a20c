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
                    "execution_id": "9b2f0c1e-3d4a-4c8b-9f51-1a2b3c4d5e6f",
                    "status": "completed",
                    "exit_code": 0,
                    "result": "The answer is 3.",
                    "result_truncated": False,
                    "is_error": False,
                    "error": None,
                    "session_id": "11111111-2222-4333-8444-555555555555",
                    "num_turns": 2,
                    "duration_ms": 4210,
                    "total_cost_usd": 0.00072,
                    "usage": {"input_tokens": 240, "output_tokens": 24},
                    "stderr_tail": "",
                    "output_truncated": False,
                    "output_bytes": 5120,
                    "backend": "ws://127.0.0.1:8003/ws/mcp",
                },
                {"execution_id": "job-7", "status": "running", "backend": "local"},
            ],
            title="ExecuteTaskOutput",
        ),
    ]
