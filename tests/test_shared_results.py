"""Cached stage results in the bucket (ADREF_RESULTS_PATH), on moto's S3 server: what Prefect
writes there one home reads from another (the two-worker retry is in test_scale_workers.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from adref.settings import Settings, get_settings, reset_settings
from adref.shared_results import S3Results, result_storage
from adref.tasks.detect import detect
from adref.tasks.policy import cache_key, configured
from tests.support.scale import REGION, S3Server, s3_server

__all__ = ["s3_server"]


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = f"results-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


def _home(mp: pytest.MonkeyPatch, home: Path, s3_server: S3Server, results: str | None) -> Settings:
    mp.setenv("ADREF_HOME", str(home))
    mp.setenv("ADREF_S3_ENDPOINT", s3_server.endpoint)
    mp.setenv("ADREF_S3_REGION", REGION)
    mp.setenv("AWS_ACCESS_KEY_ID", "adref-test-key")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "adref-test-secret")
    if results is None:
        mp.delenv("ADREF_RESULTS_PATH", raising=False)
    else:
        mp.setenv("ADREF_RESULTS_PATH", results)
    reset_settings()
    return get_settings()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    reset_settings()


def test_a_result_written_from_one_home_is_read_from_another(
    env: pytest.MonkeyPatch, tmp_path: Path, s3_server: S3Server, bucket: str
) -> None:
    results = f"s3://{bucket}/results"
    first = _home(env, tmp_path / "a", s3_server, results)
    storage = result_storage(first)
    assert isinstance(storage, S3Results) and storage.basepath == results + "/"
    key_a = cache_key("detect", "same content")
    storage.write_path(key_a, b"a stage's result")
    assert s3_server.keys(bucket) == [f"results/{key_a}"]

    second = _home(env, tmp_path / "b", s3_server, results)
    assert cache_key("detect", "same content") == key_a, "both homes look up the same key"
    again = result_storage(second)
    assert again is not None
    assert again.read_path(key_a) == b"a stage's result"
    assert again.read_path(again._resolve_path(key_a)) == b"a stage's result"
    with pytest.raises(FileNotFoundError):
        again.read_path(cache_key("detect", "other content"))


def test_without_the_setting_results_stay_in_each_home(
    env: pytest.MonkeyPatch, tmp_path: Path, s3_server: S3Server
) -> None:
    first = _home(env, tmp_path / "a", s3_server, None)
    key_a = cache_key("detect", "same content")
    assert result_storage(first) is None
    assert configured(detect, first, refresh=False).result_storage is None
    _home(env, tmp_path / "b", s3_server, None)
    assert cache_key("detect", "same content") != key_a


def test_cached_tasks_get_the_shared_storage_saved_on_the_server(
    env: pytest.MonkeyPatch, tmp_path: Path, s3_server: S3Server, bucket: str, prefect_api: str
) -> None:
    from prefect.blocks.core import Block

    results = f"s3://{bucket}/results/"
    settings = _home(env, tmp_path / "a", s3_server, results)
    task = configured(detect, settings, refresh=False)
    storage = task.result_storage
    assert isinstance(storage, S3Results) and storage.basepath == results
    saved = Block.load(f"adref-s3-results/{storage._block_document_name}", _sync=True)  # type: ignore[call-arg]
    fields = {k: v for k, v in saved.model_dump().items() if not k.startswith("_")}
    assert fields == {"basepath": results, "block_type_slug": "adref-s3-results"}


def test_the_results_path_must_be_a_bucket_prefix(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ADREF_RESULTS_PATH must be s3://bucket/prefix/"):
        Settings(home=tmp_path, results_path="/srv/shared/results")
