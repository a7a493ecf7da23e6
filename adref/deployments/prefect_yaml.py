"""prefect.yaml, rendered from ``DEPLOYMENTS``: the file Prefect users read and ``prefect deploy``.

``DEPLOYMENTS`` stays the one source (``adref deploy`` registers from it, importing each flow),
and the checked-in prefect.yaml is its rendering: ``adref deploy --write-yaml prefect.yaml``
rewrites it, and a test fails when the file and the definitions differ. Writing YAML by hand
beside the Python would let them drift; parsing YAML at run time would make adref depend on a
file a wheel does not ship.

Strings are written as JSON, which is YAML too, so no YAML library is needed to write one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from adref.deployments.definitions import DeploymentSpec

HEADER = """\
# adref's Prefect deployments, for `prefect deploy --all` (run from this folder, adref installed).
# Generated from adref/deployments/definitions.py by `adref deploy --write-yaml prefect.yaml`:
# edit that file, not this one (tests/test_prefect_yaml.py fails when the two differ).
#
# The work pool must exist first: `adref deploy` (or `adref up`) creates it, limited to
# ADREF_MAX_CONCURRENT_VIDEOS (5) runs at once. Entrypoints are module paths and there is
# nothing to pull: a worker runs the adref installed where it runs.
#
# `prefect deploy` sets each deployment's schedules to what is written here; `adref deploy`
# keeps the ones an operator changed in the UI.
name: adref

build: null
push: null
pull: []

deployments:
"""


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_spec(spec: DeploymentSpec, pool: str) -> str:
    schedules = f"\n    - cron: {_q(spec.cron)}  # UTC\n      active: true" if spec.cron else " []"
    return (
        f"- name: {_q(spec.name)}\n"
        f"  # flow: {spec.flow_name}\n"
        f"  entrypoint: {_q(spec.entrypoint)}\n"
        f"  description: {_q(spec.description)}\n"
        f"  tags: [{', '.join(_q(tag) for tag in spec.tags)}]\n"
        "  parameters: {}\n"
        f"  schedules:{schedules}\n"
        "  work_pool:\n"
        f"    name: {_q(pool)}\n"
        "    job_variables: {}\n"
    )


def render(specs: Iterable[DeploymentSpec], pool: str) -> str:
    """The whole prefect.yaml for these deployments on this work pool."""
    return HEADER + "\n".join(render_spec(spec, pool) for spec in specs)
