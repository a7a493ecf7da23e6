"""``adref bench cli``: the whole ``adref analyze`` as a user runs it, beside decoding alone.

Each command is a real process with a fresh ``ADREF_HOME``, so it pays what a user pays:
Python's start, imports, Prefect's server (started or reused, whatever the CLI does) and the
run. The first command finds no server; the later one analyses a different new video after it.
The first command's server start is taken apart on a ``prefect server start`` of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adref.bench.detect import SAMPLE_BITRATE, SAMPLE_SECONDS, SAMPLE_SIZE, decode_pyav
from adref.video.testclips import CLIPS_VERSION, make_clip

LATER_TARGET = 2.5  # a later command may cost at most this much more than decoding alone


@dataclass
class ServerStart:
    """What a Prefect server's start is made of, measured on one started alone."""

    import_s: float  # a process that only imports the server's app
    fresh_s: float  # `prefect server start` on a new database, until /api/health answers
    migrated_s: float  # the same again on the database the first start migrated

    @property
    def migrate_s(self) -> float:
        return max(0.0, self.fresh_s - self.migrated_s)


@dataclass
class CliBench:
    decode_s: float  # the first video decoded alone
    later_decode_s: float  # the later one's (another frame rate, so its own baseline)
    first_s: float
    later_s: float
    server: ServerStart
    stopped: str  # how the background server (if any) was stopped

    @property
    def first_ratio(self) -> float:
        return self.first_s / self.decode_s

    @property
    def later_ratio(self) -> float:
        return self.later_s / self.later_decode_s


def other_video(folder: Path) -> Path:
    """A second new 30 s 1080p ad: the sample drawn at 24 fps, so other content and video id."""
    w, h = SAMPLE_SIZE
    path = folder / f"sample-ad-v{CLIPS_VERSION}-{w}x{h}-{SAMPLE_SECONDS:g}s-24fps.mp4"
    if not (path.exists() and path.stat().st_size > 0):
        make_clip(
            "ad", path, width=w, height=h, fps=24.0, duration_s=SAMPLE_SECONDS,
            bitrate=SAMPLE_BITRATE,
        )  # fmt: skip
    return path


def _env(home: Path) -> dict[str, str]:
    """A user's environment with nothing of adref's or Prefect's: a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADREF_", "PREFECT_"))}
    env["ADREF_HOME"] = str(home)
    return env


def _timed_command(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    took = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{' '.join(args[1:3])} exited {done.returncode}: {last}")
    return took


def _adref() -> str:
    return str(Path(sys.executable).with_name("adref"))


def stop_background(home: Path, env: dict[str, str]) -> str:
    """Stop what the commands left running, as a user would: ``adref down``."""
    down = subprocess.run([_adref(), "down"], env=env, capture_output=True, text=True, timeout=120)
    return down.stdout.strip() or down.stderr.strip() or f"adref down: exit {down.returncode}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_until_healthy(prefect_home: Path) -> float:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    prefect = str(Path(sys.executable).with_name("prefect"))
    started = time.perf_counter()
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        while time.perf_counter() - started < 180:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                    return time.perf_counter() - started
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("prefect server start exited early") from None
                time.sleep(0.1)
        raise RuntimeError("prefect server start did not answer /api/health within 180 s")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def server_start(folder: Path) -> ServerStart:
    """A Prefect server alone: its imports, its first start (migrations) and a second one."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import prefect.server.api.server"], check=True, timeout=300
    )
    import_s = time.perf_counter() - started
    home = folder / "prefect-alone"
    home.mkdir()
    return ServerStart(import_s, _server_until_healthy(home), _server_until_healthy(home))


def run_cli_bench(video: Path, on_step: Callable[[str], None]) -> CliBench:
    folder = Path(tempfile.mkdtemp(prefix="adref-bench-cli-"))
    try:
        on_step("making a second new video ...")
        later_video = other_video(video.parent)
        home = folder / "home"
        env = _env(home)
        on_step("decoding alone ...")
        decode_s = _best_decode(video)
        try:
            on_step("the first command (no server yet) ...")
            first_s = _timed_command([_adref(), "analyze", str(video)], env)
            on_step("a later command (another new video) ...")
            later_s = _timed_command([_adref(), "analyze", str(later_video)], env)
        finally:
            stopped = stop_background(home, env)
        decode_s = min(decode_s, _best_decode(video))
        later_decode_s = min(_best_decode(later_video), _best_decode(later_video))
        on_step("a Prefect server started alone ...")
        server = server_start(folder)
        return CliBench(decode_s, later_decode_s, first_s, later_s, server, stopped)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _best_decode(video: Path) -> float:
    started = time.perf_counter()
    decode_pyav(video)
    return time.perf_counter() - started
