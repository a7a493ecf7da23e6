"""The search page (``/search``): one box, filters with counts, a colour, results a page at a time.

State lives in a ``SearchPageState`` made per session (Panel's guidance: no module-level
widgets). Searching is ``adref.search``'s job, on the server; this page turns widgets into a
``SearchQuery`` and a ``SearchPage`` into HTML. The query string seeds it, so links can open a
search: ``q`` (text), ``like`` + ``shot`` ("more like this"), ``colour`` (``#rrggbb``), and any
facet by name (``genre=tvc``, ``tag=summer``).
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from typing import Any, cast

import panel as pn

from adref.categories import formats, genres, label
from adref.search.index import search
from adref.search.query import Hit, SearchPage, SearchQuery
from adref.viewer.boards import add_link
from adref.viewer.context import ViewerContext
from adref.viewer.style import CARD_CSS
from adref.warehouse.detail import video_title

# facet name in SearchPage.facets -> SearchQuery field, and the title people see
FACETS: dict[str, tuple[str, str]] = {
    "genre": ("genres", "Genre"),
    "format": ("formats", "Format"),
    "mood": ("moods", "Mood"),
    "tag": ("tags", "Tags"),
    "provider": ("providers", "Provider"),
    "owner": ("owners", "Owner"),
    "aspect": ("aspects", "Aspect"),
}
_ASPECTS = {
    "vertical": ("세로", "Vertical"),
    "square": ("정사각", "Square"),
    "landscape": ("가로", "Landscape"),
}
_QUOTED = {"screen": "On screen", "said": "Said"}  # where a hit's quoted line is
_LONG_FACETS = {"mood", "tag"}  # many values: a box to pick from; the others are listed
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def facet_label(ctx: ViewerContext, facet: str, value: str) -> str:
    """A facet value as people read it: genres, formats and aspects in the output language."""
    if facet == "genre":
        return label(genres(), value, ctx.language)
    if facet == "format":
        return label(formats(), value, ctx.language)
    if facet == "aspect":
        return label(_ASPECTS, value, ctx.language)
    return value


def _option(ctx: ViewerContext, facet: str, value: str, count: int | None = None) -> str:
    """A facet value's label in its filter. The long facets' box (Choices.js, in Bokeh's
    MultiChoice) renders labels as HTML, and tags and moods come from anyone: users, links,
    web pages and models; escaped, they show as the text they are."""
    label = facet_label(ctx, facet, value)
    if count is not None:
        label = f"{label} ({count})"
    return escape(label) if facet in _LONG_FACETS else label


def query_from_params(ctx: ViewerContext) -> SearchQuery:
    """The search a link asks for (unknown or malformed parameters are ignored)."""
    facets = {
        field: tuple(v for v in (ctx.param(name) or "").split(",") if v)
        for name, (field, _) in FACETS.items()
    }
    like = None
    if (like_id := ctx.param("like")) is not None:
        shot = ctx.param("shot", "0") or "0"
        like = (like_id, int(shot)) if shot.isascii() and shot.isdigit() else None
    colour = ctx.param("colour")
    return SearchQuery(
        text=ctx.param("q", "") or "",
        colour=colour if colour and _HEX.fullmatch(colour) else None,
        like=like,
        **cast(dict[str, Any], facets),
    )


def hit_html(ctx: ViewerContext, hit: Hit) -> str:
    """One result: its keyframe (opening the video at that shot), title, genre, the line read on
    screen or said where the words are, tags."""
    opened = ctx.link("video", id=hit.video_id, t=round(hit.start_s, 3) or None)
    more = ctx.link("search", like=hit.video_id, shot=hit.shot_index)
    add = add_link(ctx, hit.video_id, hit.shot_index)
    img = ctx.media_url(hit.keyframe_path) or ""
    title = escape(hit.title or hit.video_id)
    genre = escape(facet_label(ctx, "genre", hit.genre)) if hit.genre else "—"
    duration = f" · {hit.duration_s:.0f} s" if hit.duration_s else ""
    tags = "".join(f"<span class='tag'>{escape(t)}</span>" for t in hit.tags[:8])
    quote = (
        f"<div class='quote {hit.quoted}' title='{escape(hit.quote)}'>"
        f"<b>{_QUOTED[hit.quoted]}</b>“{escape(hit.quote)}”</div>"
        if hit.quote and hit.quoted in _QUOTED
        else ""
    )
    return (
        f"<div class='card' data-video='{escape(hit.video_id)}' data-shot='{hit.shot_index}'>"
        f"<a href='{escape(opened)}'><img src='{escape(img)}' alt='{title}' loading='lazy'></a>"
        f"<div class='body'><a class='title' href='{escape(opened)}' title='{title}'>{title}</a>"
        f"<div class='meta'>{genre}{duration} · shot {hit.shot_index}</div>{quote}<div>{tags}</div>"
        f"<a class='more' href='{escape(more)}'>More like this</a> · "
        f"<a class='more add' href='{escape(add)}'>Add to moodboard</a></div></div>"
    )


def results_html(ctx: ViewerContext, result: SearchPage) -> str:
    if not result.hits:
        return "<p class='meta'>No results. Try fewer words or filters.</p>"
    return "<div class='grid'>" + "".join(hit_html(ctx, h) for h in result.hits) + "</div>"


class SearchPageState:
    """The widgets and the last result of one session's search page."""

    def __init__(self, ctx: ViewerContext) -> None:
        self.ctx = ctx
        start = query_from_params(ctx)
        self.like = start.like
        self.page_size = start.page_size
        self.page_no = 0
        self.total = 0
        self.text = pn.widgets.TextInput(
            label="Search", value=start.text, placeholder="words, tags, moods… (Enter)"
        )
        self.facets: dict[str, pn.widgets.MultiChoice | pn.widgets.CheckBoxGroup] = {
            name: (pn.widgets.MultiChoice if name in _LONG_FACETS else pn.widgets.CheckBoxGroup)(
                label=title,
                options={_option(ctx, name, v): v for v in getattr(start, field)},
                value=list(getattr(start, field)),
                sizing_mode="stretch_width",
            )
            for name, (field, title) in FACETS.items()
        }
        self.min_s = pn.widgets.FloatInput(label="Min length (s)", value=None, start=0, width=110)
        self.max_s = pn.widgets.FloatInput(label="Max length (s)", value=None, start=0, width=110)
        self.date_from = pn.widgets.DatePicker(label="Added from", value=None, width=110)
        self.date_to = pn.widgets.DatePicker(label="Added to", value=None, width=110)
        self.by_colour = pn.widgets.Checkbox(label="By colour", value=start.colour is not None)
        self.colour = pn.widgets.ColorPicker(label="Colour", value=start.colour or "#e8883a")
        self.like_note = pn.pane.HTML("", sizing_mode="stretch_width")
        self.clear_like = pn.widgets.Button(label="Clear 'more like this'", visible=False)
        self.count = pn.pane.HTML("", name="count")
        self.prev = pn.widgets.Button(label="‹ Prev", width=80)
        self.next = pn.widgets.Button(label="Next ›", width=80)
        self.results = pn.pane.HTML(
            "", stylesheets=[CARD_CSS], sizing_mode="stretch_width", name="results"
        )
        self._updating = False

        self.text.param.watch(self._changed, "enter_pressed")  # Enter searches, again too
        for widget in (
            *self.facets.values(),
            self.min_s,
            self.max_s,
            self.date_from,
            self.date_to,
            self.by_colour,
            self.colour,
        ):
            widget.param.watch(self._changed, "value")
        self.prev.on_click(lambda _: self.turn(-1))
        self.next.on_click(lambda _: self.turn(1))
        self.clear_like.on_click(lambda _: self._set_like(None))
        self._show_like()
        self.refresh()

    def query(self) -> SearchQuery:
        fields: dict[str, Any] = {
            field: tuple(self.facets[name].value) for name, (field, _) in FACETS.items()
        }
        return SearchQuery(
            text=(self.text.value or "").strip(),
            min_duration_s=self.min_s.value,
            max_duration_s=self.max_s.value,
            date_from=cast(date | None, self.date_from.value),
            date_to=cast(date | None, self.date_to.value),
            colour=self.colour.value if self.by_colour.value else None,
            like=self.like,
            page=self.page_no,
            page_size=self.page_size,
            **fields,
        )

    def refresh(self) -> SearchPage:
        result = search(self.ctx.settings, self.query())
        self.total = result.total
        self._show(result)
        return result

    def turn(self, step: int) -> None:
        last = max(0, (self.total - 1) // self.page_size)
        self.page_no = min(max(0, self.page_no + step), last)
        self.refresh()

    def _changed(self, *_: object) -> None:
        if not self._updating:
            self.page_no = 0
            self.refresh()

    def _set_like(self, like: tuple[str, int] | None) -> None:
        self.like = like
        self._show_like()
        self._changed()

    def _show(self, result: SearchPage) -> None:
        self._updating = True
        try:
            for name, widget in self.facets.items():
                counts = dict(result.facets.get(name, ()))
                values = list(dict.fromkeys([*widget.value, *counts]))
                widget.options = {_option(self.ctx, name, v, counts.get(v, 0)): v for v in values}
        finally:
            self._updating = False
        first = self.page_no * self.page_size
        noun = "result" if result.total == 1 else "results"
        shown = f" · {first + 1}–{first + len(result.hits)} shown" if result.hits else ""
        self.count.object = f"<b>{result.total} {noun}</b>{shown}"
        self.prev.disabled = self.page_no == 0
        self.next.disabled = first + len(result.hits) >= result.total
        self.results.object = results_html(self.ctx, result)

    def _show_like(self) -> None:
        """The 'more like this' note, read once per change of ``like``, not per result page."""
        if self.like is not None:
            video_id, shot = self.like
            title = video_title(self.ctx.warehouse, video_id) or video_id
            opened = self.ctx.link("video", id=video_id)
            self.like_note.object = (
                f"Shots like shot {shot} of <a href='{escape(opened)}'>{escape(title)}</a>"
            )
        else:
            self.like_note.object = ""
        self.clear_like.visible = self.like is not None

    def view(self) -> pn.viewable.Viewable:
        filters = pn.Column(
            *(
                pn.Column(pn.pane.HTML(f"<b>{w.label}</b>", margin=(8, 10, 0, 10)), w)
                if isinstance(w, pn.widgets.CheckBoxGroup)
                else w
                for w in self.facets.values()
            ),
            pn.Row(self.min_s, self.max_s),
            pn.Row(self.date_from, self.date_to),
            pn.Row(self.by_colour, self.colour),
            width=300,
        )
        main = pn.Column(
            self.text,
            pn.Row(self.like_note, self.clear_like),
            pn.Row(self.count, self.prev, self.next),
            self.results,
            sizing_mode="stretch_width",
        )
        return pn.Row(filters, main, sizing_mode="stretch_width")


def page(ctx: ViewerContext) -> pn.viewable.Viewable:
    return SearchPageState(ctx).view()
