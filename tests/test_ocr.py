"""The text step on made-up frames and a made-up video: known Korean and English supers on
plain and busy backgrounds are read back (the character error rate is printed, bounded
loosely), frames without text give no text, and noise and repeats are dropped."""

from __future__ import annotations

from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
import tesserocr
from PIL import Image

from adref.errors import InputError
from adref.models import DetectResult, ShotText
from adref.ocr import engine, tessdata
from adref.ocr.params import TextParams
from adref.ocr.read import kept, plan, read_frame, read_texts
from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from tests.factories import make_shot
from tests.support.text_frames import Super, cer, frame

PARAMS = TextParams()
_LOOSE_CER = 0.15  # per super; the prepared lines read here at 0.0-0.1

CASES = {
    "plain": [
        Super("지금 바로 구매하세요", 300, 700, 72, (20, 20, 20)),
        Super("SUMMER SALE 50%", 300, 200, 80, (20, 20, 20)),
    ],
    "dark": [Super("브랜드 캠페인 2026", 400, 500, 70)],
    "gradient": [
        Super("신제품 출시", 500, 760, 90),
        Super("Free shipping today", 400, 150, 64),
    ],
    "shapes": [
        Super("한정 수량 특가", 400, 600, 96, shadow=True),
        Super("NEW ARRIVAL", 600, 200, 80, (255, 230, 60)),
    ],
}


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("kind", list(CASES))
def test_supers_are_read_on_plain_and_busy_backgrounds(kind: str) -> None:
    supers = CASES[kind]
    rows = read_frame(grey(frame(kind, supers, seed=3)), PARAMS)
    for s in supers:
        rate = min((cer(s.text, r.text) for r in rows), default=1.0)
        print(f"{kind}: {s.text!r} read with a character error rate of {rate:.3f}")
        assert rate <= _LOOSE_CER, [r.text for r in rows]
    assert len(rows) == len(supers), "one row per super, nothing else"
    for row in rows:
        assert 0.6 <= row.confidence <= 1.0
        assert row.language == ("kor" if any("가" <= c <= "힣" for c in row.text) else "eng")
        x, y, w, h = row.box
        assert 0 <= x < x + w <= 1920 and 0 <= y < y + h <= 1080


@pytest.mark.parametrize("kind", ["gradient", "shapes"])
def test_preparing_the_lines_reads_what_the_raw_frame_does_not(kind: str) -> None:
    """The baseline: Tesseract's own page layout on the whole frame (here it reads nothing of
    these supers); the prepared lines must do at least as well on every super."""
    picture = frame(kind, CASES[kind], seed=3)
    folder = tessdata.tessdata_dir(PARAMS.languages, None)
    with tesserocr.PyTessBaseAPI(path=f"{folder}/", lang=PARAMS.languages) as api:
        api.SetImage(Image.fromarray(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)))
        raw = [line for line in api.GetUTF8Text().splitlines() if line.strip()]
    prepared = [r.text for r in read_frame(grey(picture), PARAMS)]
    for s in CASES[kind]:
        before = min((cer(s.text, t) for t in raw), default=1.0)
        after = min((cer(s.text, t) for t in prepared), default=1.0)
        print(f"{kind}: {s.text!r} raw frame CER {before:.2f}, prepared lines CER {after:.2f}")
        assert after <= before


def test_where_a_line_is_read_is_where_it_was_drawn() -> None:
    (row,) = read_frame(grey(frame("gradient", [Super("Free shipping", 700, 420, 64)])), PARAMS)
    x, y, w, h = row.box
    assert x <= 700 + 10 and y <= 420 + 30 and x + w >= 700 + 380 and y + h >= 420 + 70


@pytest.mark.parametrize("kind", ["plain", "dark", "gradient", "shapes"])
def test_frames_without_text_give_no_text(kind: str) -> None:
    assert read_frame(grey(frame(kind, [], seed=5)), PARAMS) == []


def test_the_confidence_threshold_is_a_setting() -> None:
    picture = grey(frame("gradient", CASES["gradient"], seed=3))
    assert len(read_frame(picture, PARAMS)) == 2
    assert read_frame(picture, TextParams(min_confidence=0.999)) == []


def line(text: str, confidence: float, y: int = 100) -> ShotText:
    return ShotText(
        shot_index=0, start_s=0.0, text=text, confidence=confidence, box=(10, y, 200, 40)
    )


def test_repeats_collapse_to_the_most_confident_and_noise_is_dropped() -> None:
    rows = [
        line("SUMMER SALE", 0.81, y=300),
        line("SUMMER SALE", 0.93, y=310),
        line("SUMMER SA1E", 0.88, y=305),  # one letter misread in another frame
        line("지금 구매", 0.9, y=500),
        line("|||", 0.95),  # a texture
        line("x", 0.99),  # fewer than two letters
        line("SHOP NOW", 0.4),  # under the threshold
    ]
    assert [(r.text, r.confidence) for r in kept(rows, 0.6)] == [
        ("SUMMER SALE", 0.93),
        ("지금 구매", 0.9),
    ]
    assert [r.text for r in kept(rows, 0.3)] == ["SHOP NOW", "SUMMER SALE", "지금 구매"]  # by y


def test_the_line_language_is_the_script_it_is_written_in() -> None:
    assert engine.language_of("지금 구매 NOW", "kor+eng") == "kor"
    assert engine.language_of("Shop now 50%", "kor+eng") == "eng"
    assert engine.language_of("2026 50%", "kor+eng") is None
    assert engine.language_of("Shop now", "kor") is None


def test_missing_language_data_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        tessdata.tessdata_dir("kor+eng", tmp_path)
    assert "Tesseract language data for kor+eng not found" in caught.value.one_line()
    assert "ADREF_TESSDATA_DIR" in str(caught.value.hint)


def test_only_flagged_shots_are_read_and_long_ones_are_probed() -> None:
    short = make_shot(0, 0.0, 0.8).model_copy(update={"keyframe_s": 0.4, "has_text": True})
    plain = make_shot(1, 0.8, 3.0).model_copy(update={"has_text": False})
    long = make_shot(2, 3.0, 5.0).model_copy(update={"keyframe_s": 3.3, "has_text": True})
    times = [(m.shot.shot_index, round(m.time_s, 2)) for m in plan([short, plain, long])]
    assert times == [(0, 0.4), (2, 3.3), (2, 4.7)]  # at 85 %; 2 s is too short for 15 %


def _write_video(path: Path, pictures: list[np.ndarray], fps: int = 25) -> None:
    h, w = pictures[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=fps,
        pix_fmt_in="bgr24",
        codec="libx264",
        macro_block_size=1,
        output_params=["-g", "50", "-crf", "20", "-preset", "veryfast"],
    )
    writer.send(None)
    for picture in pictures:
        writer.send(np.ascontiguousarray(picture))
    writer.close()


def test_text_that_appears_during_a_shot_is_read_once(tmp_path: Path) -> None:
    """One 3 s shot: a super held throughout, a second one from 2.4 s on."""
    held = Super("한정 수량 특가", 200, 200, 90)
    late = Super("Shop now", 300, 760, 90)
    before = frame("gradient", [held], seed=1)
    after = frame("gradient", [held, late], seed=1)
    scale = (1280, 720)
    pictures = [cv2.resize(before, scale)] * 60 + [cv2.resize(after, scale)] * 15
    video = tmp_path / "super.mp4"
    _write_video(video, pictures)
    detected = detect_shots(video, DetectParams())
    assert len(detected.shots) == 1 and detected.shots[0].has_text
    result = read_texts(video, detected.shots, PARAMS)
    texts = sorted(r.text for r in result.texts)
    print("read:", texts, f"from {result.frames_read} frames")
    assert len(texts) == 2
    assert min(cer(held.text, t) for t in texts) <= _LOOSE_CER
    assert min(cer(late.text, t) for t in texts) <= _LOOSE_CER
    assert result.engine.startswith("tesseract-5") and result.engine.endswith(":kor+eng")


def test_without_language_data_text_is_skipped_in_one_line_and_read_once_installed(
    tmp_path: Path,
) -> None:
    """A machine without Tesseract's data still analyses its videos (make demo on a fresh one);
    the key differs once the data is there, so the text is then read, not served from cache."""
    from adref.settings import Settings
    from adref.tasks.text import text_key

    shot = make_shot(0, 0.0, 0.8).model_copy(update={"keyframe_s": 0.4, "has_text": True})
    empty = tmp_path / "tessdata"
    empty.mkdir()
    missing = TextParams.from_settings(Settings(home=tmp_path / "home", tessdata_dir=empty))
    installed = TextParams.from_settings(Settings(home=tmp_path / "home"))
    assert "Tesseract language data for kor+eng not found" in missing.unavailable
    assert installed.unavailable == ""

    result = read_texts(tmp_path / "never-opened.mp4", [shot], missing)
    assert result.texts == [] and result.frames_read == 0
    assert result.skipped.startswith("on-screen text not read: Tesseract language data")
    assert "apt-get install" in result.skipped and "\n" not in result.skipped

    detected = DetectResult.model_construct(shots=[shot], key="shots-key")
    assert text_key(detected, missing) != text_key(detected, installed)
