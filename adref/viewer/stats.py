"""The Stats page (``/stats[?days=N]``): what the runs did, from ``runs`` and ``analyses``.

Videos analysed per day, median time per stage, the cache-hit rate, tokens and cost by provider
and by day, and failures by cause; the figures come from :mod:`adref.warehouse.stats`, this
module only draws them. The period is a link (``?days=7``), so a view can be shared.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any

import panel as pn
from bokeh.models import (
    ColumnDataSource,
    DatetimeTickFormatter,
    FactorRange,
    HoverTool,
    NumeralTickFormatter,
    Range1d,
)
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from adref.viewer.context import ViewerContext
from adref.viewer.plain import alert
from adref.viewer.style import CARD_CSS
from adref.warehouse.stats import Stats, load_stats

PERIODS = {"7": "last 7 days", "30": "last 30 days", "90": "last 90 days", "all": "all time"}
DAY_MS = 86_400_000


def page(ctx: ViewerContext) -> pn.viewable.Viewable:
    days = ctx.param("days", "30") or "30"
    if days not in PERIODS:
        days = "30"
    since = None if days == "all" else _today() - timedelta(days=int(days) - 1)
    stats = load_stats(ctx.warehouse, since)
    return pn.Column(
        pn.pane.HTML(
            header_html(ctx, stats, days), stylesheets=[CARD_CSS], sizing_mode="stretch_width"
        ),
        *(body(stats) if stats.runs else [_nothing(PERIODS[days])]),
        sizing_mode="stretch_width",
        name="stats",
    )


def body(stats: Stats) -> list[pn.viewable.Viewable]:
    return [
        pn.Row(
            pn.pane.Bokeh(videos_chart(stats), sizing_mode="stretch_width", name="videos"),
            pn.pane.Bokeh(cache_chart(stats), sizing_mode="stretch_width", name="cache"),
            sizing_mode="stretch_width",
        ),
        pn.Row(
            pn.pane.Bokeh(stages_chart(stats), sizing_mode="stretch_width", name="stages"),
            pn.pane.Bokeh(cost_chart(stats), sizing_mode="stretch_width", name="cost"),
            sizing_mode="stretch_width",
        ),
        pn.Row(
            pn.pane.HTML(stages_html(stats), stylesheets=[CARD_CSS], name="stage-table"),
            pn.pane.HTML(providers_html(stats), stylesheets=[CARD_CSS], name="providers"),
            sizing_mode="stretch_width",
        ),
        pn.pane.HTML(spend_days_html(stats), stylesheets=[CARD_CSS], name="spend-days"),
        pn.pane.HTML(
            failures_html(stats),
            stylesheets=[CARD_CSS],
            sizing_mode="stretch_width",
            name="failures",
        ),
    ]


def header_html(ctx: ViewerContext, stats: Stats, days: str) -> str:
    periods = " · ".join(
        f"<b>{label}</b>"
        if key == days
        else f'<a href="{escape(ctx.link("stats", days=key))}">{label}</a>'
        for key, label in PERIODS.items()
    )
    rate = stats.cache_hit_rate
    facts = [
        f"{stats.runs} runs",
        f"{sum(d.completed for d in stats.days)} completed",
        f"{sum(d.failed for d in stats.days)} failed",
        f"cache hits {rate:.0%} of tasks" if rate is not None else "no tasks yet",
        f"spent ${stats.cost_usd:.4f}",
    ]
    return f"<h2>Stats</h2><div class='meta'>{periods}</div><p>{' · '.join(facts)}</p>"


def _nothing(period: str) -> pn.viewable.Viewable:
    return alert(
        f"No runs in the {period}: analyse a video (the Analyze page, or `adref analyze`).",
        alert_type="info",
    )


def _noon(day: date) -> datetime:
    """Noon of the day, UTC: where its bar is centred, so the bar covers the day."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _day_range(days: list[date]) -> Range1d:
    """The days shown, up to today and at least a week wide, so the axis ticks whole days."""
    last = max([*days, _today()])
    first = min([*days, last - timedelta(days=6)])
    return Range1d(start=_noon(first) - timedelta(hours=12), end=_noon(last) + timedelta(hours=12))


def _day_figure(title: str, y_label: str, days: list[date], **kw: Any) -> Any:
    fig = figure(
        x_range=_day_range(days),
        title=title,
        height=240,
        x_axis_type="datetime",
        y_axis_label=y_label,
        toolbar_location=None,
        sizing_mode="stretch_width",
        **kw,
    )
    fig.xaxis.formatter = DatetimeTickFormatter(
        hours="%b %d", days="%b %d", months="%b %Y", context=None
    )
    return fig


def videos_chart(stats: Stats) -> Any:
    """Videos a completed run analysed, per UTC day, with the day's failed runs on top."""
    source = ColumnDataSource(
        {
            "day": [_noon(d.day) for d in stats.days],
            "videos": [d.videos for d in stats.days],
            "failed": [d.failed for d in stats.days],
            "runs": [d.runs for d in stats.days],
        }
    )
    fig = _day_figure(
        "Videos analysed per day", "videos", [d.day for d in stats.days], y_range=(0, _top(stats))
    )
    fig.vbar_stack(
        ["videos", "failed"],
        x="day",
        width=DAY_MS * 0.8,
        color=["#2a6df4", "#e4572e"],
        line_width=0,
        legend_label=["videos analysed", "failed runs"],
        source=source,
    )
    fig.legend.location = "top_left"
    fig.add_tools(
        HoverTool(
            tooltips=[("day", "@day{%F}"), ("videos", "@videos"), ("failed", "@failed")],
            formatters={"@day": "datetime"},
        )
    )
    return fig


def _top(stats: Stats) -> float:
    return max((d.videos + d.failed for d in stats.days), default=1) * 1.2 + 0.5


def cache_chart(stats: Stats) -> Any:
    days = [d for d in stats.days if d.tasks]
    source = ColumnDataSource(
        {
            "day": [_noon(d.day) for d in days],
            "rate": [d.cache_hits / d.tasks for d in days],
            "hits": [d.cache_hits for d in days],
            "tasks": [d.tasks for d in days],
        }
    )
    fig = _day_figure(
        "Cache hits (share of tasks)", "cache hits", [d.day for d in days], y_range=(0, 1.05)
    )
    fig.line("day", "rate", source=source, color="#3b9c5a", line_width=2)
    fig.scatter("day", "rate", source=source, color="#3b9c5a", size=7)
    fig.yaxis.formatter = NumeralTickFormatter(format="0%")
    fig.add_tools(
        HoverTool(
            tooltips=[("day", "@day{%F}"), ("hits", "@hits of @tasks tasks")],
            formatters={"@day": "datetime"},
        )
    )
    return fig


def stages_chart(stats: Stats) -> Any:
    """Median seconds per stage: all completed runs, and those with no cache hit."""
    stages = [s.stage for s in stats.stages]
    source = ColumnDataSource(
        {
            "stage": stages,
            "all": [s.median_s or 0.0 for s in stats.stages],
            "uncached": [s.median_uncached_s or 0.0 for s in stats.stages],
            "runs": [s.runs for s in stats.stages],
        }
    )
    fig = figure(
        title="Median time per stage (s)",
        y_range=FactorRange(factors=list(reversed(stages))),
        height=240,
        x_axis_label="seconds",
        toolbar_location=None,
        sizing_mode="stretch_width",
    )
    fig.hbar(y="stage", right="uncached", height=0.7, source=source, color="#f2a541",
             legend_label="no cache hit")  # fmt: skip
    fig.hbar(y="stage", right="all", height=0.35, source=source, color="#2a6df4",
             legend_label="all runs")  # fmt: skip
    fig.add_layout(fig.legend[0], "right")
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("stage", "@stage"),
                ("median", "@all{0.00} s"),
                ("no cache", "@uncached{0.00} s"),
            ]
        )
    )
    return fig


def cost_chart(stats: Stats) -> Any:
    """Model spend per UTC day, stacked by provider."""
    providers = sorted({s.provider for s in stats.spend_by_day})
    days = sorted({s.day for s in stats.spend_by_day})
    cost = {(s.day, s.provider): s.cost_usd for s in stats.spend_by_day}
    data: dict[str, list[Any]] = {"day": [_noon(d) for d in days]}
    for p in providers:
        data[p] = [cost.get((d, p), 0.0) for d in days]
    fig = _day_figure("Cost per day by provider (USD)", "USD", days)
    if providers:
        fig.vbar_stack(
            providers,
            x="day",
            width=DAY_MS * 0.8,
            color=[Category10_10[i % 10] for i in range(len(providers))],
            line_width=0,
            legend_label=providers,
            source=ColumnDataSource(data),
        )
        fig.legend.location = "top_left"
    fig.yaxis.formatter = NumeralTickFormatter(format="$0.00[00]")
    return fig


def stages_html(stats: Stats) -> str:
    rows = "".join(
        f"<tr><th>{escape(s.stage)}</th><td>{_secs(s.median_s)}</td><td>{s.runs}</td>"
        f"<td>{_secs(s.median_uncached_s)}</td><td>{s.uncached_runs}</td></tr>"
        for s in stats.stages
    )
    return (
        "<h3>Median time per stage</h3><table class='fields'><tr><th>stage</th><th>median</th>"
        "<th>runs</th><th>no cache hit</th><th>runs</th></tr>" + rows + "</table>"
    )


def providers_html(stats: Stats) -> str:
    rows = "".join(
        f"<tr><th>{escape(p.provider)}</th><td>{p.runs}</td><td>{p.analyses}</td>"
        f"<td>{p.tokens_in:,}</td><td>{p.tokens_out:,}</td><td>${p.cost_usd:.4f}</td></tr>"
        for p in stats.providers
    )
    return (
        "<h3>Tokens and cost by provider</h3><table class='fields'><tr><th>provider</th>"
        "<th>runs</th><th>analyses</th><th>tokens in</th><th>tokens out</th><th>cost</th></tr>"
        + rows
        + "</table>"
    )


def spend_days_html(stats: Stats, limit: int = 14) -> str:
    """Tokens and cost per day and provider, newest first (days that spent nothing left out)."""
    spent = [s for s in stats.spend_by_day if s.tokens_in or s.tokens_out or s.cost_usd]
    if not spent:
        return "<h3>Tokens and cost by day</h3><p class='meta'>No model tokens spent.</p>"
    days = sorted({s.day for s in spent}, reverse=True)[:limit]
    rows = "".join(
        f"<tr><th>{s.day.isoformat()}</th><td>{escape(s.provider)}</td><td>{s.tokens_in:,}</td>"
        f"<td>{s.tokens_out:,}</td><td>${s.cost_usd:.4f}</td></tr>"
        for s in sorted(spent, key=lambda s: (s.day, s.provider), reverse=True)
        if s.day in days
    )
    return (
        "<h3>Tokens and cost by day</h3><table class='fields'><tr><th>day (UTC)</th>"
        "<th>provider</th><th>tokens in</th><th>tokens out</th><th>cost</th></tr>"
        + rows
        + "</table>"
    )


def failures_html(stats: Stats) -> str:
    if not stats.failures:
        return "<h3>Failures by cause</h3><p class='meta'>No failed runs.</p>"
    rows = "".join(
        f"<tr><th>{escape(f.cause)}</th><td>{f.runs}</td>"
        f"<td>{escape(str(f.last_at or ''))[:16]}</td><td>{escape(f.last_error)}</td></tr>"
        for f in stats.failures
    )
    return (
        "<h3>Failures by cause</h3><table class='fields'><tr><th>cause</th><th>runs</th>"
        "<th>last</th><th>last error</th></tr>" + rows + "</table>"
    )


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _today() -> date:
    return datetime.now(UTC).date()
