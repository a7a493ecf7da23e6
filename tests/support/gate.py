"""A gate in a fake model server: calls wait in the server's threads until it opens.

A test holds runs at a named point (their model call reached the server) instead of sleeping:
``Gate(open_at=5)`` holds every call until five wait at once, then lets them and every later
call through (five runs provably in flight together); ``Gate()`` holds calls until the test
calls ``open()``, and ``wait_arrived(n)`` tells the test the n-th call is there.

    fake.gate = Gate(open_at=5)
"""

from __future__ import annotations

import threading
import time

SAFETY_S = 900.0  # reached only when a test is broken: a held call is let go then


class Gate:
    def __init__(self, open_at: int | None = None) -> None:
        self.open_at = open_at
        self.arrived = 0  # calls that reached the gate
        self.waiting = 0  # calls held now
        self.most_waiting = 0  # the most held at once
        self.is_open = False
        self._cond = threading.Condition()

    def hold(self) -> None:
        """Called by the fake for each call, in the server's thread for that call."""
        with self._cond:
            self.arrived += 1
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            if self.open_at is not None and self.waiting >= self.open_at:
                self.is_open = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.is_open, timeout=SAFETY_S)
            self.waiting -= 1

    def open(self) -> None:
        with self._cond:
            self.is_open = True
            self._cond.notify_all()

    def wait_arrived(self, count: int, timeout: float) -> bool:
        """True once ``count`` calls have reached the gate; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            return self._cond.wait_for(
                lambda: self.arrived >= count, timeout=max(0.0, deadline - time.monotonic())
            )
