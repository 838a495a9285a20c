# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GetHookStatusOutput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    enabled: bool
    message: str
    backend: str
    """
    The handler that answered, or 'local' when none is reachable.
    """
