"""Words from outside adref (paths, addresses, titles, error messages) printed as they are.

Every string the CLI prints is Rich markup, so a video titled ``Sale [/b]`` crashed the print
and the ``[fd00::2]`` of an address vanished as a style tag. Each such value goes through
``escape`` inside our own markup; an address to click goes through ``link``.
"""

from __future__ import annotations

from rich.markup import escape
from rich.style import Style
from rich.text import Text

__all__ = ["escape", "link"]


def link(url: str) -> Text:
    """A clickable address shown as it is: ``[link=URL]`` markup ends at the first ``]`` and
    breaks on a space (an IPv6 host such as ``http://[::1]:4200``), a style holds any URL."""
    return Text(url, style=Style(link=url))
