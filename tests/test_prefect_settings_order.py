"""Prefect reads its settings once, when it is first imported: adref's CLI must set them first.

Every command calls ``prefect_env.configure`` before it runs a flow. If loading the CLI had already
imported Prefect (a module importing ``prefect.filesystems`` at its top did), Prefect keeps the
settings it found then: results go to ``~/.prefect/storage`` instead of ADREF_HOME's, and a run in
another process (a worker's) misses every stage the command cached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHECK = """
import json, sys
import adref.cli
loaded = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
from adref import prefect_env
from adref.settings import get_settings
settings = get_settings()
prefect_env.configure(settings)
from prefect.settings import get_current_settings
print(json.dumps({
    "loaded": loaded,
    "storage": str(get_current_settings().results.local_storage_path),
    "wanted": str(settings.prefect_home / "storage"),
}))
"""


def test_loading_the_cli_leaves_prefect_unimported_so_its_settings_are_adrefs(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    env |= {"ADREF_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == [], "the CLI imported Prefect before configuring it"
    assert seen["storage"] == seen["wanted"]
    assert seen["wanted"].startswith(str(tmp_path / "home"))
