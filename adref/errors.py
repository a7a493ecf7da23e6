"""One error vocabulary for every door.

Each error carries what failed, why, and what to do, so the CLI can print one clear line and
Prefect's retry logic can tell a transient failure from a permanent one without parsing text.
"""

from __future__ import annotations


class AdrefError(Exception):
    """Base error: a short, user-facing message; never a secret, never a traceback."""

    retryable: bool = False

    def __init__(self, what: str, why: str = "", hint: str = "") -> None:
        self.what = what
        self.why = why
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [self.what]
        if self.why:
            parts[0] = f"{self.what}: {self.why}"
        if self.hint:
            parts.append(self.hint)
        return ". ".join(p.rstrip(".") for p in parts) + "."

    def __reduce__(self) -> tuple[type[AdrefError], tuple[str, str, str]]:
        # Prefect pickles task exceptions into its result store; keep all three fields.
        return (type(self), (self.what, self.why, self.hint))


class InputError(AdrefError):
    """The input itself is wrong (not a video, empty, unsupported site, unavailable): never retried."""


class LimitExceeded(InputError):
    """The input is valid but over a configured limit (duration, file size)."""


class TransientError(AdrefError):
    """A failure a retry can fix (network hiccup, 5xx, timeout)."""

    retryable = True


class WarehouseError(AdrefError):
    """The warehouse could not be read or written."""


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, AdrefError) and exc.retryable
