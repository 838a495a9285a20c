"""Failed logins, per source address: each one logged (rate-limited), and guesses slowed down, one at a time.

A wrong token is answered only after a delay, and the wrong tokens of one address wait
their turn, so an address gets at most one guess per delay however many connections it
opens. After MAX_FAILURES within WINDOW_S the delay grows to THROTTLED_DELAY_S and the
answer is 429 (Retry-After) instead of 401. A request without any token guesses nothing:
it is answered 401 at once. A right token is never delayed nor refused: another local
user who floods the port with wrong tokens cannot lock the owner out. The log gets
one line for the first failure of an address, then at most one line per LOG_EVERY_S
saying how many followed, so a flood cannot fill the disk. Few addresses are remembered
(the least recent are forgotten).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_FAILURES = 10
WINDOW_S = 60.0
FAILURE_DELAY_S = 0.25
THROTTLED_DELAY_S = 2.0
LOG_EVERY_S = 10.0
REMEMBERED_ADDRESSES = 4096


@dataclass
class _Address:
    failures: list[float] = field(default_factory=list)  # times of the wrong tokens within the window
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # failures of one address are answered in turn
    logged_at: float = float("-inf")
    unlogged: int = 0  # failures since the last log line


class FailedLogins:
    def __init__(self, log: logging.Logger, clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self.clock = clock
        self._addresses: OrderedDict[str, _Address] = OrderedDict()

    async def failed(self, address: str, guessed: bool) -> float | None:
        """Note one failed login from `address` (`guessed`: it presented a wrong token, else none), log it
        (rate-limited) and wait out a guess's delay after the address's earlier guesses. Returns the seconds to
        tell the client to wait when the address is throttled, else None."""
        record = self._note(address, guessed)
        throttled = guessed and len(record.failures) >= MAX_FAILURES
        self._log(address, "wrong bearer token" if guessed else "no bearer token", record, throttled)
        if not guessed:
            return None
        async with record.turn:
            await asyncio.sleep(THROTTLED_DELAY_S if throttled else FAILURE_DELAY_S)
        return WINDOW_S if throttled else None

    def _note(self, address: str, guessed: bool) -> _Address:
        now = self.clock()
        record = self._addresses.pop(address, None) or _Address()
        self._addresses[address] = record  # the most recent last
        while len(self._addresses) > REMEMBERED_ADDRESSES:
            self._addresses.popitem(last=False)
        record.failures = [at for at in record.failures if now - at < WINDOW_S] + ([now] if guessed else [])
        return record

    def _log(self, address: str, reason: str, record: _Address, throttled: bool) -> None:
        now = self.clock()
        record.unlogged += 1
        if now - record.logged_at < LOG_EVERY_S:
            return
        self.log.warning(
            "failed login",
            extra={
                "event": {
                    "address": address or "unix socket",
                    "reason": reason,
                    "failures": record.unlogged,
                    "failures_in_window": len(record.failures),
                    "throttled": throttled,
                }
            },
        )
        record.logged_at, record.unlogged = now, 0
