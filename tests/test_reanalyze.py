"""Re-analysis of stored videos: from the warehouse alone, beside the first analysis, in bulk.

The local analyser does both analyses; its prompt version depends on the output language, so
``ko`` then ``en`` gives a second ``analysis_id`` without any vendor server.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner, Result

import adref.cli  # noqa: F401  (registers every command)
from adref.analysis import GroupAnalysis
from adref.cli.app import app
from adref.errors import InputError, WarehouseError
from adref.grouping import group_shots, is_short_form
from adref.models import SpeechResult, TranscriptSegment, analysis_id
from adref.settings import get_settings, reset_settings
from adref.sources.probe import probe_video
from adref.tasks.analyze import run_analysis
from adref.tasks.runs import RunSummary
from adref.video.testclips import ClipTruth
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media import store_keyframes
from adref.warehouse.reanalysis import load_request as load_stored
from adref.warehouse.reanalysis import select_videos
from adref.warehouse.records import VideoWrite
from tests.support.cli import invoke
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_vendor import Reply
from tests.test_speech import KEY as SPEECH_KEY
from tests.test_speech import SENTENCE, _verbose, read_track_bytes, spoken_video
from tests.test_warehouse import counts, make_write

__all__ = ["spoken_video"]  # the speech tests' fixture, used here too

runner = CliRunner()


def load_request(wh: Warehouse, video_id: str, **kwargs: Any) -> Any:
    """The warehouse's loader with what the flow passes it to fill an older warehouse's gaps."""
    return load_stored(wh, video_id, probe=probe_video, short_form=is_short_form, **kwargs)


def _stored(
    wh: Warehouse,
    video_id: str,
    make: dict[str, Any] | None = None,
    analysis: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> VideoWrite:
    """``make_write`` with real keyframe files, and some fields changed, written to ``wh``."""
    w = make_write(video_id, **(make or {}))
    w = w.model_copy(
        update={
            "analysis": w.analysis.model_copy(update=analysis or {}),
            "meta": w.meta.model_copy(update=meta or {}),
            "keyframe_paths": store_keyframes(wh.media, video_id, w.shots),
        }
    )
    wh.write_video(w)
    return w


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, dict[str, VideoWrite]]:
    """Three stored videos with different genres, providers and tags (no Prefect needed)."""
    wh = Warehouse(tmp_path_factory.mktemp("library") / "wh")
    wh.init()
    written = {
        "youtube:a1": _stored(wh, "youtube:a1", make={"user_tags": ["Summer"]}),
        "youtube:b2": _stored(
            wh,
            "youtube:b2",
            make={"provider": "openai", "shots": 2},
            analysis={"genre": "vlog"},
            meta={"site_tags": ["cars"]},
        ),
        "vimeo:c3": _stored(wh, "vimeo:c3", make={"shots": 4}),
    }
    return wh, written


def test_load_request_rebuilds_what_was_written(
    library: tuple[Warehouse, dict[str, VideoWrite]],
) -> None:
    wh, written = library
    w = written["vimeo:c3"]
    request = load_request(wh, "vimeo:c3", output_language="en", model="m-2")
    assert (request.output_language, request.model) == ("en", "m-2")
    derived = {"duration_s", "width", "height", "fps"}  # the stream's values, stored in videos
    assert request.meta.model_dump(exclude=derived) == w.meta.model_dump(exclude=derived)
    assert request.stream == w.stream
    assert request.grouping == w.grouping
    assert [s.keyframe_jpeg for s in request.shots] == [s.keyframe_jpeg for s in w.shots]
    for loaded, original in zip(request.shots, w.shots, strict=True):
        assert loaded.model_dump(exclude={"vector"}) == original.model_dump(exclude={"vector"})
        assert loaded.vector == pytest.approx(original.vector, abs=1e-6)  # stored as FLOAT
    # What was read on screen comes back too, so a re-analysis is given the same words.
    assert w.texts and request.texts == w.texts


def test_an_unknown_video_is_an_input_error_with_a_hint(
    library: tuple[Warehouse, dict[str, VideoWrite]],
) -> None:
    with pytest.raises(InputError, match="no video youtube:zz in the warehouse") as info:
        load_request(library[0], "youtube:zz")
    assert "adref sql" in info.value.hint


def test_a_missing_keyframe_file_is_named(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    w = _stored(wh, "youtube:k1")
    (wh.root / w.keyframe_paths[1]).unlink()
    with pytest.raises(WarehouseError, match="keyframe of shot 1 of youtube:k1 is missing"):
        load_request(wh, "youtube:k1")


def test_bulk_selection_by_genre_provider_tag_date_and_query(
    library: tuple[Warehouse, dict[str, VideoWrite]],
) -> None:
    wh = library[0]
    assert select_videos(wh, genre="vlog") == ["youtube:b2"]
    assert select_videos(wh, genre="tvc") == ["youtube:a1", "vimeo:c3"]
    assert select_videos(wh, provider="openai") == ["youtube:b2"]
    assert select_videos(wh, tag="summer") == ["youtube:a1"], "user tags, any case"
    assert select_videos(wh, tag="cars") == ["youtube:b2"], "site tags"
    assert select_videos(wh, genre="tvc", tag="summer") == ["youtube:a1"], "filters combine"
    today = datetime.now(UTC).date()
    assert len(select_videos(wh, since=today)) == 3
    assert select_videos(wh, since=str(today + timedelta(days=1))) == []
    query = "select video_id from analyses where provider = 'local' order by video_id desc"
    assert select_videos(wh, ids_sql=query) == ["youtube:a1", "vimeo:c3"]
    assert select_videos(wh, ids_sql="select 'youtube:none' as video_id") == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ids_sql": "select title from videos"}, "no video_id column"),
        ({"ids_sql": "delete from videos"}, "not allowed"),
        ({"ids_sql": "select video_id from videos; select 1"}, "one statement"),
        ({"since": "last week"}, "bad date"),
    ],
)
def test_bad_selections_are_refused(
    library: tuple[Warehouse, dict[str, VideoWrite]], kwargs: dict[str, str], message: str
) -> None:
    wh = library[0]
    with pytest.raises(InputError, match=message):
        select_videos(wh, **kwargs)  # type: ignore[arg-type]
    assert counts(wh)["videos"] == 3


def test_write_analysis_replaces_only_its_own_rows(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    first = _stored(wh, "youtube:w1")
    other_id = analysis_id("youtube:w1", "gemini", "g-1", "p9")
    other = first.analysis.model_copy(
        update={"analysis_id": other_id, "provider": "gemini", "model": "g-1", "summary": "v1"}
    )
    wh.write_analysis(other)
    wh.write_analysis(
        other.model_copy(update={"summary": "v2", "groups": [GroupAnalysis(group_index=0)]})
    )
    assert counts(wh) == {
        "videos": 1,
        "shots": 3,
        "scene_groups": 3,
        "analyses": 2,
        "group_analyses": 3 + 1,
    }
    with wh.connect() as con:
        rows = con.execute("select provider, summary from analyses order by provider").fetchall()
    assert rows == [("gemini", "v2"), ("local", "local says hello")]

    stray = other.model_copy(update={"video_id": "youtube:none", "analysis_id": "x"})
    with pytest.raises(WarehouseError, match="no video youtube:none"):
        wh.write_analysis(stray)
    assert counts(wh)["analyses"] == 2


# -- real flows on a real Prefect server ---------------------------------------------------------


def _language(lang: str) -> None:
    os.environ["ADREF_OUTPUT_LANGUAGE"] = lang
    reset_settings()


@pytest.fixture(scope="module")
def analysed(
    prefect_api: str, tmp_path_factory: pytest.TempPathFactory, clip_ad: ClipTruth
) -> Iterator[RunSummary]:
    """``clip_ad`` analysed once in Korean, in an adref home of this module's own."""
    from adref.flows.analyze_video import analyze_video

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADREF_HOME", str(tmp_path_factory.mktemp("reanalyze-home")))
        mp.setenv("ADREF_RETRY_DELAY_S", "0.1")
        mp.setenv("ADREF_OUTPUT_LANGUAGE", "ko")
        mp.delenv("ADREF_WAREHOUSE_DIR", raising=False)
        reset_settings()
        summary = analyze_video(source=str(clip_ad.path))
        assert summary.status == "completed"
        yield summary
    reset_settings()


@pytest.fixture
def korean(analysed: RunSummary) -> Iterator[RunSummary]:
    """The analysed clip, with the output language put back to Korean after the test."""
    yield analysed
    _language("ko")


def _query(sql: str) -> list[tuple[object, ...]]:
    with Warehouse(get_settings().warehouse).connect() as con:
        return con.execute(sql).fetchall()


def test_reanalysis_keeps_both_analyses_and_an_identical_one_is_cached(
    korean: RunSummary,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from adref.flows.reanalyze import reanalyze_video

    vid = korean.video_id
    assert vid is not None
    shots = _query("select * from shots order by shot_index")
    groups = _query("select * from scene_groups order by group_index")

    _language("en")
    again = reanalyze_video(video_id=vid)
    assert again.status == "completed"
    assert again.analysis_id not in (None, korean.analysis_id)
    assert (again.tasks, again.cache_hits) == (2, 0)
    assert (again.shots, again.groups) == (korean.shots, korean.groups)

    analyses = _query(
        "select analysis_id, provider, model, prompt_version, output_language from analyses "
        "order by output_language"
    )
    assert [(a[0], a[4]) for a in analyses] == [
        (again.analysis_id, "en"),
        (korean.analysis_id, "ko"),
    ]
    assert analyses[0][3] != analyses[1][3], "each keeps its own prompt version"
    assert all(a[1:3] == ("local", "adref-cv-1") for a in analyses)
    assert _query("select * from shots order by shot_index") == shots, "shots untouched"
    assert _query("select * from scene_groups order by group_index") == groups
    per_analysis = _query("select analysis_id, count(*) from group_analyses group by all")
    assert dict(per_analysis) == {
        korean.analysis_id: korean.groups,
        again.analysis_id: again.groups,
    }
    (run,) = _query(
        "select status, tasks, cache_hits, provider, model, analysis_id, error, source from runs "
        f"where run_id = '{again.run_id}'"
    )
    assert run == ("completed", 2, 0, "local", "adref-cv-1", again.analysis_id, None, vid)

    same = reanalyze_video(video_id=vid)
    assert same.analysis_id == again.analysis_id
    assert (same.tasks, same.cache_hits) == (2, 2), "no model is asked the same thing twice"
    (analyze_stage,) = [s for s in same.stages if s.stage == "analyze"]
    assert analyze_stage.cached == 1
    assert _query("select count(*) from analyses") == [(2,)], "and nothing is duplicated"

    with get_client(sync_client=True) as client:
        name = client.read_flow_run(again.flow_run_id).name
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[again.flow_run_id])
            )
        )
    assert name.endswith(f"[{vid}] → local"), name
    (md,) = [a for a in artifacts if a.type == "markdown"]
    assert vid in md.data and "data:image/jpeg;base64," in md.data


def test_load_request_gives_the_analyser_what_the_first_run_gave_it(korean: RunSummary) -> None:
    vid = korean.video_id
    assert vid is not None
    settings = get_settings()
    request = load_request(Warehouse(settings.warehouse), vid, output_language="ko")
    assert len(request.shots) == korean.shots
    for shot in request.shots:
        image = cv2.imdecode(np.frombuffer(shot.keyframe_jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == settings.thumbnail_width
    regrouped = group_shots(
        request.shots, request.stream, settings.granularity, settings.max_analysis_images
    )
    assert request.grouping == regrouped

    redone = run_analysis("local", request, get_settings()).analysis
    assert redone.analysis_id == korean.analysis_id
    (stored,) = _query(
        "select genre, expression_format, mood, model_tags, summary from analyses "
        f"where analysis_id = '{korean.analysis_id}'"
    )
    assert stored == (
        redone.genre,
        redone.expression_format,
        redone.mood,
        redone.model_tags,
        redone.summary,
    )


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_an_unknown_video_fails_the_run_clearly_and_records_it(korean: RunSummary) -> None:
    from adref.flows.reanalyze import reanalyze_video

    with pytest.raises(InputError, match="no video youtube:missing in the warehouse"):
        reanalyze_video(video_id="youtube:missing")
    (run,) = _query("select status, error, tasks from runs where video_id = 'youtube:missing'")
    assert run[0] == "failed" and "no video youtube:missing" in str(run[1]) and run[2] == 0


# -- the command, as a user runs it ----------------------------------------------------------------


def _adref(args: list[str], home: Path, api: str, lang: str, stdin: str = "") -> Result:
    env = {
        "ADREF_HOME": str(home),
        "ADREF_OUTPUT_LANGUAGE": lang,
        "PREFECT_API_URL": api,
        "ADREF_WAREHOUSE_DIR": None,
    }
    return invoke(["reanalyze", *args], env, input=stdin)


def test_the_command_needs_a_selection_and_names_an_unknown_video(
    library: tuple[Warehouse, dict[str, VideoWrite]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADREF_WAREHOUSE_DIR", str(library[0].root))
    reset_settings()
    try:
        nothing = runner.invoke(app, ["reanalyze", "--provider", "local"])
        unknown = runner.invoke(app, ["reanalyze", "youtube:a1", "youtube:nope", "--estimate"])
    finally:
        reset_settings()
    assert nothing.exit_code == 2 and "nothing selected" in nothing.stderr
    assert unknown.exit_code == 2, unknown.output
    assert "error: no video youtube:nope in the warehouse" in unknown.stderr


def test_the_command_estimates_then_runs_then_skips_what_is_stored(
    prefect_api: str, adref_home: Path, clip_single: ClipTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.flows.analyze_video import analyze_video

    monkeypatch.setenv("ADREF_OUTPUT_LANGUAGE", "ko")
    reset_settings()
    first = analyze_video(source=str(clip_single.path), tags=["pick"])
    vid = first.video_id
    assert vid is not None

    planned = _adref([vid, "--estimate"], adref_home, prefect_api, "en")
    assert planned.exit_code == 0, planned.output
    assert vid in planned.stdout and "adref-cv-1" in planned.stdout
    assert "total: 1 to analyse" in planned.stdout and "$0.0000" in planned.stdout
    assert _query("select count(*) from runs") == [(1,)], "an estimate runs nothing"

    ran = _adref(["--tag", "pick", "--yes"], adref_home, prefect_api, "en")
    assert ran.exit_code == 0, ran.output
    assert "completed" in ran.stdout and "Traceback" not in ran.stderr
    langs = _query("select output_language from analyses order by output_language")
    assert langs == [("en",), ("ko",)]
    assert _query("select count(*) from runs") == [(2,)]

    paid = _adref([vid, "--provider", "openai"], adref_home, prefect_api, "en", stdin="n\n")
    assert paid.exit_code == 1 and "Aborted" in paid.stderr, paid.output
    assert "Spend up to $" in paid.stdout and "openai" in paid.stdout
    assert _query("select count(*) from runs") == [(2,)], "declined: nothing ran"

    skipped = _adref(["--ids-sql", "select video_id from videos"], adref_home, prefect_api, "en")
    assert skipped.exit_code == 0, skipped.output
    assert "stored already" in skipped.stdout and "total: 0 to analyse" in skipped.stdout
    assert _query("select count(*) from runs") == [(2,)]


# -- adding the text on screen to videos stored before it was read -----------------------------


def test_write_texts_replaces_only_the_lines_and_needs_the_video(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    w = _stored(wh, "youtube:t1")
    before = counts(wh, "youtube:t1")
    line = w.texts[0].model_copy(update={"text": "BRAND NEW"})
    wh.write_texts("youtube:t1", [line])
    assert load_request(wh, "youtube:t1").texts == [line]
    assert {k: v for k, v in counts(wh, "youtube:t1").items() if k != "shot_texts"} == {
        k: v for k, v in before.items() if k != "shot_texts"
    }
    wh.write_texts("youtube:t1", [])
    assert load_request(wh, "youtube:t1").texts == []
    with pytest.raises(WarehouseError, match="no such video"):
        wh.write_texts("youtube:none", [line])


def test_without_a_kept_copy_the_text_cannot_be_read_again(
    library: tuple[Warehouse, dict[str, VideoWrite]],
) -> None:
    from adref.warehouse.reanalysis import media_copy

    with pytest.raises(InputError, match="no kept copy of youtube:a1") as err:
        media_copy(library[0], "youtube:a1")
    assert "adref analyze SOURCE --refresh" in err.value.hint
    with pytest.raises(InputError, match="no video youtube:zz"):
        media_copy(library[0], "youtube:zz")


def test_reanalyze_with_text_reads_the_kept_copy_stores_and_uses_it(korean: RunSummary) -> None:
    from adref.flows.reanalyze import reanalyze_video
    from adref.search.index import search
    from adref.search.query import SearchQuery

    vid = korean.video_id
    assert vid is not None
    settings = get_settings()
    first = _query("select shot_index, text from shot_texts order by shot_index, text")
    assert any("SALE" in str(t) for _, t in first)
    Warehouse(settings.warehouse).write_texts(vid, [])  # as stored before text was read
    assert _query("select count(*) from shot_texts") == [(0,)]

    again = reanalyze_video(video_id=vid, text=True)
    assert again.status == "completed"
    (text_stage,) = [s for s in again.stages if s.stage == "text"]
    assert text_stage.tasks == 2  # read from the kept copy, then stored
    assert _query("select shot_index, text from shot_texts order by shot_index, text") == first
    assert again.analysis_id == korean.analysis_id, "the same analysis, now told the words"
    ((cta, language),) = _query(
        f"select call_to_action, ad_language from analyses where analysis_id = '{again.analysis_id}'"
    )
    assert cta == "화면 문구: “Shop now”" and language == "en"
    hits = search(settings, SearchQuery(text="sale")).hits
    sale_shot = next(i for i, t in first if "SALE" in str(t))
    assert [(h.video_id, h.shot_index) for h in hits] == [(vid, sale_shot)]
    plain = reanalyze_video(video_id=vid)  # reads those lines back: the work --text did
    assert (plain.tasks, plain.cache_hits) == (2, 2)


# -- adding the voice-over to videos stored before it was heard ----------------------------------


def _heard(text: str, status: Literal["done", "silent", "failed"] = "done") -> SpeechResult:
    said = [TranscriptSegment(start_s=0.5, end_s=2.0, text=text)] if status == "done" else []
    return SpeechResult(status=status, segments=said, language="ko", provider="local", model="m")


def test_write_transcript_replaces_only_the_transcript_and_needs_a_heard_one(
    tmp_path: Path,
) -> None:
    wh = Warehouse(tmp_path / "wh")
    _stored(wh, "youtube:s1")
    before = counts(wh, "youtube:s1")
    wh.write_transcript("youtube:s1", _heard("지금 주문하세요"))
    request = load_request(wh, "youtube:s1")
    assert [s.text for s in request.transcript] == ["지금 주문하세요"]
    assert request.transcript_language == "ko"
    assert counts(wh, "youtube:s1") == before, "the video's other rows are left alone"

    def listened() -> tuple[object, ...] | None:
        with contextlib.closing(wh.connect(read_only=True)) as con:
            return con.execute("select speech, speech_engine from videos").fetchone()

    assert listened() == ("done", "local m"), "its videos row says it was heard, and by what"
    with pytest.raises(ValueError, match="a failed speech step has no transcript"):
        wh.write_transcript("youtube:s1", _heard("", status="failed"))
    assert load_request(wh, "youtube:s1").transcript == request.transcript
    wh.write_transcript("youtube:s1", _heard("", status="silent"))
    assert load_request(wh, "youtube:s1").transcript == []
    assert listened() == ("silent", "local m")
    with pytest.raises(WarehouseError, match="no such video"):
        wh.write_transcript("youtube:none", _heard("hi"))


def test_notes_alike_are_one_line_naming_their_videos() -> None:
    from adref.cli.reanalyze import noted

    skipped = "speech: skipped, no transcription engine configured"
    notes = [(f"youtube:v{i}", skipped) for i in range(5)]
    notes += [("youtube:v1", "Notion: youtube:v1 not published"), ("youtube:v2", "slow")]
    assert noted(notes) == [
        f"5 videos (youtube:v0, youtube:v1, youtube:v2 and 2 more): {skipped}",
        "Notion: youtube:v1 not published",
        "youtube:v2: slow",
    ]


@pytest.fixture(scope="module")
def unheard(
    prefect_api: str,
    tmp_path_factory: pytest.TempPathFactory,
    spoken_video: tuple[Path, float],
) -> Iterator[tuple[Path, RunSummary]]:
    """A video espeak-ng speaks in, stored with no speech engine (so with no transcript), in an
    adref home of its own that each test sets again (the Korean clip's fixture sets another)."""
    from adref.flows.analyze_video import analyze_video

    home = tmp_path_factory.mktemp("unheard-home")
    with pytest.MonkeyPatch.context() as mp:
        _home(mp, home)
        summary = analyze_video(source=str(spoken_video[0]))
        assert summary.status == "completed"
    reset_settings()
    yield home, summary
    reset_settings()


def _home(mp: pytest.MonkeyPatch, home: Path) -> None:
    mp.setenv("ADREF_HOME", str(home))
    mp.setenv("ADREF_RETRY_DELAY_S", "0.1")
    mp.setenv("ADREF_OUTPUT_LANGUAGE", "ko")
    mp.setenv("ADREF_SPEECH_ENGINE", "none")
    mp.delenv("ADREF_WAREHOUSE_DIR", raising=False)
    reset_settings()


def _transcript() -> list[tuple[object, ...]]:
    return _query(
        "select start_s, end_s, text, language, provider, model from transcripts order by start_s"
    )


def test_reanalyze_with_speech_hears_the_kept_copy_stores_and_uses_it(
    unheard: tuple[Path, RunSummary],
    spoken_video: tuple[Path, float],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from adref.flows.reanalyze import reanalyze_video

    home, first = unheard
    vid = first.video_id
    assert vid is not None
    _home(monkeypatch, home)
    assert _transcript() == [], "stored before speech was heard"
    (before,) = _query("select summary from analyses")
    assert "내레이션" not in str(before[0])
    with FakeOpenAI() as fake:
        monkeypatch.setenv("ADREF_SPEECH_ENGINE", "openai")
        monkeypatch.setenv("ADREF_OPENAI_API_KEY", SPEECH_KEY)
        monkeypatch.setenv("ADREF_OPENAI_BASE_URL", fake.base_url)
        reset_settings()
        fake.push(Reply.json(_verbose(SENTENCE)))
        again = reanalyze_video(video_id=vid, speech=True)
        (upload,) = fake.uploads
    assert again.status == "completed" and again.notes == []
    (speech,) = [s for s in again.stages if s.stage == "speech"]
    assert (speech.tasks, speech.cached) == (2, 0), "heard from the kept copy, then stored"
    assert upload.wav()[3] == pytest.approx(spoken_video[1], abs=0.15), "the kept copy's track"
    assert read_track_bytes(upload.audio, tmp_path).peak_dbfs > -30, "the voice, not silence"
    assert _transcript() == [
        (0.2, 1.5, "Buy one coffee", "en", "openai", "whisper-1"),
        (1.5, 2.5, "get one free.", "en", "openai", "whisper-1"),
    ]
    assert again.analysis_id == first.analysis_id, "the same analysis, now told what is said"
    (analyzed,) = [s for s in again.stages if s.stage == "analyze"]
    assert analyzed.cached == 0, "the words given changed, so the model is asked again"
    ((hook, summary),) = _query("select hook, summary from analyses")
    assert "내레이션 “Buy one coffee”" in str(hook) and "영어 내레이션 분당" in str(summary)

    # A plain re-analysis reads the stored transcript: its request is the one --speech analysed
    # (the same words' key), so that answer is served from the cache.
    monkeypatch.setenv("ADREF_SPEECH_ENGINE", "none")
    reset_settings()
    plain = reanalyze_video(video_id=vid)
    assert (plain.tasks, plain.cache_hits) == (2, 2)


def test_reanalyze_with_speech_and_no_engine_keeps_the_transcript_says_so_and_analyses(
    unheard: tuple[Path, RunSummary], prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.speech.run import SKIPPED

    home, first = unheard
    vid = first.video_id
    assert vid is not None
    _home(monkeypatch, home)
    Warehouse(get_settings().warehouse).write_transcript(vid, _heard("지금 주문하세요"))
    stored = _transcript()
    runs = _query("select count(*) from runs")[0][0]

    ran = _adref([vid, "--speech", "--yes"], home, prefect_api, "ko")
    assert ran.exit_code == 0, ran.output
    assert "completed" in ran.stdout and "Traceback" not in ran.stderr
    said = [line for line in ran.stderr.splitlines() if line.startswith("note:")]
    assert said == [f"note: {vid}: {SKIPPED}"], ran.stderr
    assert _transcript() == stored, "no engine: the stored transcript is left alone"
    assert _query("select count(*) from runs") == [(runs + 1,)]
    ((status, notes),) = _query("select status, notes from runs order by started_at desc limit 1")
    assert status == "completed" and SKIPPED in str(notes)


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_reanalyze_with_speech_and_no_kept_copy_fails_in_one_line(
    unheard: tuple[Path, RunSummary], prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, first = unheard
    vid = first.video_id
    assert vid is not None
    _home(monkeypatch, home)
    ((media,),) = _query(f"select media_path from videos where video_id = '{vid}'")
    kept = get_settings().warehouse / str(media)
    away = kept.rename(home / kept.name)
    try:
        ran = _adref([vid, "--speech", "--text", "--yes"], home, prefect_api, "ko")
    finally:
        away.rename(kept)
    assert ran.exit_code == 1, ran.output
    failed = [line for line in ran.stderr.splitlines() if "no kept copy" in line]
    assert len(failed) == 1, ran.stderr
    assert f"no kept copy of {vid} to read its text and its voice-over from" in failed[0]
