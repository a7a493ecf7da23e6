"""The ingest flow on a real Prefect server with adref's deployments applied (no worker: the
runs it starts stay scheduled, which is what a second ingest must see)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adref.deployments.apply import apply_deployments
from adref.errors import InputError
from adref.settings import get_settings, reset_settings
from adref.video.testclips import ClipTruth
from adref.warehouse.catalog import Warehouse

pytestmark = pytest.mark.slow

ADREF = str(Path(sys.executable).parent / "adref")
IDS = [f"ingestvid0{i}" for i in range(6)]  # YouTube ids are 11 characters


def test_six_sources_two_stored_one_queued_start_three_runs_and_then_none(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from adref.flows.ingest import ingest
    from tests.test_warehouse import make_write

    monkeypatch.setenv("ADREF_WORK_POOL", "adref-ingest-test")
    reset_settings()
    apply_deployments(get_settings())
    adref_home.mkdir(parents=True, exist_ok=True)
    lines = [f"  - https://www.youtube.com/watch?v={vid}" for vid in IDS]
    (adref_home / "watchlist.yaml").write_text(
        "defaults: {owner: mina, tags: [watched]}\nsources:\n" + "\n".join(lines) + "\n"
    )
    wh = Warehouse(get_settings().warehouse)
    wh.init()
    for vid in IDS[:2]:
        wh.write_video(make_write(f"youtube:{vid}"))
    with get_client(sync_client=True) as client:
        analyze = client.read_deployment_by_name("analyze-video/analyze-video")
        # Queued from the UI by another address of the same video, without ingest's tag.
        client.create_flow_run_from_deployment(
            analyze.id, parameters={"source": f"https://youtu.be/{IDS[2]}"}
        )

    first = ingest()
    assert (first.sources, first.found, first.new, first.skipped) == (6, 6, 3, 3)
    assert len(first.started) == 3
    with get_client(sync_client=True) as client:
        runs = [client.read_flow_run(run_id) for run_id in first.started]  # type: ignore[arg-type]
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest"]))
        )
    assert sorted(r.parameters["source"] for r in runs) == [
        f"https://www.youtube.com/watch?v={vid}" for vid in IDS[3:]
    ]
    assert all(r.deployment_id == analyze.id for r in runs)
    assert all(r.parent_task_run_id is None for r in runs), "each its own run, not a subflow"
    assert all(r.state is not None and r.state.is_scheduled() for r in runs), "none waited on"
    assert sorted(t for r in runs for t in r.tags if t.startswith("video:")) == [
        f"video:youtube:{vid}" for vid in IDS[3:]
    ]
    assert {(r.parameters["owner"], tuple(r.parameters["tags"])) for r in runs} == {
        ("mina", ("watched",))
    }
    report = str(artifacts[-1].data)
    assert "already in the warehouse" in report and "already queued" in report
    assert f"/runs/flow-run/{first.started[0]}" in report

    second = ingest()
    assert (second.new, second.skipped, second.started) == (0, 6, [])


@pytest.mark.expected_error_log(match="no watch list at")
def test_the_prefect_variable_and_the_file_are_both_read(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.variables import Variable

    from adref.flows.ingest import ingest

    adref_home.mkdir(parents=True, exist_ok=True)
    (adref_home / "watchlist.yaml").write_text("- https://vimeo.com/76979871\n")
    Variable.set(
        "adref_watchlist",
        "sources:\n  - https://vimeo.com/76979872\n  - {folder: /nowhere, colour: red}\n",
        overwrite=True,
    )
    try:
        summary = ingest(dry_run=True)
    finally:
        Variable.unset("adref_watchlist")
    assert (summary.sources, summary.new, summary.started) == (2, 2, [])
    assert summary.bad_entries == [
        "entry 2 of Prefect Variable adref_watchlist: colour: unknown key "
        "(known: url:, folder:, owner:, tags:, provider:, max:)"
    ]
    # With neither, an ingest fails with one clear line.
    (adref_home / "watchlist.yaml").unlink()
    with pytest.raises(InputError, match="no watch list at"):
        ingest(dry_run=True)


def test_the_cli_without_a_server_analyses_new_videos_here_and_skips_what_is_no_video(
    tmp_path: Path, clip_ad: ClipTruth
) -> None:
    """As a user runs it: its own process, no server, no Prefect variables. A file that is no
    video is said and skipped, at every ingest, not given a run that fails each time."""
    from tests.support.cli import invoke

    home = tmp_path / "home"
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(clip_ad.path, drop / "ad.mp4")
    (drop / "broken.mp4").write_text("not a video at all")
    watchlist = tmp_path / "list.yaml"
    watchlist.write_text(f"sources:\n  - {{folder: {drop}, tags: [dropped]}}\n")

    dry = invoke(["ingest", str(watchlist), "--dry-run"], {"ADREF_HOME": str(home)}, alone=True)
    assert dry.exit_code == 0, dry.output
    assert "would start: 1" in dry.output and "not taken: broken.mp4" in dry.output, dry.output
    assert not (home / "prefect").exists(), "a dry run without a server starts no Prefect"

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    env.update(ADREF_HOME=str(home), COLUMNS="200", ADREF_OUTPUT_LANGUAGE="en")
    try:
        run = subprocess.run(
            [ADREF, "ingest", str(watchlist)], env=env, capture_output=True, text=True, timeout=600
        )
    finally:  # the background server it started outlives it, as it would for a user
        subprocess.run([ADREF, "down"], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "not taken: broken.mp4" in run.stdout, run.stdout
    with Warehouse(home / "warehouse").connect() as con:
        stored = con.execute("select user_tags from videos").fetchall()
        runs = con.execute("select status from runs").fetchall()
    assert stored == [(["dropped"],)] and runs == [("completed",)]

    again = invoke(["ingest", str(watchlist), "--dry-run"], {"ADREF_HOME": str(home)}, alone=True)
    assert "already in the warehouse" in again.output and "not taken: broken.mp4" in again.output


def test_the_cli_on_a_server_starts_deployment_runs_and_a_dry_run_none(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client

    from tests.support.cli import invoke

    monkeypatch.setenv("ADREF_WORK_POOL", "adref-ingest-test")
    reset_settings()
    apply_deployments(get_settings())
    watchlist = tmp_path / "list.yaml"
    watchlist.write_text("- https://vimeo.com/111222333\n- {folder: /nowhere}\n")
    env = {"ADREF_HOME": str(adref_home), "PREFECT_API_URL": prefect_api}

    dry = invoke(["ingest", str(watchlist), "--dry-run"], env)
    assert dry.exit_code == 0, dry.output
    assert "would start: 1" in dry.output and "entry 2" in dry.output
    run = invoke(["ingest", str(watchlist)], env)
    assert run.exit_code == 0, run.output
    assert "/runs/flow-run/" in run.output
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    assert [r.parameters["source"] for r in runs if "video:vimeo:111222333" in r.tags] == [
        "https://vimeo.com/111222333"
    ], "one run, started once: the dry run started none"
    again = invoke(["ingest", str(watchlist), "--dry-run"], env)
    assert "already queued" in again.output
