"""adref uses Prefect's public API only: what is internal moves between minor versions.

Prefect is pinned to one minor version (pyproject.toml); moving it means reading its release
notes, bumping the pin and uv.lock, and running ``make test``. This check keeps the list of
things that could break short: a new import from an internal module fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "adref"

# Internal by Prefect's own layout: engines, result records, server code and helpers.
INTERNAL = (
    "prefect._internal",
    "prefect.engine",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.results",
    "prefect.server",
    "prefect.utilities",
    "prefect.client.base",
)


def prefect_imports(tree: ast.AST) -> list[tuple[int, str, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prefect"):
            found += [(node.lineno, node.module or "", a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, "") for a in node.names if a.name.startswith("prefect")]
    return found


# The one name taken from prefect.utilities: the annotation Prefect's own warnings and errors
# name for large task parameters ("wrap them with prefect.utilities.annotations.quote").
PUBLIC = {("prefect.utilities.annotations", "quote")}


def internal(module: str, name: str) -> bool:
    parts = module.split(".")
    if (module, name) in PUBLIC:
        return False
    return (
        any(module == m or module.startswith(m + ".") for m in INTERNAL)
        or any(p.startswith("_") for p in parts)
        or name.startswith("_")
        or name == "ResultRecord"
    )


def test_adref_imports_nothing_internal_from_prefect() -> None:
    bad = [
        f"{path.relative_to(ROOT.parent)}:{line}: from {module} import {name}"
        for path in sorted(ROOT.rglob("*.py"))
        for line, module, name in prefect_imports(ast.parse(path.read_text()))
        if internal(module, name)
    ]
    assert bad == []


def test_state_data_is_not_read() -> None:
    """``State.data`` is the result record's holder; ``State.result()`` is the public way."""
    bad = [
        f"{path.relative_to(ROOT.parent)}:{node.lineno}"
        for path in sorted(ROOT.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr == "data"
        and isinstance(node.value, ast.Name)
        and "state" in node.value.id.lower()
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("from prefect.results import ResultRecord", True),
        ("from prefect.utilities.annotations import opaque", True),
        ("from prefect._internal.concurrency import x", True),
        ("import prefect.task_engine", True),
        ("from prefect import _private", True),
        ("from prefect.utilities.annotations import quote", False),
        ("from prefect.artifacts import create_markdown_artifact", False),
        ("from prefect import flow, task", False),
        ("from prefect.runtime import flow_run", False),
    ],
)
def test_the_check_tells_internal_from_public(source: str, flagged: bool) -> None:
    found = prefect_imports(ast.parse(source))
    assert found and any(internal(m, n) for _, m, n in found) is flagged
