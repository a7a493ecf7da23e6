"""The viewer: a Panel app of pages, one fresh page per browser session.

Adding a page is one step: write ``adref/viewer/<name>.py`` with a function
``page(ctx: ViewerContext) -> pn.viewable.Viewable`` that builds everything it shows (widgets,
state) inside the call, never at module level, and register it in ``PAGES`` below::

    PAGES["boards"] = Page("Moodboards", boards.page)

It is then served at ``/boards`` (``ctx.link("boards", id=...)`` makes links to it), listed in
the header when ``menu`` is true, and given a ``ViewerContext``: the settings, the warehouse
(open it read-only per request: ``ctx.warehouse.connect(read_only=True)``), the logged-in user
and the query string. A page that needs a warehouse gets a one-line notice instead when there is
none yet.

Served by ``adref viewer`` (``adref.viewer.serve``), or by Panel's own command, where the app is
one route and pages are chosen with ``?page=``::

    panel serve adref/viewer/app.py --plugins adref.viewer.plugin
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import panel as pn

from adref.errors import AdrefError
from adref.settings import get_settings
from adref.viewer import analyze, boards, reanalyse, search, stats, video, video_actions
from adref.viewer.context import ViewerContext
from adref.viewer.plain import alert
from adref.viewer.style import SHELL_CSS
from adref.warehouse.catalog import Warehouse

PageFn = Callable[[ViewerContext], pn.viewable.Viewable]


@dataclass(frozen=True)
class Page:
    title: str
    build: PageFn
    menu: bool = True  # listed in the header
    needs_warehouse: bool = True  # else built before the first video is stored (Analyze)


PAGES: dict[str, Page] = {
    "search": Page("Search", search.page),
    "video": Page("Video", video.page, menu=False),
    "boards": Page("Moodboards", boards.page),
    "analyze": Page("Analyze", analyze.page, needs_warehouse=False),
    "stats": Page("Stats", stats.page),
}
video.ACTIONS.extend(
    [
        video_actions.edit_action,
        reanalyse.action,
        video_actions.add_to_board_action,
        video_actions.download_action,
        video_actions.delete_action,
    ]
)
HOME = "search"


def session_context(app_path: str | None = None) -> ViewerContext:
    """The context of the session being built (call it inside a session, not at import)."""
    args = pn.state.session_args or {}
    params = {k: v[0].decode("utf-8", "replace") for k, v in args.items() if v}
    settings = get_settings()
    prefix = (pn.state.base_url or "/").rstrip("/")
    return ViewerContext(
        settings=settings,
        warehouse=Warehouse.of(settings),
        user=pn.state.user or _os_user(),
        params=params,
        prefix=prefix,
        app_path=app_path,
    )


def render(name: str, ctx: ViewerContext) -> pn.viewable.Viewable:
    """One page inside the shell: the header with the menu, then the page (or what went wrong)."""
    page = PAGES.get(name)
    try:
        if page is None:
            body: pn.viewable.Viewable = alert(f"No page called {name!r}.")
        elif page.needs_warehouse and not ctx.warehouse.exists():
            body = alert(
                f"No warehouse at {ctx.warehouse.root} yet: analyse a video first "
                "(`adref analyze FILE_OR_URL`), then reload.",
                alert_type="info",
            )
        else:
            body = page.build(ctx)
    except AdrefError as exc:
        body = alert(exc.one_line(), alert_type="danger")
    return pn.Column(header(ctx, name), body, sizing_mode="stretch_width", stylesheets=[SHELL_CSS])


def header(ctx: ViewerContext, current: str) -> pn.viewable.Viewable:
    links = " ".join(
        f'<a class="nav{" current" if key == current else ""}" href="{ctx.link(key)}">{p.title}</a>'
        for key, p in PAGES.items()
        if p.menu
    )
    user = f'<span class="user">{escape(ctx.user)}</span>'
    return pn.pane.HTML(
        f'<nav class="adref-nav"><b class="brand">adref</b> {links} {user}</nav>',
        sizing_mode="stretch_width",
        stylesheets=[SHELL_CSS],
    )


def session(name: str) -> Callable[[], pn.viewable.Viewable]:
    """The function Panel calls once per session of a page (a plain function: Panel serves a
    ``functools.partial`` as an object, not as a page builder)."""

    def build() -> pn.viewable.Viewable:
        return render(name, session_context())

    build.__name__ = f"adref_{name}"
    return build


def applications() -> dict[str, Callable[[], pn.viewable.Viewable]]:
    """Route name -> a function Panel calls once per session (``pn.serve``'s dict)."""
    return {name: session(name) for name in PAGES}


def _dispatch() -> pn.viewable.Viewable:
    """Under ``panel serve app.py``: one route, the page named by ``?page=``."""
    ctx = session_context(app_path=pn.state.app_url or "/app")
    return render(ctx.param("page", HOME) or HOME, ctx)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


if pn.state.served:  # run by `panel serve`: build this session's page
    _dispatch().servable(title="adref")
