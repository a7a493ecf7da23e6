"""The layers hold: import-linter's contracts (pyproject.toml), and no import hides in a function
without saying why (start-up time, or Prefect's settings), since hiding one is how cycles and
upward imports crept in before. And importing a flow loads none of the stages' heavy libraries:
a worker imports the flow's module before each run it starts; nor does starting the CLI, which
every command (`adref --help` too) pays before it does anything."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
FLOWS = ("analyze_video", "reanalyze", "ingest", "compact")
# Imported by the stages that use them, when they run: each costs tens of milliseconds or more.
HEAVY = (
    *("cv2", "numpy", "scipy", "av", "scenedetect", "PIL", "tesserocr"),
    *("duckdb", "pyarrow", "pandas", "notion_client", "yt_dlp"),
    *("openai", "anthropic", "google.genai", "faster_whisper", "ctranslate2"),
)
# Nor does the CLI's start, as the `adref` script loads it, load what only some commands use:
# Prefect (~0.7 s, and it must be configured before its import), the viewer's Panel and Bokeh,
# httpx (the commands that ask a server), PyYAML (a watch list).
CLI_HEAVY = (*HEAVY, "prefect", "panel", "bokeh", "httpx", "yaml")


def test_the_import_contracts_hold() -> None:
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def _inner_adref_imports(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import | ast.ImportFrom) and node.col_offset > 0:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            if any((name or "").startswith("adref") for name in names):
                # the import's own line, or a comment just above it (the same statement's
                # imports may follow the comment)
                above = lines[max(0, node.lineno - 4) : node.lineno]
                found.append((node.lineno, "\n".join(above)))
    return found


def test_an_import_inside_a_function_says_why() -> None:
    silent = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "adref").rglob("*.py"))
        for line, context in _inner_adref_imports(path)
        if "# lazy:" not in context
    ]
    assert silent == [], "move these to the module's top, or add a '# lazy: why' comment"


def _loaded(imports: str, watched: tuple[str, ...], tmp_path: Path) -> str:
    """Which of ``watched`` a fresh process has loaded once it ran ``imports``, as a list's
    text; this checkout's adref, without the user's adref or Prefect settings."""
    check = f"import sys\n{imports}print(sorted(m for m in {watched!r} if m in sys.modules))"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    env |= {"ADREF_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=ROOT,  # this checkout's adref, whatever the environment has installed
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_importing_a_flow_loads_no_heavy_library(tmp_path: Path) -> None:
    """In a fresh process, as a worker imports a flow; Prefect's own imports are Prefect's."""
    loaded = _loaded("".join(f"import adref.flows.{flow}\n" for flow in FLOWS), HEAVY, tmp_path)
    assert loaded == "[]", (
        f"importing the flows loaded {loaded}: import them inside the functions that use them"
    )


def test_starting_the_cli_loads_no_heavy_library(tmp_path: Path) -> None:
    """In a fresh process, as the `adref` script starts (``adref.cli:main``): every command is
    registered, none has run."""
    loaded = _loaded("import adref.cli\nimport adref.cli.app\n", CLI_HEAVY, tmp_path)
    assert loaded == "[]", (
        f"starting the CLI loaded {loaded}: import them inside the commands (or functions) "
        "that use them, and what a command's signature needs from a light module"
    )
