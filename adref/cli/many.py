"""Many sources in one ``adref analyze``: read a list of them, run each in turn, report them all.

Each source is its own flow run in this one process, so Prefect starts once for the lot. One bad
source (refused, missing, a failed run) is reported and the rest still run.
"""

from __future__ import annotations

import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from adref.cli.app import err_console, state
from adref.cli.plain import escape
from adref.errors import AdrefError, InputError
from adref.ingest.plan import source_key
from adref.sources.urls import looks_like_url, redact_url

_COMMENT = re.compile(r"\s#.*$")


def read_sources(path: Path) -> list[str]:
    """Sources one a line; ``#`` lines and blank lines are skipped; ``-`` reads stdin. After an
    address, `` #`` starts a comment too (an address holds no space); a path may hold one."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot read the list of sources {path}", reason) from None
    sources = [_source(line) for line in text.removeprefix("\ufeff").splitlines()]
    return [source for source in sources if source]


def _source(line: str) -> str:
    text = line.strip()
    if text.startswith("#"):
        return ""
    if looks_like_url(text.split(maxsplit=1)[0] if text else ""):
        return _COMMENT.sub("", text).strip()
    return text


def unique(sources: Sequence[str]) -> tuple[list[str], list[str]]:
    """Each source once, in the order given (as ingest tells them apart), and the repeats."""
    kept: list[str] = []
    repeats: list[str] = []
    seen: set[str] = set()
    for source in sources:
        key = source_key(source)
        (repeats if key in seen else kept).append(source)
        seen.add(key)
    return kept, repeats


@dataclass
class Outcome:
    source: str
    summary: Any = None  # the run's RunSummary when it ran to the end
    error: str = ""  # one line, when it was refused or failed
    refused: bool = False  # stopped before any run (bad address, not a video)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.summary is not None

    @property
    def status(self) -> str:
        if self.summary is not None:
            return str(self.summary.status)
        return "refused" if self.refused else "failed"


def shown(source: str) -> str:
    """A source as printed: an address without its secrets."""
    return redact_url(source) if looks_like_url(source) else source


def one_line(exc: BaseException) -> str:
    """What a user sees of a failed run: our own errors as they say, anything else as a bug."""
    if isinstance(exc, AdrefError):
        return exc.one_line()
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"unexpected {type(exc).__name__}: {first}"


def run_each(
    sources: Sequence[str],
    check: Callable[[str], None],
    run: Callable[[str], Any],
    start: Callable[[], None],
) -> list[Outcome]:
    """Every source checked, then run one after another; ``start`` once, before the first run
    (never when every source was refused, so nothing starts for nothing)."""
    outcomes = [Outcome(source) for source in sources]
    for outcome in outcomes:
        try:
            check(outcome.source)
        except Exception as exc:  # a bug checking one source must not stop the others either
            if state.debug and not isinstance(exc, AdrefError):
                traceback.print_exc()
            outcome.error, outcome.refused = one_line(exc), True
            _report(outcome)
    todo = [o for o in outcomes if not o.refused]
    if todo:
        start()
    for number, outcome in enumerate(todo, 1):
        err_console.print(
            f"[bold][{number}/{len(todo)}][/] {escape(shown(outcome.source))}", highlight=False
        )
        clock = time.perf_counter()
        try:
            outcome.summary = run(outcome.source)
        except Exception as exc:  # one bad video must not stop the others
            if state.debug:
                traceback.print_exc()
            outcome.error = one_line(exc)
            _report(outcome)
        outcome.seconds = time.perf_counter() - clock
    return outcomes


def _report(outcome: Outcome) -> None:
    err_console.print(
        f"[bold red]error:[/] {escape(shown(outcome.source))}: {escape(outcome.error)}",
        highlight=False,
        soft_wrap=True,
    )


def outcome_table(outcomes: Sequence[Outcome]) -> Table:
    """One row per source, in the order given: what became of it."""
    failed = sum(not o.ok for o in outcomes)
    noun = "source" if len(outcomes) == 1 else "sources"
    title = f"{len(outcomes)} {noun}: {len(outcomes) - failed} ok, {failed} failed or refused"
    table = Table(title=title, title_justify="left")
    for column in ("source", "video", "status", "time"):
        table.add_column(column, justify="right" if column == "time" else "left")
    for o in outcomes:
        video = (o.summary.video_id or "") if o.summary else ""
        status = escape(o.status) if o.ok else f"[red]{o.status}[/]: {escape(o.error)}"
        table.add_row(
            escape(shown(o.source)),
            escape(video) or "—",
            status,
            f"{o.seconds:.1f} s" if o.seconds else "—",
        )
    return table
