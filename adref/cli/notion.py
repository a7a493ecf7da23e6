"""``adref notion setup`` and ``adref notion push``: the Notion database's properties, and pages
published (or brought up to date) from the warehouse."""

from __future__ import annotations

import logging
import os
import traceback
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from adref import prefect_env
from adref.cli.app import app, console, err_console, fail, state
from adref.cli.many import one_line
from adref.cli.plain import escape
from adref.settings import Settings, get_settings

if TYPE_CHECKING:
    # lazy: for the annotation only; the SDK is imported when a Notion command runs
    from adref.notion.push import Publisher

notion_app = typer.Typer(
    help="Publish analyses and moodboards to a Notion database.", no_args_is_help=True
)
app.add_typer(notion_app, name="notion")

log = logging.getLogger(__name__)


def _publisher(settings: Settings) -> Publisher:
    # lazy: the SDK and its HTTP client only for these commands
    from adref.notion.config import require_config
    from adref.notion.push import Publisher

    if settings.notion_api_key is None and "PREFECT_API_URL" not in os.environ:
        prefect_env.configure(settings)  # the token may be a Secret block on `adref up`'s server
    return Publisher(settings, require_config(settings))


@notion_app.command()
def setup() -> None:
    """Check the Notion database and add the properties adref writes (with the right types)."""
    # lazy: as above
    from adref.notion.setup import PROPERTIES

    with _publisher(get_settings()) as publisher:
        schema = publisher.schema
    table = Table(title="Notion database properties", title_justify="left", header_style="bold")
    for name in ("property", "type", "state"):
        table.add_column(name)
    table.add_row(escape(schema.title_property), "title", "ok (the title)")
    for name, kind in PROPERTIES.items():
        if name in schema.mismatched:
            said = f"[yellow]is {escape(schema.mismatched[name])}: left alone, not written[/]"
        else:
            said = "[green]added[/]" if name in schema.added else "ok"
        table.add_row(escape(name), escape(kind), said)
    console.print(table)


@notion_app.command()
def push(
    video_ids: list[str] | None = typer.Argument(
        None, help="Videos to publish.", show_default=False
    ),
    all_videos: bool = typer.Option(False, "--all", help="Every stored video."),
    since: str = typer.Option(
        None, "--since", help="Videos first ingested on or after YYYY-MM-DD (UTC)."
    ),
    moodboard: list[str] = typer.Option(
        [], "--moodboard", help="A moodboard's id (repeatable), as in the viewer's address."
    ),
) -> None:
    """Publish videos or moodboards to Notion: a new page the first time, the same page updated
    after (a page deleted or archived in Notion is made again)."""
    # lazy: as above, and DuckDB for what is published
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.reanalysis import require_stored, select_videos

    settings = get_settings()
    wh = Warehouse.of(settings)
    chosen = list(video_ids or [])
    if not (chosen or all_videos or since or moodboard):
        raise fail("nothing selected: give VIDEO_ID(s), --all, --since DATE or --moodboard ID")
    if chosen:
        require_stored(wh, chosen)
    if all_videos or since:
        chosen += select_videos(wh, since=since) if wh.exists() else []
    chosen = list(dict.fromkeys(chosen))
    failed = 0
    with _publisher(settings) as publisher:
        jobs = [("video", v) for v in chosen] + [("moodboard", b) for b in moodboard]
        for kind, item in jobs:
            try:
                pushed = publisher.video(item) if kind == "video" else publisher.board(item)
            except Exception as exc:  # one item that fails, however, must not stop the others
                failed += 1
                log.debug("pushing %s %s failed", kind, item, exc_info=True)
                if state.debug:
                    traceback.print_exc()
                err_console.print(
                    f"[red]failed[/] {kind} {escape(item)}: {escape(one_line(exc))}",
                    highlight=False,
                    soft_wrap=True,
                )
                continue
            done = "created" if pushed.created else "updated"
            where = pushed.url or pushed.page_id
            console.print(f"{done} {kind} {escape(item)}: {escape(where)}", highlight=False)
    if not jobs:
        err_console.print("no stored video matches the selection: nothing to do")
    if failed:
        raise typer.Exit(1)
