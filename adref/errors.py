"""One error vocabulary for every door.

Each error carries what failed, why, and what to do, so the CLI can print one clear line and
Prefect's retry logic can tell a transient failure from a permanent one without parsing text.
"""

from __future__ import annotations

import signal


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
        # A part that ends a sentence its own way (libpq's "Is the server running ...?") keeps it.
        return " ".join(p if p.endswith(("?", "!")) else p.rstrip(".") + "." for p in parts)

    def redact(self, secret: str) -> AdrefError:
        """Take a secret out of every part of the message (a vendor's error body may quote the
        key in any field); returns the error itself, to raise."""
        if secret:
            self.what, self.why, self.hint = (
                part.replace(secret, "***") for part in (self.what, self.why, self.hint)
            )
            self.args = (self.one_line(),)
        return self

    def __reduce__(self) -> tuple[type[AdrefError], tuple[str, str, str], dict[str, object]]:
        # Prefect pickles task exceptions into its result store; keep every field, a
        # subclass's own ones included (they all have defaults, so three arguments rebuild it).
        return (type(self), (self.what, self.why, self.hint), dict(self.__dict__))


class InputError(AdrefError):
    """The input itself is wrong (not a video, empty, unsupported site, unavailable): never retried."""


class LimitExceeded(InputError):
    """The input is valid but over a configured limit (duration, file size)."""


class TransientError(AdrefError):
    """A failure a retry can fix (network hiccup, 5xx, timeout)."""

    retryable = True


class WarehouseError(AdrefError):
    """The warehouse could not be read or written."""


class WarehouseUnreachable(WarehouseError):
    """The warehouse's catalog (PostgreSQL) does not answer. Its own class so a caller can tell
    it from a bad statement, and retryable: the same call succeeds once PostgreSQL is back."""

    retryable = True


class Stopped(KeyboardInterrupt):
    """A termination signal (SIGTERM: a service manager, ``timeout``, ``kill``), raised where
    Ctrl-C raises KeyboardInterrupt, so a command stops the same way, and says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def interruption(exc: BaseException) -> BaseException | None:
    """The stop (Ctrl-C, a termination signal) an exception hides, if it hides one.

    A signal that arrives while DuckDB runs a query ends the query with ``RuntimeError('Query
    interrupted')``: the signal handler's own exception, where it raised one, is that error's
    context, and Ctrl-C's KeyboardInterrupt is lost (one is made again). A best-effort step
    that catches ``Exception`` must not swallow the user's stop with it.
    """
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if not isinstance(cause, Exception):  # KeyboardInterrupt, SystemExit, signals
            return cause
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, RuntimeError) and str(exc) == "Query interrupted":
        return KeyboardInterrupt()
    return None


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, AdrefError) and exc.retryable


class ProviderError(AdrefError):
    """A model provider refused or failed a call. Carries the provider's name, never its key."""

    def __init__(self, what: str, why: str = "", hint: str = "", provider: str = "") -> None:
        self.provider = provider
        # What the failed attempt still cost (calls answered, then refused or invalid): a run
        # that fails must count its spend, or the day's cap would not see it.
        self.tokens_in = 0
        self.tokens_out = 0
        self.cost_usd = 0.0
        self.notes: list[str] = []  # what a chain tried before this failure ended the run
        super().__init__(what, why, hint)

    def redact(self, secret: str) -> ProviderError:
        super().redact(secret)
        if secret:
            self.notes = [note.replace(secret, "***") for note in self.notes]
        return self

    def charge(self, tokens_in: int, tokens_out: int, cost_usd: float) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.cost_usd += cost_usd


class ProviderTransient(ProviderError):
    """429, 5xx, a timeout or a dropped connection: worth another try after a wait.

    Only adref's provider loop retries these (the SDKs are built with ``max_retries=0``), so
    SDK, provider and Prefect retries never multiply into a storm.
    """

    retryable = True

    def __init__(
        self,
        what: str,
        why: str = "",
        hint: str = "",
        provider: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(what, why, hint, provider)


class ProviderHardError(ProviderError):
    """Auth, quota, a bad request, a refusal, retries used up, a spending cap reached:
    asking the same provider again cannot help, so a fallback chain moves to the next one."""


class AnswerInvalid(ProviderError):
    """The model's answer is not a valid analysis even after repair and one re-ask.

    ``raw_path`` is where the raw answer was saved for inspection (never stored in the warehouse).
    """

    def __init__(
        self, what: str, why: str = "", hint: str = "", provider: str = "", raw_path: str = ""
    ) -> None:
        self.raw_path = raw_path
        super().__init__(what, why, hint, provider)
