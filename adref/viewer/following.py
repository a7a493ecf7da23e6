"""A run's progress on a page: its stages, state and last log lines, polled from the Prefect
API until the run ends, then a link to its video. Shared by the Analyze page and the video
page's Re-analyse button; one ``Follower`` per session and run, never shared.
"""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn

from adref.errors import AdrefError
from adref.viewer import runs
from adref.viewer.context import ViewerContext

POLL_MS = 1500

FOLLOW_CSS = """
:host { font-family: system-ui, sans-serif; }
.stages { display: flex; gap: 6px; margin: 6px 0; }
.stage { padding: 3px 10px; border-radius: 12px; font-size: 13px; background: #eee; color: #555; }
.stage.running { background: #fff3c4; color: #6b5200; }
.stage.done { background: #d7f0dd; color: #1d5c2e; }
.stage.cached { background: #dde8fb; color: #1f4a8a; }
.stage.failed { background: #f9d6d0; color: #8a1f10; }
pre.logs { font-size: 12px; background: #f6f6f6; padding: 6px; max-height: 14em; overflow: auto;
  white-space: pre-wrap; }
.state { font-weight: 600; }
"""


class Follower:
    """Polls one flow run; ``update`` is what the periodic callback calls (tests call it)."""

    def __init__(self, ctx: ViewerContext, started: runs.StartedRun, done_text: str) -> None:
        self.ctx = ctx
        self.started = started
        self.done_text = done_text
        self.last: runs.RunProgress | None = None
        self.error: str | None = None
        self.pane = pn.pane.HTML(
            self._html(), stylesheets=[FOLLOW_CSS], sizing_mode="stretch_width", name="progress"
        )
        self._callback: Any = None

    def start(self) -> Follower:
        self.update()
        if not self.finished and pn.state.curdoc is not None:  # in a browser session
            self._callback = pn.state.add_periodic_callback(self.update, period=POLL_MS)
        return self

    @property
    def finished(self) -> bool:
        return self.error is not None or bool(self.last and self.last.final)

    def update(self) -> None:
        try:
            self.last = runs.follow(self.ctx.settings, self.started.flow_run_id)
            self.error = None
        except AdrefError as exc:
            self.error = exc.one_line()
        self.pane.object = self._html()
        if self.finished and self._callback is not None:
            self._callback.stop()
            self._callback = None

    def _html(self) -> str:
        run_link = (
            f'<a href="{escape(self.started.ui_url)}" target="_blank" rel="noopener">'
            f"{escape(self.started.name)}</a> in the Prefect UI"
        )
        if self.error:
            return f"<p>{run_link}</p><p class='state'>{escape(self.error)}</p>"
        p = self.last
        if p is None:
            return f"<p>{run_link}: starting…</p>"
        chips = "".join(
            f"<span class='stage {s.state}' title='{s.state}'>{escape(s.stage)} · {s.state}</span>"
            for s in p.stages
        )
        waiting = (
            " (waiting for a worker: is `adref up` running?)" if p.state == "SCHEDULED" else ""
        )
        message = f" — {escape(p.message)}" if p.message and not p.succeeded else ""
        html = (
            f"<p>{run_link}: <span class='state'>{escape(p.state_name)}</span>"
            f"{escape(waiting)}{message}</p><div class='stages'>{chips}</div>"
        )
        if p.final and p.succeeded and p.video_id:
            link = self.ctx.link("video", id=p.video_id)
            html += f'<p><a class="open" href="{escape(link)}">{escape(self.done_text)}</a></p>'
        if p.logs:
            html += f"<pre class='logs'>{escape(chr(10).join(p.logs))}</pre>"
        return html
