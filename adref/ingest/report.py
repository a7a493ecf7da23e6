"""What an ingest did, for people: the run's markdown artifact and its one-line summary."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from adref.ingest.expand import Expansion, Found
from adref.ingest.plan import Plan
from adref.sources.urls import redact_url

__all__ = ["IngestSummary", "Started", "markdown", "shown", "summarize"]


@dataclass(frozen=True)
class Started:
    found: Found
    run_id: str  # a flow run id, or "" for a video analysed in-process
    run_name: str
    link: str | None = None  # the run's page in the Prefect UI
    error: str | None = None  # an in-process analysis that failed


class IngestSummary(BaseModel):
    """What the ingest flow returns (and the CLI prints): counts, and the runs it started."""

    sources: int
    bad_entries: list[str]
    found: int
    new: int
    skipped: int
    started: list[str]  # flow run ids
    dry_run: bool = False


def shown(target: str) -> str:
    return redact_url(target)


def summarize(
    expansion: Expansion, plan: Plan, started: list[Started], dry_run: bool
) -> IngestSummary:
    return IngestSummary(
        sources=len(expansion.sources),
        bad_entries=[b.line() for b in expansion.bad],
        found=len(expansion.found),
        new=len(plan.new),
        skipped=len(plan.skipped),
        started=[s.run_id for s in started if s.run_id],
        dry_run=dry_run,
    )


def markdown(expansion: Expansion, plan: Plan, started: list[Started], dry_run: bool) -> str:
    """Sources read, videos found, new, skipped and why, runs started with links."""
    lines = [
        "# Ingest" + (" (dry run: nothing started)" if dry_run else ""),
        "",
        f"- **sources read:** {len(expansion.sources)}"
        + (f" ({len(expansion.bad)} bad entries skipped)" if expansion.bad else ""),
        f"- **videos found:** {len(expansion.found)}",
        f"- **new:** {len(plan.new)}",
        f"- **skipped:** {len(plan.skipped)}",
        f"- **runs started:** {sum(1 for s in started if s.run_id)}",
        "",
    ]
    if started:
        lines += ["## Runs started", "", "| video | source | flow run |", "| --- | --- | --- |"]
        for s in started:
            run = f"[{_cell(s.run_name)}]({s.link})" if s.link else _cell(s.run_name or "—")
            lines.append(
                f"| {_cell(s.found.video_id or '(known once downloaded)')} "
                f"| {_cell(shown(s.found.target))} | {run} |"
            )
        lines.append("")
    elif plan.new:
        lines += ["## New (would start)", "", "| video | source |", "| --- | --- |"]
        lines += [f"| {_cell(f.video_id or '—')} | {_cell(shown(f.target))} |" for f in plan.new]
        lines.append("")
    if plan.skipped:
        lines += ["## Skipped", "", "| source | why |", "| --- | --- |"]
        lines += [f"| {_cell(shown(s.target))} | {_cell(s.reason)} |" for s in plan.skipped]
        lines.append("")
    if expansion.bad:
        lines += ["## Bad entries (skipped; the rest ran)", ""]
        lines += [f"- {_cell(b.line())}" for b in expansion.bad]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
