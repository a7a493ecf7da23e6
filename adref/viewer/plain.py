"""Alerts and notes that may quote anyone's words, shown as the words they are.

Panel's Alert and Markdown panes render markdown-it's GFM-like Markdown: a message quoting a
link's parameter, an error, a board's owner or a model's answer could carry a link (a phishing
"sign in again"), an image (fetched by every reader: a tracker) or a bare address made a link.
These panes keep emphasis and code spans, and show links, images, autolinks and raw HTML as
text, through the parser's public plugin hook.
"""

from __future__ import annotations

from typing import Any

import panel as pn
from markdown_it import MarkdownIt

_ACTIVE = ["link", "image", "autolink", "linkify", "html_inline", "html_block"]


def inert(md: MarkdownIt) -> None:
    """A markdown-it plugin: no rule that makes a link, loads an image or passes HTML on."""
    md.disable(_ACTIVE, ignoreInvalid=True)
    md.options["linkify"] = False
    md.options["html"] = False


def alert(text: str, alert_type: str = "primary", **params: Any) -> pn.pane.Alert:
    return pn.pane.Alert(text, alert_type=alert_type, plugins=[inert], **params)


def markdown(text: str, **params: Any) -> pn.pane.Markdown:
    return pn.pane.Markdown(text, plugins=[inert], **params)
