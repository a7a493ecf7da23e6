"""The moodboards page (``/boards[?id=BOARD][&add=VIDEO_ID&shot=N]``).

Boards are listed for everyone; the logged-in user's can be renamed, described, reordered,
annotated and deleted (the warehouse refuses anyone else's). ``add`` and ``shot`` come from an
"Add to moodboard" link on a search hit or a video's shot: the page then offers the user's
boards (or a new one) to put it on. Auto moodboard builds a new board from a query. Exports are
downloads made when clicked.

State lives in one ``BoardsState`` per session; the page is rebuilt from the warehouse after each
change, so what is shown is what is stored.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from html import escape

import panel as pn
import param

from adref.boards.auto import auto_moodboard
from adref.boards.frames import timecode
from adref.errors import AdrefError
from adref.notion.config import notion_config
from adref.notion.push import Publisher
from adref.search.query import SearchQuery
from adref.settings import Settings
from adref.viewer.context import ViewerContext
from adref.viewer.plain import alert, markdown
from adref.viewer.style import CARD_CSS
from adref.warehouse import moodboards as mb

Act = Callable[[Callable[[], object], str], None]  # run a write, then show its outcome
BOARD_CSS = """
.item { display: flex; gap: 10px; align-items: center; }
.item img { width: 192px; aspect-ratio: 16 / 9; object-fit: cover; background: #222; }
.item .t { font-weight: 600; }
.item .tc { color: #666; font-variant-numeric: tabular-nums; }
.owner { color: #666; font-size: 12px; }
"""


def add_link(ctx: ViewerContext, video_id: str, shot_index: int) -> str:
    """Where an "Add to moodboard" link on a hit or a shot points."""
    return ctx.link("boards", add=video_id, shot=shot_index)


class BoardsState(param.Parameterized):
    board_id = param.String(default="", doc="The board shown.")
    message = param.String(default="", doc="The last action's outcome, one line.")
    failed = param.Boolean(default=False)
    version = param.Integer(default=0, bounds=(0, None), doc="Bumped after every write.")


def page(ctx: ViewerContext) -> pn.viewable.Viewable:
    state = BoardsState(board_id=ctx.param("id", "") or "")
    wh = ctx.warehouse

    def act(fn: Callable[[], object], done: str = "") -> None:
        """Run one write; its error (not being the owner, a bad name) becomes the message.

        A write that returns a board id shows that board. All changes are one update, so the
        page is rebuilt once (a button clicked meanwhile is not replaced under the pointer).
        """
        shown = state.board_id
        try:
            result = fn()
        except AdrefError as exc:
            message, failed = exc.one_line(), True
        else:
            message, failed = done, False
            shown = result if isinstance(result, str) else shown
        state.param.update(
            board_id=shown, message=message, failed=failed, version=state.version + 1
        )

    # -- create and auto moodboard ---------------------------------------------------------
    new_name = pn.widgets.TextInput(label="New board", placeholder="Name", width=220)
    create = pn.widgets.Button(label="Create", color="primary", width=90)

    def on_create(_: object) -> None:
        def make() -> str:
            return mb.create_board(wh, ctx.user, new_name.value or "")

        act(make, f"Created {(new_name.value or '').strip()!r}.")
        new_name.value = ""

    create.on_click(on_create)
    auto_query = pn.widgets.TextInput(label="Auto moodboard", placeholder="Query", width=220)
    auto_n = pn.widgets.IntInput(label="Shots", value=9, start=1, end=60, width=80)
    auto = pn.widgets.Button(label="Build", width=90)

    def on_auto(_: object) -> None:
        def make() -> str:
            query = SearchQuery(text=(auto_query.value or "").strip())
            return auto_moodboard(ctx.settings, ctx.user, query, int(auto_n.value or 9))

        act(make, "Auto moodboard built.")

    auto.on_click(on_auto)

    # -- an "Add to moodboard" link --------------------------------------------------------
    def adding() -> pn.viewable.Viewable | None:
        video_id, shot = ctx.param("add"), ctx.param("shot")
        if not video_id or shot is None or not shot.isdigit():
            return None
        mine = mb.list_boards(wh, ctx.user)
        target = pn.widgets.Select(
            label=f"Add shot {shot} of {video_id} to",
            options={b.name: b.id for b in mine} | {"A new board…": ""},
            width=280,
        )
        named = pn.widgets.TextInput(label="New board name", value="", width=220)
        go = pn.widgets.Button(label="Add to moodboard", color="primary", width=160)

        def on_add(_: object) -> None:
            def put() -> str:
                board = target.value or mb.create_board(
                    wh, ctx.user, named.value or f"Board {len(mine) + 1}"
                )
                mb.add_item(wh, board, ctx.user, video_id, int(shot))
                return board

            act(put, f"Added shot {shot} of {video_id}.")

        go.on_click(on_add)
        return pn.Row(target, named, go, name="add")

    add_row = adding()

    # -- the list --------------------------------------------------------------------------
    @pn.depends(state.param.version, state.param.board_id)
    def listing(_version: int, board_id: str) -> pn.viewable.Viewable:
        boards = mb.list_boards(wh)
        if not boards:
            return markdown("No boards yet.")
        rows = []
        for b in boards:
            mine = "yours" if b.owner == ctx.user else f"by {escape(b.owner)}"
            current = "**" if b.id == board_id else ""
            open_ = pn.widgets.Button(label=f"{b.name} ({b.item_count})", color="light", width=260)
            open_.on_click(_opener(state, b.id))
            rows.append(pn.Row(open_, markdown(f"{current}{mine}{current}")))
        return pn.Column(*rows)

    # -- one board ---------------------------------------------------------------------------
    @pn.depends(state.param.version, state.param.board_id)
    def board(_version: int, board_id: str) -> pn.viewable.Viewable:
        if not board_id:
            return markdown("Pick a board, or create one.")
        try:
            view = mb.read_board(wh, board_id)
        except AdrefError as exc:
            return alert(exc.one_line(), alert_type="warning")
        return board_panel(ctx, view, act)

    @pn.depends(state.param.message, state.param.failed)
    def status(message: str, failed: bool) -> pn.viewable.Viewable:
        if not message:
            return pn.Spacer(height=0)
        return alert(message, alert_type="danger" if failed else "success", name="status")

    return pn.Column(
        *([add_row] if add_row is not None else []),
        status,
        pn.Row(
            pn.Column(
                markdown("### Moodboards"),
                pn.Row(new_name, create, align="end"),
                pn.Row(auto_query, auto_n, auto, align="end"),
                listing,
                width=420,
            ),
            pn.Column(board, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        ),
        sizing_mode="stretch_width",
        name="boards",
    )


def _opener(state: BoardsState, board_id: str) -> Callable[[object], None]:
    def open_board(_: object) -> None:
        state.board_id = board_id

    return open_board


def board_panel(ctx: ViewerContext, view: mb.BoardView, act: Act) -> pn.viewable.Viewable:
    """A board's header, exports and items; the editing controls only for its owner."""
    # lazy: the exporters (fpdf2, Pillow) cost ~1.7 s to import; pages that never export skip it
    from adref.boards.export import board_html, board_pdf, board_png

    wh, b = ctx.warehouse, view.board
    owner = b.owner == ctx.user
    safe = "".join(c if c.isalnum() else "-" for c in b.name).strip("-")[:60] or "moodboard"

    def exporter(kind: str) -> pn.widgets.FileDownload:
        def make() -> io.BytesIO:
            fresh = mb.read_board(wh, b.id)
            if kind == "png":
                return io.BytesIO(board_png(fresh, wh.media))
            if kind == "pdf":
                return io.BytesIO(board_pdf(fresh, wh.media))
            return io.BytesIO(board_html(fresh, wh.media).encode("utf-8"))

        return pn.widgets.FileDownload(
            callback=make,
            filename=f"{safe}.{kind}",
            label=f"Export {kind.upper()}",
            color="default",
            width=130,
        )

    head = pn.pane.HTML(
        f"<h2>{escape(b.name)}</h2><div class='owner'>{escape(b.description)}</div>"
        f"<div class='owner'>by {escape(b.owner)} · {len(view.items)} shots</div>",
        stylesheets=[CARD_CSS, BOARD_CSS],
        sizing_mode="stretch_width",
    )
    actions: list[pn.viewable.Viewable] = [exporter(k) for k in ("png", "pdf", "html")]
    if notion_ready(ctx.settings):
        actions.append(_notion_button(ctx, b, act))
    parts: list[pn.viewable.Viewable] = [head, pn.Row(*actions)]
    if owner:
        parts.append(_edit_board(ctx, b, act))
    for item in view.items:
        parts.append(_item_row(ctx, view, item, owner, act))
    if not view.items:
        parts.append(markdown("No shots yet: add them from search results or a video."))
    return pn.Column(*parts, sizing_mode="stretch_width")


def notion_ready(settings: Settings) -> bool:
    """The button shows only when Notion is configured: a database id and a token."""
    return notion_config(settings) is not None


def _notion_button(ctx: ViewerContext, b: mb.Board, act: Act) -> pn.widgets.Button:
    button = pn.widgets.Button(label="Publish to Notion", width=150)

    def publish() -> None:
        with Publisher(ctx.settings) as publisher:
            publisher.board(b.id)

    button.on_click(lambda _e: act(publish, "Published to Notion."))
    return button


def _edit_board(ctx: ViewerContext, b: mb.Board, act: Act) -> pn.viewable.Viewable:
    wh = ctx.warehouse
    name = pn.widgets.TextInput(label="Name", value=b.name, width=260)
    desc = pn.widgets.TextAreaInput(label="Description", value=b.description, width=360, height=60)
    save = pn.widgets.Button(label="Save", width=80)
    save.on_click(
        lambda _e: act(
            lambda: mb.update_board(wh, b.id, ctx.user, name=name.value, description=desc.value),
            "Saved.",
        )
    )
    delete = pn.widgets.Button(label="Delete board…", color="danger", width=130)
    confirm = pn.widgets.Button(
        label=f"Yes, delete {b.name!r}", color="danger", visible=False, width=220
    )
    cancel = pn.widgets.Button(label="Cancel", visible=False, width=80)

    def ask(_: object) -> None:
        confirm.visible = cancel.visible = True

    def no(_: object) -> None:
        confirm.visible = cancel.visible = False

    delete.on_click(ask)
    cancel.on_click(no)

    def drop() -> str:
        mb.delete_board(wh, b.id, ctx.user)
        return ""  # show no board

    confirm.on_click(lambda _e: act(drop, "Deleted."))
    return pn.Column(pn.Row(name, desc, save, align="end"), pn.Row(delete, confirm, cancel))


def _item_row(
    ctx: ViewerContext, view: mb.BoardView, item: mb.Item, owner: bool, act: Act
) -> pn.viewable.Viewable:
    wh, bid = ctx.warehouse, view.board.id
    img = ctx.media_url(item.keyframe_path) or ""
    link = ctx.link("video", id=item.video_id, t=f"{item.start_s or 0:.3f}")
    html = pn.pane.HTML(
        f'<div class="item"><a href="{escape(link)}"><img src="{escape(img)}" alt=""></a>'
        f'<div><div class="t">{escape(item.title or item.video_id)}</div>'
        f'<div class="tc">shot {item.shot_index} · {timecode(item.start_s)}</div>'
        + ("" if owner else f"<div>{escape(item.note)}</div>")
        + "</div></div>",
        stylesheets=[CARD_CSS, BOARD_CSS],
        width=460,
    )
    if not owner:
        return pn.Row(html)
    vid, shot = item.video_id, item.shot_index
    note = pn.widgets.TextInput(label="Note", value=item.note, width=260)
    save = pn.widgets.Button(label="Save note", width=90)
    save.on_click(
        lambda _e: act(
            lambda: mb.set_note(wh, bid, ctx.user, vid, shot, note.value or ""), "Saved."
        )
    )
    up = pn.widgets.Button(label="↑", width=40, disabled=item.position == 0)
    down = pn.widgets.Button(label="↓", width=40, disabled=item.position == len(view.items) - 1)
    remove = pn.widgets.Button(label="Remove", width=80)

    def move(by: int) -> None:
        act(lambda: mb.move_item(wh, bid, ctx.user, vid, shot, item.position + by), "")

    up.on_click(lambda _e: move(-1))
    down.on_click(lambda _e: move(1))
    remove.on_click(
        lambda _e: act(lambda: mb.remove_item(wh, bid, ctx.user, vid, shot), "Removed.")
    )
    return pn.Row(html, pn.Column(pn.Row(note, save, align="end"), pn.Row(up, down, remove)))
