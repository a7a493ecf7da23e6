"""Stop a server at a named point of a run the test's own thread is running in the foreground."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class StopWhen:
    """Calls ``stop`` from another thread once ``ready()`` returns something true, looking every
    ``every_s`` until ``safety_s`` (reached only when the test is broken). A look that fails
    (the server busy, a query refused) counts as not ready: a watcher that died would leave the
    run waiting at the named point for good."""

    def __init__(
        self,
        ready: Callable[[], object],
        stop: Callable[[], None],
        *,
        safety_s: float,
        every_s: float = 0.1,
    ) -> None:
        self.ready, self.stop, self.safety_s, self.every_s = ready, stop, safety_s, every_s
        self.stopped = threading.Event()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        deadline = time.monotonic() + self.safety_s
        while not self._cancel.is_set() and time.monotonic() < deadline:
            try:
                found = self.ready()
            except Exception:
                found = None
            if found:
                self.stop()
                self.stopped.set()
                return
            self._cancel.wait(self.every_s)

    def join(self) -> None:
        self._cancel.set()
        self._thread.join(timeout=60)
