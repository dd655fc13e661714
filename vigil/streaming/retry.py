"""Backoff between attempts of a sink whose target (disk, broker, database) is unavailable."""

from __future__ import annotations

import time
from collections.abc import Callable

from vigil.processes import backoff_delay


class Backoff:
    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.initial, self.maximum, self.clock = initial, maximum, clock
        self.failures = 0
        self._next = 0.0

    def ready(self) -> bool:
        return self.clock() >= self._next

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self) -> float:
        """Note a failure; returns the seconds until the next attempt."""
        delay = backoff_delay(self.failures, self.initial, self.maximum)
        self.failures += 1
        self._next = self.clock() + delay
        return delay

    def succeeded(self) -> bool:
        """Note a success; True if it ends a run of failures."""
        recovered, self.failures, self._next = self.failures > 0, 0, 0.0
        return recovered
