"""Serving the viewer: where it listens, who may open it, and the Tornado routes beside the pages.

Bound to a loopback address it needs no login (the machine's own user). Bound anywhere else it
refuses to start unless a login is configured: Panel's basic auth (one password, or a JSON file
of users and passwords) or one of Panel's OAuth providers, passed through as they are. Either
way ``pn.state.user`` names the person, and pages get it as ``ctx.user``.
"""

from __future__ import annotations

import errno
import ipaddress
import secrets
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tornado.web import RedirectHandler

from adref.errors import InputError
from adref.settings import Settings
from adref.viewer import media
from adref.warehouse.media_store import media_store


@dataclass(frozen=True)
class ServePlan:
    address: str
    port: int
    auth: str  # "none", "basic" or "oauth"
    origins: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict, repr=False)  # auth options for pn.serve

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.address in ("0.0.0.0", "::", "") else self.address
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def auth_options(settings: Settings) -> tuple[str, dict[str, Any]]:
    """Panel's keyword arguments for the login configured in settings, and its kind."""
    cookie = settings.viewer_cookie_secret
    options: dict[str, Any] = {
        "cookie_secret": cookie.get_secret_value() if cookie else secrets.token_urlsafe(32)
    }
    if settings.viewer_oauth_provider:
        secret = settings.viewer_oauth_secret
        options |= {
            "oauth_provider": settings.viewer_oauth_provider,
            "oauth_key": settings.viewer_oauth_key,
            "oauth_secret": secret.get_secret_value() if secret else None,
            "oauth_redirect_uri": settings.viewer_oauth_redirect_uri,
            "oauth_extra_params": settings.viewer_oauth_extra_params,
        }
        return "oauth", options
    if settings.viewer_users_file is not None:
        users = settings.viewer_users_file.expanduser()
        if not users.is_file():
            raise InputError(
                f"no viewer users file at {users}",
                hint='write JSON like {"mina": "a long password"} or unset ADREF_VIEWER_USERS_FILE',
            )
        return "basic", options | {"basic_auth": str(users.resolve())}
    if settings.viewer_password is not None:
        return "basic", options | {"basic_auth": settings.viewer_password.get_secret_value()}
    return "none", {}


def plan(settings: Settings, port: int | None = None, address: str | None = None) -> ServePlan:
    """Where and how to serve, or a one-line refusal (an open viewer on the network)."""
    address = address or settings.viewer_address
    port = settings.viewer_port if port is None else port
    auth, options = auth_options(settings)
    if auth == "none" and not is_loopback(address):
        raise InputError(
            f"refusing to serve the viewer on {address} without a login",
            hint="set ADREF_VIEWER_PASSWORD (or ADREF_VIEWER_USERS_FILE, or "
            "ADREF_VIEWER_OAUTH_PROVIDER), or bind to 127.0.0.1",
        )
    origins = [f"127.0.0.1:{port}", f"localhost:{port}", f"{address}:{port}"]
    if netloc := urlsplit(settings.viewer_url).netloc:
        origins.append(netloc)
    origins += settings.viewer_origins
    return ServePlan(address, port, auth, tuple(dict.fromkeys(origins)), options)


def check_free(address: str, port: int) -> None:
    """Refuse, in one line, an address this machine does not have or a port something holds,
    before the viewer says where it serves (the server finds out only once it starts)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Tornado binds
            probe.bind((address, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InputError(
                f"port {port} on {address} is in use",
                hint="stop what holds it (another adref viewer?) or pick another port "
                "(--port, ADREF_VIEWER_PORT)",
            ) from None
        raise InputError(
            f"cannot serve on {address}:{port}", why=exc.strerror or str(exc)
        ) from None


def run(settings: Settings, serve_plan: ServePlan) -> None:
    """Serve until interrupted (blocks)."""
    # lazy: Panel and the pages load only to serve, not for plan()'s checks before it
    import panel as pn

    from adref.viewer.app import HOME, applications

    pn.serve(
        applications(),
        port=serve_plan.port,
        address=serve_plan.address,
        websocket_origin=list(serve_plan.origins),
        show=False,
        title="adref",
        # The pages read their query themselves; Panel's URL sync would parse it again, and
        # its parser fails on a digit that is not 0-9 ("?q=²": a 500 for any page).
        location=False,
        extra_patterns=[
            *media.routes(media_store(settings)),
            (r"/", RedirectHandler, {"url": HOME}),
        ],
        **serve_plan.options,
    )
