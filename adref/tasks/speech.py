"""The voice-over, transcribed, cached on the video's content and what changes the transcript
(engine, model, language, endpoint, the step's version). Never raises for the engine: a failure
is the result's note (see ``adref.speech.run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import SpeechResult
from adref.settings import Settings
from adref.speech.run import SpeechParams, transcribe_video
from adref.tasks.policy import cache_key


def speech_key(content_hash: str, params: SpeechParams) -> str:
    return cache_key("speech", content_hash, params.model_dump_json())


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return speech_key(inputs["content_hash"], inputs["params"])


@task(name="speech", cache_key_fn=_key, persist_result=True)
def transcribe(
    path: Path, content_hash: str, params: SpeechParams, workspace: Path, settings: Settings
) -> SpeechResult:
    result = transcribe_video(path, workspace, params, settings)
    return result.model_copy(update={"key": speech_key(content_hash, params)})
