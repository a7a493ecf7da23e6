"""``adref worker`` refuses to start, in one line, where Prefect's worker would only log retries:
no server address, a server that does not answer, a server without adref's pool.

That it runs flows on another "machine" is tested with real workers in test_scale_workers.py.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.support.cli import invoke
from tests.support.http import unused_port


class _NoPool(BaseHTTPRequestHandler):
    """A Prefect API without adref's pool; it keeps what each request asked and sent."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        body = b'{"detail":"Work pool not found."}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def no_pool() -> Iterator[str]:
    _NoPool.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoPool)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def _line(stderr: str) -> str:
    (line,) = [part for part in stderr.splitlines() if part.strip()]
    return line


def test_without_a_server_address_it_says_which_setting_names_it() -> None:
    done = invoke(["worker"], alone=True)
    assert done.exit_code == 2
    assert "set PREFECT_API_URL" in _line(done.stderr)


def test_a_server_that_does_not_answer_is_one_line() -> None:
    url = f"http://127.0.0.1:{unused_port()}/api"
    done = invoke(["worker"], {"PREFECT_API_URL": url}, alone=True)
    assert done.exit_code == 2
    assert f"the Prefect server at {url} does not answer" in _line(done.stderr)


def test_a_server_without_the_pool_says_to_deploy_first_with_the_credentials_prefect_sends(
    no_pool: str,
) -> None:
    secret = "user:pass-for-the-test"
    env = {"PREFECT_API_URL": no_pool, "PREFECT_API_AUTH_STRING": secret, "ADREF_WORK_POOL": "ads"}
    done = invoke(["worker", "--name", "m1"], env, alone=True)
    assert done.exit_code == 2
    line = _line(done.stderr)
    assert "has no work pool 'ads'" in line and "adref deploy" in line
    assert secret not in done.output
    assert _NoPool.seen == [
        ("/api/work_pools/ads", "Basic " + base64.b64encode(secret.encode()).decode())
    ]
