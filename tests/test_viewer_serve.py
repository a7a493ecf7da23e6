"""Where and how the viewer is served: logins beyond loopback, Panel's auth options, origins."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from adref.errors import InputError
from adref.settings import Settings
from adref.viewer.serve import check_free, is_loopback, plan
from tests.support.cli import invoke


def test_loopback_needs_no_login_and_anything_else_does() -> None:
    assert all(is_loopback(a) for a in ("127.0.0.1", "127.3.4.5", "::1", "localhost"))
    assert not any(is_loopback(a) for a in ("0.0.0.0", "::", "192.168.1.5", "example.com", ""))
    served = plan(Settings(), port=5999)
    assert (served.auth, served.url, served.options) == ("none", "http://127.0.0.1:5999", {})
    with pytest.raises(InputError, match=r"refusing to serve the viewer on 0\.0\.0\.0"):
        plan(Settings(), address="0.0.0.0")


def test_basic_auth_by_password_or_users_file(tmp_path: Path) -> None:
    by_password = plan(
        Settings(viewer_password="pw", viewer_cookie_secret="c" * 32),  # type: ignore[arg-type]
        address="0.0.0.0",
    )
    assert by_password.auth == "basic" and by_password.options["basic_auth"] == "pw"
    assert by_password.options["cookie_secret"] == "c" * 32
    assert by_password.url == "http://127.0.0.1:5006"

    users = tmp_path / "users.json"
    users.write_text(json.dumps({"mina": "pw1"}))
    by_file = plan(Settings(viewer_users_file=users, viewer_password="pw"), address="10.0.0.2")  # type: ignore[arg-type]
    assert by_file.options["basic_auth"] == str(users)
    assert len(by_file.options["cookie_secret"]) >= 32, "a random secret when none is set"
    with pytest.raises(InputError, match="no viewer users file"):
        plan(Settings(viewer_users_file=tmp_path / "missing.json"), address="0.0.0.0")


def test_oauth_options_pass_through_to_panel_and_origins_follow_the_viewer_url() -> None:
    settings = Settings(
        viewer_oauth_provider="github",
        viewer_oauth_key="id",
        viewer_oauth_secret="secret",  # type: ignore[arg-type]
        viewer_oauth_extra_params={"tenant": "t"},
        viewer_url="https://adref.example.com",
        viewer_origins=["adref.internal:8080"],
    )
    served = plan(settings, address="0.0.0.0", port=8080)
    assert served.auth == "oauth"
    assert {k: served.options[k] for k in ("oauth_provider", "oauth_key", "oauth_secret")} == {
        "oauth_provider": "github",
        "oauth_key": "id",
        "oauth_secret": "secret",
    }
    assert served.options["oauth_extra_params"] == {"tenant": "t"}
    assert "adref.example.com" in served.origins and "adref.internal:8080" in served.origins
    assert "127.0.0.1:8080" in served.origins


def test_a_port_something_holds_or_an_address_not_here_is_refused_before_serving() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(InputError, match=rf"port {port} on 127\.0\.0\.1 is in use"):
            check_free("127.0.0.1", port)
    check_free("127.0.0.1", port)  # free again
    with pytest.raises(InputError, match=r"cannot serve on 192\.0\.2\.7:"):
        check_free("192.0.2.7", port)  # TEST-NET-1: no machine has it


@pytest.mark.parametrize("port", ["0", "-1", "70000"])
def test_a_port_out_of_range_is_refused_by_the_command(port: str) -> None:
    done = invoke(["viewer", "--port", port], {})
    assert done.exit_code == 2 and "Invalid value for '--port'" in done.output, done.output
    assert "adref viewer on" not in done.output


@pytest.mark.parametrize("port", ["0", "99999"])
def test_up_refuses_a_port_out_of_range_too(port: str) -> None:
    done = invoke(["up", "--port", port], {})
    assert done.exit_code == 2 and "Invalid value for '--port'" in done.output, done.output
