# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GetHookStatusInput(BaseModel):
    """
    get_hook_status takes no arguments.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
