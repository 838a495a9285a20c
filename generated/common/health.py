# Generated from spec/ by scripts/generate_models.py. Do not edit by hand.

from __future__ import annotations

from typing import Annotated, Any, Literal
from pydantic import BaseModel, ConfigDict, Field, RootModel


class Probes(RootModel[Any]):
    root: Annotated[Any, Field(title="Probes")]
    """
    What the handler's plain-HTTP liveness and readiness endpoints answer (spec/http/openapi.yaml).
    """


class Health(BaseModel):
    """
    Liveness and load of the handler (GET /health, spec/http/openapi.yaml). The old handler's fields keep their old values (status "healthy", service "cc_executor_mcp"); fields added since say so. Open: a reader ignores fields it does not know.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Literal["healthy"]
    """
    Always healthy while the handler answers.
    """
    service: Literal["cc_executor_mcp"]
    """
    The old handler's service name, kept for old health checkers.
    """
    version: str
    """
    The handler's version.
    """
    active_sessions: Annotated[int, Field(ge=0)]
    """
    Open WebSocket connections.
    """
    max_sessions: Annotated[int, Field(ge=1)]
    """
    The most sessions served at once.
    """
    uptime_seconds: Annotated[float, Field(ge=0.0)]
    """
    Seconds since the handler started.
    """
    implementation: Literal["cc-executor-handler"] | None = None
    """
    Which handler answers. Added in protocol 2.0.
    """
    protocols: list[str] | None = None
    """
    WebSocket protocol modes offered: "1.0" (clients without a subprotocol) and "2.0" (subprotocol cc-executor.v2). Added in protocol 2.0.
    """
    running_executions: Annotated[int | None, Field(ge=0)] = None
    """
    Executions running now (each holds one of --max-running slots; their pre-execution hooks count as running). Added in protocol 2.0.
    """
    auth_required: bool | None = None
    """
    Whether WebSocket clients must send a bearer token (clients from --trust-network networks need none). Added in protocol 2.0.
    """
    max_running: Annotated[int | None, Field(ge=1)] = None
    """
    Executions that run at once (--max-running; default: --max-sessions). Further executions wait in a FIFO queue. Added in protocol 2.0.
    """
    queued_executions: Annotated[int | None, Field(ge=0)] = None
    """
    Executions waiting for a slot, in arrival order. Added in protocol 2.0.
    """
    max_queued_executions: Annotated[int | None, Field(ge=0)] = None
    """
    The most executions that wait (--max-queued-executions); one more is answered -32004 (reason handler_full). Added in protocol 2.0.
    """
    draining: bool | None = None
    """
    True once the handler got SIGTERM: it takes no new connections or executions, hands queued executions back (-32004, reason draining), and lets running ones finish within --drain-grace. GET /ready answers 503 meanwhile. Added in protocol 2.0.
    """


class Healthz(BaseModel):
    """
    The old handler's minimal liveness answer (GET /healthz), for Kubernetes-style probes.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Literal["ok"]
    """
    Always ok while the handler answers.
    """
