"""Prometheus metrics of one handler (its own registry, so several handlers can share a process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .execution_slots import ExecutionSlots

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, float("inf"))
BYTES_BUCKETS = (0, 1024, 16384, 262144, 1 << 20, 16 << 20, 256 << 20, 1 << 30, float("inf"))


class HandlerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, sessions: Callable[[], int], slots: ExecutionSlots) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.executions = Counter(
            "cc_executor_executions", "Executions that ended, by status", ["status"], registry=self.registry
        )
        self.duration = Histogram(
            "cc_executor_execution_duration_seconds",
            "Wall-clock duration of ended executions",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.output_bytes = Histogram(
            "cc_executor_execution_output_bytes",
            "Bytes written to stdout and stderr by ended executions",
            buckets=BYTES_BUCKETS,
            registry=self.registry,
        )
        self.spawn_failures = Counter(
            "cc_executor_spawn_failures", "Executions whose process could not be started", registry=self.registry
        )
        Gauge("cc_executor_sessions", "Open WebSocket sessions", registry=self.registry).set_function(sessions)
        self.queue_wait = Histogram(
            "cc_executor_queue_wait_seconds",
            "Time executions waited in the queue for a slot (those that got one)",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.not_run = Counter(
            "cc_executor_executions_not_run",
            "Executions that got no slot and never started, by reason (handler_full, draining, canceled)",
            ["reason"],
            registry=self.registry,
        )
        gauges: dict[str, tuple[str, Callable[[], float]]] = {
            "cc_executor_running_executions": ("Executions running now", lambda: slots.running),
            "cc_executor_execution_slots": (
                "Executions that may run at once (--max-running)",
                lambda: slots.max_running,
            ),
            "cc_executor_queued_executions": ("Executions waiting for a slot", lambda: slots.queued),
            "cc_executor_draining": ("1 while the handler drains (after SIGTERM)", lambda: float(slots.draining)),
        }
        for name, (text, read) in gauges.items():
            Gauge(name, text, registry=self.registry).set_function(read)

    def execution_ended(self, status: str, duration_s: float, output_bytes: int) -> None:
        self.executions.labels(status=status).inc()
        self.duration.observe(duration_s)
        self.output_bytes.observe(output_bytes)

    def render(self) -> bytes:
        return generate_latest(self.registry)
