"""The install: Python, the packages adref leans on, exactly one OpenCV, the bundled ffmpeg,
Tesseract's language data, the speech engine's set-up."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

from adref.doctor.check import Check
from adref.errors import AdrefError
from adref.ocr import engine, tessdata
from adref.settings import Settings
from adref.speech.local import check_model_dir

REINSTALL = "run `make install` (or `uv sync --locked`) in adref's folder"
PACKAGES = ("prefect", "duckdb", "yt-dlp", "av", "imageio-ffmpeg", "scenedetect", "tesserocr")
# DuckDB loads these extensions from their packages: each must match DuckDB's own version.
DUCKDB_EXTENSIONS = ("duckdb-extension-ducklake", "duckdb-extension-sqlite-scanner")
OPENCVS = (
    "opencv-python",
    "opencv-contrib-python",
    "opencv-python-headless",
    "opencv-contrib-python-headless",
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] == (3, 11):
        return Check("python", "ok", version)
    return Check("python", "warning", f"{version}: adref is built and tested on 3.11", REINSTALL)


def package_checks() -> list[Check]:
    checks = []
    for name in PACKAGES:
        version = _version(name)
        if version is None:
            checks.append(Check(name, "error", "not installed", REINSTALL))
        else:
            checks.append(Check(name, "ok", version))
    duckdb = _version("duckdb")
    for name in DUCKDB_EXTENSIONS:
        version = _version(name)
        if version is None:
            checks.append(Check(name, "error", "not installed", REINSTALL))
        elif version != duckdb:
            checks.append(
                Check(
                    name, "error", f"{version}, but DuckDB is {duckdb}: it will not load", REINSTALL
                )
            )
        else:
            checks.append(Check(name, "ok", version))
    return checks


def opencv_check(installed: dict[str, str | None] | None = None) -> Check:
    """Two OpenCV packages write the same ``cv2`` folder, and whichever came last wins."""
    found = installed if installed is not None else {name: _version(name) for name in OPENCVS}
    present = {name: v for name, v in found.items() if v}
    if list(present) == ["opencv-python-headless"]:
        return Check("opencv", "ok", f"opencv-python-headless {present['opencv-python-headless']}")
    if not present:
        return Check("opencv", "error", "no OpenCV installed", REINSTALL)
    names = ", ".join(f"{n} {v}" for n, v in present.items())
    extra = [n for n in present if n != "opencv-python-headless"]
    return Check(
        "opencv",
        "error",
        f"{names}: adref needs exactly one, the headless build",
        f"pip uninstall {' '.join(extra)}, then {REINSTALL}",
    )


def ffmpeg_check() -> Check:
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        done = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
        )
    except Exception as exc:
        return Check("ffmpeg", "error", f"not usable: {type(exc).__name__}: {exc}", REINSTALL)
    first = (done.stdout.strip().splitlines() or [""])[0]
    if done.returncode != 0 or not first:
        return Check("ffmpeg", "error", f"{exe} -version failed ({done.returncode})", REINSTALL)
    version = first.removeprefix("ffmpeg version ").split(" ")[0]
    return Check("ffmpeg", "ok", f"{version}, bundled by imageio-ffmpeg, runs")


def tesseract_check(settings: Settings) -> Check:
    """The text stage needs every language of ADREF_OCR_LANGUAGES; without one, runs still store
    their videos but read no on-screen text (a warning, not an error)."""
    spec = settings.ocr_languages
    try:
        folder = tessdata.tessdata_dir(spec, settings.tessdata_dir)
    except AdrefError as exc:
        what = f"{exc.what} ({exc.why}): on-screen text is not read"
        return Check("tesseract", "warning", what, exc.hint)
    return Check("tesseract", "ok", f"{engine.version()}, {spec} from {folder}")


def speech_check(settings: Settings) -> Check:
    """The speech step never fails a run, so a set-up that would make it fail is a warning."""
    engine_name = settings.speech_engine
    if engine_name == "none":
        return Check("speech", "ok", "off (ADREF_SPEECH_ENGINE=none): the step is skipped")
    if engine_name != "local":
        return Check("speech", "ok", f"{engine_name} (its key is checked with the providers)")
    try:
        folder = check_model_dir(settings.speech_model_dir)
    except AdrefError as exc:
        return Check("speech", "warning", f"{exc.what} ({exc.why})", exc.hint)
    return Check("speech", "ok", f"local: faster-whisper on {folder}")
