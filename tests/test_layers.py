"""The layers hold: import-linter's contracts (pyproject.toml), and no import hides in a function
without saying why (start-up time, or Prefect's settings), since hiding one is how cycles and
upward imports crept in before."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


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
