"""The moodboards page and the video page's actions as Panel objects (no browser)."""

from __future__ import annotations

from typing import Any

import panel as pn
import pytest

from adref.settings import Settings
from adref.viewer import boards as page
from adref.viewer import video_actions
from adref.viewer.context import ViewerContext
from adref.warehouse import moodboards as mb
from adref.warehouse.catalog import Warehouse
from adref.warehouse.corrections import effective
from adref.warehouse.detail import video_view
from tests.board_library import build_library


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("pages")
    s = Settings(home=root / "home", warehouse_dir=root / "wh", output_language="en")
    build_library(s.warehouse)
    return s


def ctx_for(settings: Settings, user: str, **params: str) -> ViewerContext:
    return ViewerContext(settings, Warehouse(settings.warehouse), user, params)


def button(view: Any, name: str) -> pn.widgets.Button:
    found = [b for b in view.select(pn.widgets.Button) if b.label == name]
    assert found, f"no button {name!r}"
    return found[0]


def texts(view: Any) -> str:
    panes = [
        *view.select(pn.pane.HTML),
        *view.select(pn.pane.Markdown),
        *view.select(pn.pane.Alert),
    ]
    return "\n".join(str(p.object) for p in panes)


def test_auto_moodboard_from_the_page_and_only_the_owner_gets_controls(
    settings: Settings,
) -> None:
    mina = page.page(ctx_for(settings, "mina"))
    query = next(w for w in mina.select(pn.widgets.TextInput) if w.label == "Auto moodboard")
    query.value = "city"
    button(mina, "Build").clicks += 1
    (board,) = mb.list_boards(Warehouse(settings.warehouse), "mina")
    assert board.name == "Auto: city" and board.item_count >= 1
    assert "Auto moodboard built." in texts(mina)
    assert {"Save", "Delete board…", "Remove"} <= {b.label for b in mina.select(pn.widgets.Button)}

    jin = page.page(ctx_for(settings, "jin", id=board.id))
    assert "Auto: city" in texts(jin)
    names = {b.label for b in jin.select(pn.widgets.Button)}
    assert not names & {"Save", "Delete board…", "Remove", "↑", "↓"}, "others only look"
    assert {"Export PNG", "Export PDF", "Export HTML"} <= {
        d.label for d in jin.select(pn.widgets.FileDownload)
    }


def test_an_add_link_offers_a_new_board_and_a_bad_one_offers_nothing(settings: Settings) -> None:
    view = page.page(ctx_for(settings, "sora", add="youtube:sea", shot="2"))
    button(view, "Add to moodboard").clicks += 1
    (board,) = mb.list_boards(Warehouse(settings.warehouse), "sora")
    assert [
        (i.video_id, i.shot_index)
        for i in mb.read_board(Warehouse(settings.warehouse), board.id).items
    ] == [("youtube:sea", 2)]
    odd = page.page(ctx_for(settings, "sora", add="youtube:sea", shot="../1"))
    assert "Add to moodboard" not in {b.label for b in odd.select(pn.widgets.Button)}
    assert (
        page.add_link(ctx_for(settings, "sora"), "sha256:a/b", 3)
        == "/boards?add=sha256%3Aa%2Fb&shot=3"
    )


def test_the_edit_form_saves_corrections_and_marks_them(settings: Settings) -> None:
    ctx = ctx_for(settings, "mina")
    view = video_view(ctx.warehouse, "vimeo:city")
    assert view is not None
    card = video_actions.edit_action(ctx, view)
    genre = next(w for w in card.select(pn.widgets.Select) if w.label == "Genre")
    tags = next(w for w in card.select(pn.widgets.TextInput) if w.label.startswith("Tags"))
    genre.value = "music_video"
    tags.value = "night, 도시, night"
    button(card, "Save corrections").clicks += 1
    eff = effective(ctx.warehouse, "vimeo:city")
    assert eff.value("genre") == "music_video" and eff.value("tags") == ["night", "도시"]
    shown = texts(card)
    assert "Saved: genre, tags." in shown and "corrected by mina" in shown
    assert "model: TV commercial (tvc)" in shown

    note = next(w for w in card.select(pn.widgets.TextAreaInput))
    note.value = "x" * 3000
    button(card, "Save corrections").clicks += 1
    assert "note too long" in texts(card)


def test_delete_asks_first_then_removes_the_video(settings: Settings) -> None:
    ctx = ctx_for(settings, "mina")
    view = video_view(ctx.warehouse, "vimeo:city")
    assert view is not None
    panel = video_actions.delete_action(ctx, view)
    confirm = button(panel, "Yes, delete it for good")
    assert not confirm.visible
    button(panel, "Delete video…").clicks += 1
    assert confirm.visible
    confirm.clicks += 1
    assert video_view(ctx.warehouse, "vimeo:city") is None
    assert "Deleted (" in texts(panel)
