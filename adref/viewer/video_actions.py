"""The video page's actions: edit (corrections), add a shot to a moodboard, download, delete.

Each is a ``video.ACTIONS`` function ``(ctx, view) -> Viewable``, built per page. The edit form
shows the effective values (a person's latest correction, else the model's answer) and, beside
each corrected one, who corrected it and what the model said.
"""

from __future__ import annotations

import io
from html import escape
from typing import Any

import panel as pn

from adref.boards.delete import delete_video
from adref.boards.download import file_name, video_zip
from adref.boards.frames import timecode
from adref.categories import formats, genres, label
from adref.errors import AdrefError
from adref.search.index import refresh_quietly
from adref.viewer.boards import add_link
from adref.viewer.context import ViewerContext
from adref.viewer.plain import alert
from adref.viewer.style import CARD_CSS
from adref.warehouse import moodboards as mb
from adref.warehouse.corrections import Edit, Effective, effective, save_corrections
from adref.warehouse.detail import VideoView

_NONE = "—"


def _words(text: str) -> list[str]:
    return [w for w in (part.strip() for part in text.replace("\n", ",").split(",")) if w]


def _shown(ctx: ViewerContext, name: str, value: Any) -> str:
    if value in (None, [], ""):
        return _NONE
    if name == "genre":
        return f"{label(genres(), value, ctx.language)} ({value})"
    if name == "expression_format":
        return f"{label(formats(), value, ctx.language)} ({value})"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def corrections_html(ctx: ViewerContext, eff: Effective) -> str:
    """Each field's value, marked "corrected by X" with the model's value beside it."""
    rows = []
    for name, c in eff.fields.items():
        mark = ""
        if c.corrected:
            when = c.at.strftime("%Y-%m-%d %H:%M") if c.at else ""
            model = _shown(ctx, name, c.model_value)
            mark = (
                f" <span class='tag corrected'>corrected by {escape(c.author or '')} {when}</span>"
                f" <span class='meta'>model: {escape(model)}</span>"
            )
        value = escape(_shown(ctx, name, c.value))
        rows.append(f"<tr><th>{escape(name)}</th><td>{value}{mark}</td></tr>")
    return f"<table class='fields'>{''.join(rows)}</table>"


def edit_action(ctx: ViewerContext, view: VideoView) -> pn.viewable.Viewable:
    wh, vid = ctx.warehouse, view.video_id
    eff = effective(wh, vid)
    lang = ctx.language
    genre = pn.widgets.Select(
        label="Genre",
        options={_NONE: ""} | {f"{label(genres(), g, lang)} ({g})": g for g in genres()},
        value=eff.value("genre") or "",
        width=220,
    )
    fmt = pn.widgets.Select(
        label="Format",
        options={_NONE: ""} | {f"{label(formats(), f, lang)} ({f})": f for f in formats()},
        value=eff.value("expression_format") or "",
        width=180,
    )
    mood = pn.widgets.TextInput(label="Mood (comma-separated)", value=", ".join(eff.value("mood")))
    tags = pn.widgets.TextInput(label="Tags (comma-separated)", value=", ".join(eff.value("tags")))
    note = pn.widgets.TextAreaInput(label="Note", value=eff.value("note") or "", height=70)
    save = pn.widgets.Button(label="Save corrections", color="primary", width=160)
    shown = pn.pane.HTML(corrections_html(ctx, eff), stylesheets=[CARD_CSS], name="effective")
    status = alert("", visible=False, alert_type="success", name="edit-status")

    def on_save(_: object) -> None:
        edit = Edit(
            genre=genre.value or None,
            expression_format=fmt.value or None,
            mood=_words(mood.value or ""),
            tags=_words(tags.value or ""),
            note=note.value,
            clear=frozenset(
                k for k, v in (("genre", genre.value), ("expression_format", fmt.value)) if not v
            ),
        )
        try:
            changed = save_corrections(wh, vid, edit, ctx.user, eff.analysis_id)
        except AdrefError as exc:
            status.param.update(object=exc.one_line(), alert_type="danger", visible=True)
            return
        if changed:
            refresh_quietly(ctx.settings, [vid])  # search shows the corrected values
        shown.object = corrections_html(ctx, effective(wh, vid))
        said = f"Saved: {', '.join(changed)}." if changed else "Nothing changed."
        status.param.update(object=said, alert_type="success", visible=True)

    save.on_click(on_save)
    form = pn.Column(
        pn.Row(genre, fmt),
        mood,
        tags,
        note,
        save,
        status,
        shown,
        width=520,
    )
    return pn.Card(form, title="Edit", collapsed=True, width=560, name="edit")


def add_to_board_action(ctx: ViewerContext, view: VideoView) -> pn.viewable.Viewable:
    wh, vid = ctx.warehouse, view.video_id
    shot = pn.widgets.Select(
        label="Shot",
        options={f"{s.shot_index} · {timecode(s.start_s)}": s.shot_index for s in view.shots},
        width=150,
    )

    def board_options() -> dict[str, str]:
        return {b.name: b.id for b in mb.list_boards(wh, ctx.user)} | {"A new board…": ""}

    board = pn.widgets.Select(label="Moodboard", options=board_options(), width=220)
    new = pn.widgets.TextInput(label="New board name", placeholder="Name", width=180)
    add = pn.widgets.Button(label="Add to moodboard", color="primary", width=150)
    status = pn.pane.HTML("", name="add-status")

    def on_add(_: object) -> None:
        try:
            target = board.value or mb.create_board(wh, ctx.user, new.value or "Moodboard")
            added = mb.add_item(wh, target, ctx.user, vid, int(shot.value))
        except AdrefError as exc:
            status.object = f"<span style='color:#b00'>{escape(exc.one_line())}</span>"
            return
        if not board.value:
            board.options = board_options()
            board.value = target
        link = ctx.link("boards", id=target)
        said = "Added" if added else "Already on the board"
        status.object = f"{said}: <a href='{escape(link)}'>open the board</a>"

    add.on_click(on_add)
    hint = pn.pane.HTML(
        f"<a class='more' href='{escape(add_link(ctx, vid, 0))}'>or pick a board on the "
        "Moodboards page</a>",
        stylesheets=[CARD_CSS],
    )
    return pn.Card(
        pn.Row(shot, board, new, add, align="end"),
        status,
        hint,
        title="Add to moodboard",
        collapsed=True,
        width=760,
        name="add-to-board",
    )


def download_action(ctx: ViewerContext, view: VideoView) -> pn.viewable.Viewable:
    def make() -> io.BytesIO:
        return io.BytesIO(video_zip(ctx.warehouse, view.video_id))

    return pn.widgets.FileDownload(
        callback=make,
        filename=file_name(view.video_id),
        label="Download (zip)",
        color="default",
        width=150,
    )


def delete_action(ctx: ViewerContext, view: VideoView) -> pn.viewable.Viewable:
    ask = pn.widgets.Button(label="Delete video…", color="danger", width=140)
    title = str(view.video.get("title") or view.video_id)
    confirm = pn.widgets.Button(
        label="Yes, delete it for good", color="danger", visible=False, width=200
    )
    cancel = pn.widgets.Button(label="Cancel", visible=False, width=80)
    question = pn.pane.HTML(
        f"Delete <b>{escape(title)}</b>, its analyses, corrections, board items, keyframes, "
        "video copy and cached download?",
        visible=False,
    )
    status = pn.pane.HTML("", name="delete-status")

    def show(on: bool) -> None:
        confirm.visible = cancel.visible = question.visible = on

    def on_confirm(_: object) -> None:
        try:
            done = delete_video(ctx.settings, view.video_id)
        except AdrefError as exc:
            status.object = f"<span style='color:#b00'>{escape(exc.one_line())}</span>"
            return
        show(False)
        ask.disabled = True
        rows = sum(done.rows.values())
        status.object = (
            f"Deleted ({rows} rows, {len(done.files)} files). "
            f"<a href='{escape(ctx.link('search'))}'>Back to search</a>"
        )

    ask.on_click(lambda _e: show(True))
    cancel.on_click(lambda _e: show(False))
    confirm.on_click(on_confirm)
    return pn.Column(pn.Row(ask, question, confirm, cancel), status, name="delete")
