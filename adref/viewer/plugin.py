"""The media route for ``panel serve adref/viewer/app.py --plugins adref.viewer.plugin``.

Panel imports a plugin module and serves its ``ROUTES``; ``adref viewer`` adds the same routes
itself, so this module exists only for ``panel serve``.
"""

from __future__ import annotations

from adref.settings import get_settings
from adref.viewer.media import routes
from adref.warehouse.media_store import media_store

ROUTES = routes(media_store(get_settings()))
