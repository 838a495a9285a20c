"""Prometheus metrics of one handler (its own registry, so several handlers can share a process).

Each figure one execution adds to carries that execution's id as an OpenMetrics exemplar
(the latest per series, or per histogram bucket): an operator finds the execution behind
a slow bucket or a failure without a label per execution. Exemplars appear only in the
OpenMetrics format, which a scraper asks for (`Accept: application/openmetrics-text`);
without it the reply is the plain Prometheus text it always was.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from .execution_slots import ExecutionSlots

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, float("inf"))
BYTES_BUCKETS = (0, 1024, 16384, 262144, 1 << 20, 16 << 20, 256 << 20, 1 << 30, float("inf"))
EXEMPLAR_LABEL = "execution_id"
#: OpenMetrics allows 128 characters for an exemplar's label names and values together; a longer id is cut
EXEMPLAR_ID_CHARS = 128 - len(EXEMPLAR_LABEL)


def exemplar(execution_id: str) -> dict[str, str]:
    return {EXEMPLAR_LABEL: execution_id[:EXEMPLAR_ID_CHARS]}


class HandlerMetrics:
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

    def execution_ended(self, execution_id: str, status: str, duration_s: float, output_bytes: int) -> None:
        example = exemplar(execution_id)
        self.executions.labels(status=status).inc(exemplar=example)
        self.duration.observe(duration_s, exemplar=example)
        self.output_bytes.observe(output_bytes, exemplar=example)

    def waited(self, execution_id: str, waited_s: float) -> None:
        """An execution got its slot after waiting in the queue."""
        self.queue_wait.observe(waited_s, exemplar=exemplar(execution_id))

    def not_started(self, execution_id: str, reason: str) -> None:
        """An execution got no slot and never started."""
        self.not_run.labels(reason=reason).inc(exemplar=exemplar(execution_id))

    def spawn_failed(self, execution_id: str) -> None:
        self.spawn_failures.inc(exemplar=exemplar(execution_id))

    def render(self, accept: str) -> tuple[bytes, str]:
        """The exposition the `Accept` header asks for, and its content type: OpenMetrics (with exemplars) when
        asked, else the plain Prometheus text format 0.0.4 every scraper reads."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type
