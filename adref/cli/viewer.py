"""``adref viewer``: serve the Panel viewer (search, video pages) until Ctrl-C."""

from __future__ import annotations

import typer
from rich.text import Text

from adref.cli.app import app, console, fail
from adref.cli.plain import link
from adref.errors import AdrefError
from adref.settings import get_settings


@app.command()
def viewer(
    port: int = typer.Option(
        None, "--port", min=1, max=65535, help="Default: ADREF_VIEWER_PORT (5006)."
    ),
    address: str = typer.Option(
        None, "--address", help="Default: ADREF_VIEWER_ADDRESS (127.0.0.1); beyond it, a login."
    ),
) -> None:
    """Serve the viewer: search the library, open videos and their analyses."""
    from adref.viewer import serve  # lazy: Panel; keeps `adref --help` fast

    settings = get_settings()
    try:
        served = serve.plan(settings, port, address)
        serve.check_free(served.address, served.port)
    except AdrefError as exc:
        raise fail(exc.one_line()) from None
    login = {"none": "no login (loopback)", "basic": "basic auth", "oauth": "OAuth"}[served.auth]
    console.print(
        Text.assemble(
            "adref viewer on ",
            link(served.url),
            f" ({login}); warehouse {settings.warehouse}. Ctrl-C stops it.",
        ),
        highlight=False,
    )
    try:
        serve.run(settings, served)
    except KeyboardInterrupt:
        console.print("stopped")
