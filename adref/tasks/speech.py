"""The voice-over, transcribed, cached on the video's content and what changes the transcript
(engine, model, language, endpoint, the step's version). Never raises for the engine: a failure
is the result's note (see ``adref.speech.run``). And, for a re-analysis, a transcript heard from
a stored video's kept copy, stored in place of its old one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import SpeechResult
from adref.settings import Settings
from adref.speech.params import SpeechParams
from adref.tasks.persist import refresh_search
from adref.tasks.policy import cache_key


def speech_key(content_hash: str, params: SpeechParams) -> str:
    return cache_key("speech", content_hash, params.model_dump_json())


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return speech_key(inputs["content_hash"], inputs["params"])


@task(name="speech", cache_key_fn=_key, persist_result=True)
def transcribe(
    path: Path, content_hash: str, params: SpeechParams, workspace: Path, settings: Settings
) -> SpeechResult:
    from adref.speech.run import transcribe_video  # lazy: PyAV and NumPy, for the audio track

    result = transcribe_video(path, workspace, params, settings)
    return result.model_copy(update={"key": speech_key(content_hash, params)})


@task(name="persist-transcript")
def persist_transcript(video_id: str, heard: SpeechResult, settings: Settings) -> int:
    """Replace the stored video's transcript (``adref reanalyze --speech``); its search entry is
    refreshed, as what it was said to say may have changed."""
    from adref.warehouse.catalog import Warehouse  # lazy: DuckDB

    Warehouse.of(settings).write_transcript(video_id, heard)
    refresh_search(video_id, settings)
    return len(heard.segments)
