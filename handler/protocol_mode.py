"""The two protocol modes of a connection, and everything that differs between them, in one place.

A client that offers the WebSocket subprotocol `cc-executor.v2` gets protocol 2.0; any
other client gets protocol 1.0: the old cc_executor handler's observable behaviour (one
line per process.output frame, lenient params, the `ping` heartbeat, the timeout marker
lines), apart from the corrections listed in spec/README.md. The protocol core asks its
mode and never tests which mode it is.

Protocol 2.0 alone takes `stdin` (and `queue`) in execute, sends hook.completed and process.queued
notifications, shows executions that wait for a slot (`queued_execution`) or for their pre-execution hooks
(`starting_execution`) in status and sessions, and
relays an execution's permission prompts (`permission_relay` in execute, permission.requested,
answer_permission); a 1.0 client whose execution waits for a slot just gets its reply later.

Adding a 2.0-only method or notification is a change here: a reader in V2.readers (the
method), or a name in V2.notifications (the notification), then its handling in the
protocol core. Protocol 1.0 is what old clients know and does not grow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cc_executor.generated.common.jsonrpc import LenientRequest, Request

from .output_framer import Framing
from .params import LENIENT_READERS, STRICT_READERS, ParamsReader

V2_SUBPROTOCOL = "cc-executor.v2"


@dataclass(frozen=True)
class ProtocolMode:
    version: Literal["1.0", "2.0"]
    subprotocol: str | None  # what the client offers in Sec-WebSocket-Protocol to get this mode
    envelope: type[Request] | type[LenientRequest]  # the request object: closed (2.0), or unknown fields ignored
    readers: Mapping[str, ParamsReader]  # the methods, and how each one's params are read
    silent_methods: frozenset[str]  # accepted and never answered, with or without an id (1.0's pong)
    notifications: frozenset[str]  # notifications beyond connected and process.* (1.0's ping)
    framing: Framing  # how process output is cut into frames
    timeout_markers: bool  # a timeout writes the old handler's marker line to both streams first
    session_limit_in_band: bool  # over the session limit: greet with the old error, then close (not HTTP 503)
    takes_stdin: bool  # execute may carry `stdin` (and its frame may be larger by it)

    @property
    def heartbeat(self) -> bool:
        return "ping" in self.notifications

    @property
    def shows_queue(self) -> bool:
        """Executions that wait for a slot are announced (process.queued) and shown in status and sessions."""
        return "process.queued" in self.notifications

    @property
    def shows_starting(self) -> bool:
        """Executions whose pre-execution hooks run are shown in status and sessions (hook.completed reports each
        hook as it ends)."""
        return "hook.completed" in self.notifications


OLD_CLIENTS = ProtocolMode(
    version="1.0",
    subprotocol=None,
    envelope=LenientRequest,
    readers=LENIENT_READERS,
    silent_methods=frozenset({"pong"}),
    notifications=frozenset({"ping"}),
    framing="line",
    timeout_markers=True,
    session_limit_in_band=True,
    takes_stdin=False,
)

V2 = ProtocolMode(
    version="2.0",
    subprotocol=V2_SUBPROTOCOL,
    envelope=Request,
    readers=STRICT_READERS,
    silent_methods=frozenset(),
    notifications=frozenset({"hook.completed", "process.queued", "permission.requested"}),
    framing="batched",
    timeout_markers=False,
    session_limit_in_band=False,
    takes_stdin=True,
)

MODES = (V2, OLD_CLIENTS)


def mode_for(subprotocol: str | None) -> ProtocolMode:
    """The mode a connection gets for the subprotocol negotiated in its handshake."""
    return V2 if subprotocol == V2_SUBPROTOCOL else OLD_CLIENTS
