"""``adref doctor``: a fresh home is ready; a broken one says what is wrong and how to fix it,
never showing a key; ``--fix`` marks runs that died crashed and removes leftover folders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import Result

from adref.doctor import Check, exit_code
from adref.doctor.environment import opencv_check
from adref.doctor.services import prefect_checks
from adref.doctor.storage import disk_checks, warehouse_check
from adref.runcard import Card, keep_row, save_card
from adref.settings import get_settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import RunRecord, RunRow
from tests.support.cli import invoke
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_vendor import Reply

KEY = "sk-doctor-Zq81-secret-4711"


def _doctor(args: list[str], home: Path, **env: str) -> Result:
    return invoke(["doctor", *args], {"ADREF_HOME": str(home), **env}, alone=True)


def _row(output: str, name: str) -> str:
    cells = [line.split("│") for line in output.splitlines()]
    (row,) = [c for c in cells if len(c) > 2 and c[1].strip() == name]
    return "│".join(c.strip() + " " for c in row)


def test_a_fresh_home_is_ready(prefect_api: str, tmp_path: Path) -> None:
    done = _doctor([], tmp_path / "home", PREFECT_API_URL=prefect_api)
    assert done.exit_code == 0, done.output
    assert "ready: 0 error(s)" in done.stdout
    names = ("python", "prefect", "duckdb", "opencv", "ffmpeg", "tesseract", "warehouse")
    for name in (*names, "prefect api"):
        assert "│ok " in _row(done.stdout, name), done.stdout
    assert "not created yet" in _row(done.stdout, "warehouse")
    assert "local only" in _row(done.stdout, "providers")


def test_a_broken_home_says_what_and_how_and_never_shows_a_key(
    prefect_api: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "warehouse").write_text("not a folder")
    with FakeOpenAI() as openai, FakeAnthropic() as anthropic:
        openai.push(Reply("auth_error"))
        done = _doctor(
            ["--online"],
            home,
            PREFECT_API_URL=prefect_api,
            ADREF_PROVIDER="openai,anthropic,local",
            ADREF_OPENAI_API_KEY=KEY,
            ADREF_OPENAI_BASE_URL=openai.base_url,
            ADREF_ANTHROPIC_API_KEY=KEY + "-a",
            ADREF_ANTHROPIC_BASE_URL=anthropic.base_url,
        )
        assert len(openai.calls) == 1 and len(anthropic.calls) == 1  # one minimal request each
    out = done.stdout + done.stderr
    assert done.exit_code == 1, out
    assert "is a file" in _row(done.stdout, "warehouse") and "│error " in _row(
        done.stdout, "warehouse"
    )
    openai_row = _row(done.stdout, "provider openai")
    assert "│error " in openai_row and "rejected the API key" in openai_row
    assert "OPENAI_API_KEY" in openai_row  # the fix names the variable
    assert "│ok " in _row(done.stdout, "provider anthropic"), out
    for piece in ("Zq81", "4711", "sk-doc", "secret"):
        assert piece not in out


def test_leftover_workspaces_and_stuck_runs_are_fixed(prefect_api: str, tmp_path: Path) -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Running

    @flow(name="doctor-killed")
    def killed() -> None: ...

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(killed)
        client.set_flow_run_state(run.id, Running(), force=True)
        # One more, killed as it completed: its row is kept, not yet written.
        over = client.create_flow_run(killed, state=Running())
        client.set_flow_run_state(over.id, Completed(), force=True)
    home = tmp_path / "home"
    dead = home / "work" / "dead"
    dead.mkdir(parents=True)
    save_card(Card(dead, str(run.id), gone.pid, "gone", socket.gethostname()))
    unwritten = home / "work" / "unwritten"
    unwritten.mkdir()
    save_card(Card(unwritten, str(over.id), gone.pid, "gone", socket.gethostname()))
    row = RunRecord(
        run_id="unwritten", flow_run_id=str(over.id), status="completed", started_at=over.created
    )
    keep_row(unwritten, RunRow(record=row).model_dump_json())
    old = home / "work" / "failed-long-ago"
    old.mkdir()
    (old / "video.mp4").write_bytes(b"x" * 1000)
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))

    before = _doctor([], home, PREFECT_API_URL=prefect_api)
    assert before.exit_code == 0, before.output  # warnings, not errors
    assert "│warning " in _row(before.stdout, "stuck runs"), before.stdout
    assert "runs row unwritten (1)" in _row(before.stdout, "stuck runs"), before.stdout
    assert "│warning " in _row(before.stdout, "workspaces"), before.stdout

    fixed = _doctor(["--fix"], home, PREFECT_API_URL=prefect_api)
    assert fixed.exit_code == 0, fixed.output
    assert "1 marked crashed, 1 runs row(s) stored" in _row(fixed.stdout, "stuck runs"), (
        fixed.stdout
    )
    assert "3 removed" in _row(fixed.stdout, "workspaces"), fixed.stdout
    assert not dead.exists() and not old.exists() and not unwritten.exists()
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run.id).state
    assert state is not None and state.type.value == "CRASHED"
    with Warehouse(home / "warehouse").connect() as con:
        found = con.execute("select run_id, status from runs order by run_id").fetchall()
    assert found == [("dead", "crashed"), ("unwritten", "completed")]


def test_storage_checks_read_and_write_for_real(adref_home: Path) -> None:
    settings = get_settings()
    Warehouse(settings.warehouse).init()
    check = warehouse_check(Warehouse.of(settings))
    assert check.status == "ok" and "0 videos, 0 runs" in check.detail
    assert not [p for p in settings.warehouse.rglob(".adref-doctor-*")], "the probe is removed"
    assert [c.status for c in disk_checks(settings, min_free_mb=1e12)] == ["warning", "warning"]


def test_without_a_server_the_cli_starts_its_own(
    adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    (check,) = prefect_checks(get_settings().model_copy(update={"server": "background"}))
    assert check.status == "ok" and "starts one in the background" in check.detail
    (check,) = prefect_checks(get_settings().model_copy(update={"server": "embedded"}))
    assert check.status == "ok" and "each adref run starts a temporary one" in check.detail


def test_two_opencvs_are_an_error_and_errors_decide_the_exit_code() -> None:
    both = opencv_check({"opencv-python": "4.10.0", "opencv-python-headless": "4.10.0"})
    assert both.status == "error" and "pip uninstall opencv-python" in both.fix
    assert opencv_check({"opencv-python-headless": "4.10.0"}).status == "ok"
    assert exit_code([Check("a", "ok", ""), Check("b", "warning", "")]) == 0
    assert exit_code([Check("a", "ok", ""), Check("b", "error", "")]) == 1


def test_missing_tesseract_language_data_is_a_warning_with_its_fix(tmp_path: Path) -> None:
    from adref.doctor.environment import tesseract_check
    from adref.settings import Settings

    ok = tesseract_check(Settings(home=tmp_path / "h"))
    assert ok.status == "ok" and "kor+eng" in ok.detail
    broken = tesseract_check(
        Settings(home=tmp_path / "h", tessdata_dir=tmp_path, ocr_languages="kor")
    )
    assert broken.status == "warning"
    assert "Tesseract language data for kor not found" in broken.detail
    assert "on-screen text is not read" in broken.detail
    assert "apt-get install tesseract-ocr-kor" in broken.fix


def test_the_speech_check_warns_of_a_local_engine_without_a_model(tmp_path: Path) -> None:
    from adref.doctor.environment import speech_check
    from adref.settings import Settings

    assert speech_check(Settings(home=tmp_path / "h", speech_engine="none")).status == "ok"
    missing = speech_check(Settings(home=tmp_path / "h", speech_engine="local"))
    assert missing.status == "warning" and "ADREF_SPEECH_MODEL_DIR" in missing.fix
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"x")
    (folder / "config.json").write_text("{}")
    ok = speech_check(Settings(home=tmp_path / "h", speech_engine="local", speech_model_dir=folder))
    assert ok.status == "ok" and str(folder) in ok.detail


@pytest.mark.parametrize("command", [["doctor"], ["analyze", "x.mp4"], ["sql", "select 1"]])
def test_a_home_that_is_a_file_is_one_line_for_every_command(
    tmp_path: Path, command: list[str]
) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    for given in (home, home / "below"):
        done = invoke(command, {"ADREF_HOME": str(given)}, alone=True)
        assert done.exit_code == 2, done.output
        (line,) = [x for x in done.output.splitlines() if x.startswith("error:")]
        assert f"{home} is a file, not a folder" in line and "unexpected" not in line, line
