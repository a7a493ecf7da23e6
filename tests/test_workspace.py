"""Per-run workspaces: kept after failure for inspection, removed by `adref clean` when old."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import adref.cli  # noqa: F401  (registers every command)
from adref.cli.app import app
from adref.settings import reset_settings
from adref.workspace import clean_workspaces, close_workspace, open_workspace


def test_success_removes_the_workspace_failure_keeps_it(tmp_path: Path) -> None:
    ok = open_workspace(tmp_path, "run-ok")
    (ok / "partial.bin").write_bytes(b"x")
    close_workspace(ok, succeeded=True)
    failed = open_workspace(tmp_path, "run-failed")
    close_workspace(failed, succeeded=False)
    assert not ok.exists() and failed.is_dir()


def test_adref_clean_removes_only_old_workspaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADREF_HOME", str(tmp_path))
    reset_settings()
    work = tmp_path / "work"
    old, new = open_workspace(work, "old"), open_workspace(work, "new")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    result = CliRunner().invoke(app, ["clean", "--older-than-days", "7"])
    reset_settings()
    assert result.exit_code == 0, result.output
    assert "removed 1 workspace" in result.output
    assert not old.exists() and new.is_dir()
    assert clean_workspaces(tmp_path / "nowhere", 0) == []
