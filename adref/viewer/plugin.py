"""The media route for ``panel serve adref/viewer/app.py --plugins adref.viewer.plugin``.

Panel imports a plugin module and serves its ``ROUTES``; ``adref viewer`` adds the same routes
itself, so this module exists only for ``panel serve``.
"""

from __future__ import annotations

from adref.settings import get_settings
from adref.viewer.media import routes

ROUTES = routes(get_settings().warehouse / "media")
