"""prefect.yaml and ``DEPLOYMENTS`` in step: the file is what the definitions render, it reads
back (with Prefect's own loader) as the same flows, and ``prefect deploy --all`` on a real
server creates what ``adref deploy`` creates."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from adref.deployments.definitions import DEPLOYMENTS, full_name
from adref.deployments.prefect_yaml import render
from adref.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PREFECT_YAML = ROOT / "prefect.yaml"
DEFAULT_POOL = Settings.model_fields["work_pool"].default
PREFECT = str(Path(sys.executable).parent / "prefect")


def _flow(module_path: str) -> Any:
    module, _, attribute = module_path.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def test_prefect_yaml_is_what_the_definitions_render() -> None:
    assert PREFECT_YAML.read_text(encoding="utf-8") == render(DEPLOYMENTS, DEFAULT_POOL), (
        "prefect.yaml and adref/deployments/definitions.py differ: run "
        "`adref deploy --write-yaml prefect.yaml` (with ADREF_WORK_POOL unset) and commit it"
    )


def test_prefect_yaml_reads_back_as_the_same_deployments() -> None:
    """Parsed as Prefect parses it, each entry names the flow object adref deploys."""
    from prefect.flows import load_flow_from_entrypoint

    config = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    assert config["pull"] == [], "an explicit empty pull: the worker runs installed adref"
    entries = config["deployments"]
    assert len(entries) == len(DEPLOYMENTS)
    for spec, entry in zip(DEPLOYMENTS, entries, strict=True):
        flow = load_flow_from_entrypoint(entry["entrypoint"])
        assert flow is _flow(spec.entrypoint), spec.name
        assert f"{flow.name}/{entry['name']}" == full_name(spec)
        assert entry["description"] == spec.description
        assert entry["tags"] == list(spec.tags)
        assert entry["parameters"] == {}
        assert [s["cron"] for s in entry["schedules"]] == ([spec.cron] if spec.cron else [])
        assert entry["work_pool"] == {"name": DEFAULT_POOL, "job_variables": {}}


def _snapshot(client: Any, name: str) -> dict[str, Any]:
    d = client.read_deployment_by_name(name)
    return {
        "entrypoint": d.entrypoint,
        "description": d.description,
        "tags": sorted(d.tags),
        "work_pool": d.work_pool_name,
        "work_queue": d.work_queue_name,
        "parameters": d.parameters,
        "schema": d.parameter_openapi_schema,
        "pull_steps": d.pull_steps or [],
        "job_variables": d.job_variables or {},
        "schedules": [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules],
        "enforce_parameter_schema": d.enforce_parameter_schema,
        "paused": d.paused,
    }


@pytest.mark.slow
def test_prefect_deploy_all_creates_what_adref_deploy_creates(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    from adref.deployments.apply import apply_deployments, ensure_pool
    from adref.settings import get_settings, reset_settings

    monkeypatch.delenv("ADREF_WORK_POOL", raising=False)
    reset_settings()
    ensure_pool(get_settings())  # prefect.yaml cannot create a pool: `adref deploy` does
    names = [full_name(spec) for spec in DEPLOYMENTS]

    def delete_all() -> None:
        with get_client(sync_client=True) as client:
            for d in client.read_deployments():
                if f"{client.read_flow(d.flow_id).name}/{d.name}" in names:
                    client.delete_deployment(d.id)

    delete_all()  # other tests register the same names on their own pools
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    done = subprocess.run(
        [PREFECT, "--no-prompt", "deploy", "--all"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with get_client(sync_client=True) as client:
        by_prefect = {name: _snapshot(client, name) for name in names}

    delete_all()
    apply_deployments(get_settings())
    with get_client(sync_client=True) as client:
        by_adref = {name: _snapshot(client, name) for name in names}

    differ = {
        (name, key): (value, by_adref[name][key])
        for name, fields in by_prefect.items()
        for key, value in fields.items()
        if by_adref[name][key] != value
    }
    assert not differ, differ
    assert by_adref["compact-warehouse/daily"]["schedules"] == [("30 4 * * *", None, True)]
    assert all(s["work_pool"] == DEFAULT_POOL for s in by_adref.values())
