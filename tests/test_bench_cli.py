"""``adref bench cli``'s parts that need no server: it stops what the commands left running."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from adref.bench.cli import _env, stop_background


def test_what_the_state_file_names_is_stopped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        (home / "up.json").write_text(
            json.dumps({"api_url": "http://127.0.0.1:9/api", "pid": left.pid})
        )
        how = stop_background(home, _env(home))
        assert left.wait(timeout=60) != 0, how  # ended by a signal, not by itself
    finally:
        left.kill()
        left.wait()
