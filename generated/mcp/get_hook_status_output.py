# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GetHookStatusOutput(BaseModel):
    """
    The hook status of the handler the bridge uses.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    enabled: bool
    """
    Whether the handler runs pre/post-execution hooks.
    """
    message: str
    """
    What the handler says about its hooks.
    """
    backend: str
    """
    The handler that answered, or 'local' when none is reachable.
    """
