"""Model providers inside the real flow: a real Prefect server, a real warehouse, a fake vendor.

The secrets test runs whole analyses with a recognisable fake key, one that succeeds and one
the vendor refuses, and then looks for the key everywhere it could leak: Prefect's logs and
artifacts, every file adref and Prefect wrote (warehouse, cached task results, workspaces), the
process's own output, and the error a user sees.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adref.errors import AnswerInvalid, ProviderHardError
from adref.grouping import group_shots
from adref.providers.spending_caps import over_cap
from adref.settings import get_settings, reset_settings
from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from adref.video.testclips import ClipTruth, make_clip
from adref.warehouse.catalog import Warehouse
from adref.warehouse.spend import spent_today
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_vendor import Reply, sample_answer

KEY = "sk-adref-SECRET-flow-7f3a9c"


@pytest.fixture
def openai_fake(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.script.default = Reply.json(sample_answer(groups=3), usage=(3000, 500))
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("ADREF_OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("ADREF_PROVIDER_RETRY_CAP_S", "0.05")
        reset_settings()
        yield fake


def _run(source: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    from adref.flows.analyze_video import analyze_video

    return analyze_video(source=str(source), **kwargs)


def _query(sql: str) -> list[tuple]:  # type: ignore[type-arg]
    con = Warehouse(get_settings().warehouse).connect(read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _flow_run_texts(flow_run_id: str) -> list[str]:
    """Every log line and artifact Prefect holds for one flow run and its tasks."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )

    run_id = uuid.UUID(flow_run_id)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        flow_run = client.read_flow_run(run_id)
    return (
        [log.message for log in logs]
        + [str(a.data) + str(a.description) for a in artifacts]
        + [str(flow_run.parameters), str(flow_run.name)]
    )


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(path)
    return found


def test_a_model_analysis_in_the_flow_is_stored_costed_and_cached(
    openai_fake: FakeOpenAI, clip_ad: ClipTruth
) -> None:
    first = _run(clip_ad.path, provider="openai")
    assert first.status == "completed" and first.provider == "openai"
    assert (first.tokens_in, first.tokens_out) == (3000, 500)
    assert first.cost_usd > 0
    ((provider, model, tokens_in, cost),) = _query(
        "select provider, model, tokens_in, cost_usd from analyses"
    )
    assert (provider, model, tokens_in) == ("openai", "gpt-4o", 3000)
    ((run_tokens, run_cost, notes),) = _query("select tokens_in, cost_usd, notes from runs")
    assert run_tokens == 3000 and run_cost == pytest.approx(cost) and notes is None

    again = _run(clip_ad.path, provider="openai")
    assert again.cache_hits == again.tasks
    assert len(openai_fake.calls) == 1, "a re-run asks no model"

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name("adref-model-openai")
    assert limit.limit == get_settings().provider_concurrency


def test_a_model_analysis_reads_each_prompt_variable_once(
    openai_fake: FakeOpenAI, clip_single: ClipTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its cache key and its call share one reading of the prompt's Prefect Variables."""
    from prefect.client.orchestration import SyncPrefectClient

    read: list[str] = []
    real_read = SyncPrefectClient.read_variable_by_name

    def spy(self: SyncPrefectClient, name: str):  # type: ignore[no-untyped-def]
        read.append(name)
        return real_read(self, name)

    monkeypatch.setattr(SyncPrefectClient, "read_variable_by_name", spy)
    summary = _run(clip_single.path, provider="openai")
    assert summary.status == "completed" and len(openai_fake.calls) == 1
    assert sorted(read) == ["adref_analysis_items", "adref_categories", "adref_system_prompt"]


def test_a_later_run_process_reads_the_model_limit_and_leaves_it_as_the_operator_set_it(
    prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each flow run is a process of its own: the second one must find the limit, not ask the
    server to create it again (the server answers that with an error and a logged traceback)."""
    from prefect.client.orchestration import SyncPrefectClient, get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    from adref.providers.remote import concurrency

    creates: list[str] = []
    real_create = SyncPrefectClient.create_global_concurrency_limit

    def create(self: SyncPrefectClient, limit):  # type: ignore[no-untyped-def]
        creates.append(limit.name)
        return real_create(self, limit)

    monkeypatch.setattr(SyncPrefectClient, "create_global_concurrency_limit", create)
    name = f"adref-model-test-{uuid.uuid4().hex[:8]}"
    concurrency._ensure(name, 3)
    assert creates == [name]
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=7))

    monkeypatch.setattr(concurrency, "_ensured", set())  # as a new run process starts
    concurrency._ensure(name, 3)
    assert creates == [name], "the second process asked to create the limit again"
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(name).limit == 7


def test_a_cached_re_run_spends_nothing_and_the_day_counts_the_real_spend_once(
    openai_fake: FakeOpenAI, clip_single: ClipTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(clip_single.path, provider="openai")
    ((paid,),) = _query("select cost_usd from analyses")
    assert paid > 0 and first.cost_usd == pytest.approx(paid)
    for _ in range(3):
        again = _run(clip_single.path, provider="openai")
        assert again.cache_hits == again.tasks
        assert (again.tokens_in, again.tokens_out, again.cost_usd) == (0, 0, 0.0)
    assert len(openai_fake.calls) == 1
    rows = _query("select tokens_in, tokens_out, cost_usd from runs order by started_at")
    assert rows[0] == (3000, 500, pytest.approx(paid))
    assert rows[1:] == [(0, 0, 0.0)] * 3
    assert _query("select cost_usd from analyses") == [(pytest.approx(paid),)], "kept as made"

    assert spent_today(Warehouse.of(get_settings())) == pytest.approx(paid)
    monkeypatch.setenv("ADREF_MAX_COST_PER_DAY_USD", str(paid * 2.5))
    reset_settings()
    assert (
        over_cap(paid, 0.0, get_settings(), lambda: spent_today(Warehouse.of(get_settings())))
        is None
    ), "a new video may still be paid for"


def test_a_chain_falls_back_inside_the_flow_and_says_so(
    openai_fake: FakeOpenAI, clip_single: ClipTruth
) -> None:
    openai_fake.script.default = Reply("auth_error")
    summary = _run(clip_single.path, provider="openai,local")
    assert summary.status == "completed" and summary.provider == "local"
    assert summary.notes and summary.notes[0].startswith("openai:")
    ((provider,),) = _query("select provider from analyses")
    assert provider == "local"
    ((run_provider, notes),) = _query("select provider, notes from runs")
    assert run_provider == "local", "the provider that answered"
    assert notes.startswith("openai: ") and notes.endswith("answered by local")


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_a_failed_chain_run_records_the_provider_that_failed(
    openai_fake: FakeOpenAI, clip_single: ClipTruth
) -> None:
    openai_fake.script.default = Reply.text("Not JSON at all.", usage=(2000, 100))
    with pytest.raises(AnswerInvalid) as info:
        _run(clip_single.path, provider="openai,local")
    assert info.value.provider == "openai"
    ((provider, status, tokens_in, notes),) = _query(
        "select provider, status, tokens_in, notes from runs"
    )
    assert (provider, status, tokens_in) == ("openai", "failed", 4000)
    assert notes is None, "openai was the first asked: the chain did nothing else"


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_a_chain_that_fails_throughout_records_the_last_provider_and_every_step(
    openai_fake: FakeOpenAI, clip_single: ClipTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai_fake.script.default = Reply("auth_error")
    monkeypatch.setenv("FACTCHAT_API_KEY", KEY)
    monkeypatch.setenv("ADREF_FACTCHAT_BASE_URL", openai_fake.base_url)
    reset_settings()
    with pytest.raises(ProviderHardError, match="every provider in the chain failed"):
        _run(clip_single.path, provider="openai,factchat")
    ((provider, notes),) = _query("select provider, notes from runs")
    assert provider == "factchat"
    assert notes.startswith("openai: ") and "; factchat: " in notes


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_a_failed_run_still_records_what_its_model_calls_cost(
    openai_fake: FakeOpenAI, clip_single: ClipTruth
) -> None:
    openai_fake.script.default = Reply.text("Not JSON at all.", usage=(2000, 100))
    with pytest.raises(AnswerInvalid):
        _run(clip_single.path, provider="openai")
    ((status, tokens_in, tokens_out, cost, error),) = _query(
        "select status, tokens_in, tokens_out, cost_usd, error from runs"
    )
    assert (status, tokens_in, tokens_out) == ("failed", 4000, 200), "both answers billed"
    assert cost > 0 and "no valid analysis" in error
    assert _query("select count(*) from analyses") == [(0,)], "nothing half-valid stored"


@pytest.fixture
def clip_many_groups(
    clips_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, int]]:
    """A 30 s ad cut fine: more scene groups than ADREF_MAX_ANALYSIS_IMAGES=10."""
    path = clips_dir / "ad-30s.mp4"
    if not path.exists():
        make_clip("ad", path, width=320, height=180, duration_s=30.0)
    monkeypatch.setenv("ADREF_GRANULARITY", "10")
    monkeypatch.setenv("ADREF_MAX_ANALYSIS_IMAGES", "10")
    reset_settings()
    detected = detect_shots(path, DetectParams.from_settings(get_settings()))
    groups = len(group_shots(detected.shots, detected.stream, 10, 1000).groups)
    assert groups >= 12
    yield path, groups


def _sent(call: dict) -> tuple[int, set[int]]:  # type: ignore[type-arg]
    """The images in an OpenAI request, and the groups their labels in the prompt name."""
    parts = [p for m in call["messages"] if isinstance(m["content"], list) for p in m["content"]]
    images = sum(1 for p in parts if p["type"] == "image_url")
    text = "".join(p["text"] for p in parts if p["type"] == "text")
    listed = text.split("## Images, in order\n", 1)[1].split("\n\n", 1)[0]
    named: set[int] = set()
    for group_list in re.findall(r"groups? ([\d, -]+?) ·", listed):
        for piece in group_list.split(","):
            low, _, high = piece.strip().partition("-")
            named.update(range(int(low), int(high or low) + 1))
    return images, named


def test_contact_sheets_show_every_group_past_the_image_cap(
    openai_fake: FakeOpenAI, clip_many_groups: tuple[Path, int]
) -> None:
    path, groups = clip_many_groups
    openai_fake.script.default = Reply.json(sample_answer(groups=groups), usage=(3000, 500))
    summary = _run(path, provider="openai")
    assert summary.status == "completed" and summary.groups == groups
    images, named = _sent(openai_fake.calls[0])
    assert 1 <= images <= 10
    assert named == set(range(groups)), "every group is on a sheet the model sees"
    assert _query("select count(*), count(*) filter (analysed) from scene_groups") == [
        (groups, groups)
    ]
    assert _query("select notes from runs") == [(None,)]


def test_frames_mode_drops_groups_past_the_cap_and_says_which(
    openai_fake: FakeOpenAI, clip_many_groups: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, groups = clip_many_groups
    monkeypatch.setenv("ADREF_IMAGE_MODE", "frames")
    reset_settings()
    openai_fake.script.default = Reply.json(sample_answer(groups=groups), usage=(3000, 500))
    summary = _run(path, provider="openai")
    images, named = _sent(openai_fake.calls[0])
    assert images == 10 and len(named) == 10
    dropped = sorted(set(range(groups)) - named)
    shown = _query("select group_index from scene_groups where analysed order by 1")
    assert [g for (g,) in shown] == sorted(named)
    ((notes,),) = _query("select notes from runs")
    expected = f"scene groups {', '.join(map(str, dropped))} not shown to the model"
    assert notes.startswith(expected) and "ADREF_IMAGE_MODE=frames" in notes
    assert summary.notes == [notes]


def test_estimate_plans_without_calling_or_storing(
    openai_fake: FakeOpenAI, clip_single: ClipTruth
) -> None:
    summary = _run(clip_single.path, provider="openai,local", estimate_only=True)
    assert summary.status == "estimated"
    openai_est, local_est = summary.estimates
    assert openai_est.provider == "openai" and openai_est.tokens_in > 0 and openai_est.cost_usd > 0
    assert local_est.cost_usd == 0
    assert openai_fake.calls == []
    assert not Warehouse(get_settings().warehouse).exists() or _query(
        "select count(*) from analyses"
    ) == [(0,)]


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_the_key_never_leaks(
    openai_fake: FakeOpenAI,
    clip_ad: ClipTruth,
    adref_home: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    ok = _run(clip_ad.path, provider="openai")
    assert ok.status == "completed"
    openai_fake.script.default = Reply("auth_error")
    with pytest.raises(ProviderHardError) as info:
        _run(clip_ad.path, provider="openai", refresh=True)

    failed_run = _query("select flow_run_id from runs where status = 'failed'")[0][0]
    assert "OPENAI_API_KEY" in str(info.value)  # says what to fix...
    texts = [str(info.value), repr(info.value), info.value.one_line()]
    texts += _flow_run_texts(ok.flow_run_id or "") + _flow_run_texts(failed_run)
    texts += [str(row) for row in _query("select * from runs")]
    out, err = capfd.readouterr()
    texts += [out, err]
    assert not [t for t in texts if KEY in t]  # ...and never shows the key
    assert len(texts) > 5

    needle = KEY.encode()
    assert _files_holding(adref_home, needle) == []  # warehouse, answers, workspaces, caches
    prefect_home = Path(os.environ["PREFECT_HOME"])
    assert _files_holding(prefect_home, needle) == []  # cached task results, Prefect's files
    assert any(prefect_home.rglob("*")), "Prefect's home was written, so the scan saw files"


def test_a_key_can_come_from_a_prefect_secret_block(
    openai_fake: FakeOpenAI, clip_single: ClipTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret

    block_key = "sk-adref-SECRET-block-5150"
    Secret(value=block_key).save("adref-openai-api-key", overwrite=True)
    monkeypatch.delenv("OPENAI_API_KEY")
    reset_settings()
    try:
        summary = _run(clip_single.path, provider="openai")
    finally:
        Secret(value="").save("adref-openai-api-key", overwrite=True)
    assert summary.status == "completed" and summary.provider == "openai"
    headers = {k.lower(): v for k, v in openai_fake.headers[-1].items()}
    assert headers["authorization"] == f"Bearer {block_key}"
