"""Providers from other distributions: the ``adref.providers`` entry-point group, for real.

Each test puts a tiny installed distribution on ``sys.path``: a ``*.dist-info`` folder (METADATA
and entry_points.txt, what pip writes) beside its module, exactly what a worker sees after
``pip install adref-echo``. No adref file changes; the registry must find it by itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adref.errors import InputError
from adref.grouping import group_shots
from adref.models import VideoMeta
from adref.providers import registry
from adref.providers.base import AnalysisRequest
from adref.providers.local import LocalProvider
from adref.providers.registry import available, get_provider
from adref.settings import get_settings
from adref.tasks.analyze import run_analysis
from tests.factories import make_shots, make_stream

BUILTINS = ["anthropic", "factchat", "gemini", "local", "openai"]

PLUGIN = '''
from adref.providers.base import AnalysisRequest, ProviderResult
from adref.providers.local import LocalProvider


class EchoProvider(LocalProvider):
    """The local analysis, signed: proves the answer came through the plug-in."""

    name = "echo"
    default_model = "echo-1"

    def analyze(self, request: AnalysisRequest) -> ProviderResult:
        result = super().analyze(request)
        content = result.content.model_copy(update={"summary": "answered by the echo plug-in"})
        return result.model_copy(update={"content": content, "model": "echo-1"})


def not_a_provider() -> str:
    return "a string"
'''

ENTRY_POINTS = """
[adref.providers]
echo = adref_echo:EchoProvider
broken = adref_echo_broken:BrokenProvider
stringly = adref_echo:not_a_provider
local = adref_echo:EchoProvider
"""


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An installed distribution ``adref-echo`` and a module whose import fails."""
    site = tmp_path_factory.mktemp("site-packages")
    info = site / "adref_echo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: adref-echo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / "adref_echo.py").write_text(PLUGIN)
    (site / "adref_echo_broken.py").write_text("raise ImportError('needs libecho.so')\n")
    return site


@pytest.fixture
def installed(plugin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(plugin_dir))
    return plugin_dir


def _request() -> AnalysisRequest:
    stream = make_stream(duration_s=12.0)
    shots = make_shots([("warm", 4.0), ("cool", 4.0), ("night", 4.0)])
    return AnalysisRequest(
        meta=VideoMeta(video_id="sha256:plugin"),
        stream=stream,
        shots=shots,
        grouping=group_shots(shots, stream, 5),
        output_language="en",
    )


def test_the_builtins_are_entry_points_too() -> None:
    assert available() == BUILTINS


def test_an_installed_distribution_adds_its_provider(installed: Path) -> None:
    assert available() == sorted([*BUILTINS, "broken", "echo", "stringly"])
    provider = get_provider("echo")
    assert type(provider).__module__ == "adref_echo" and provider.name == "echo"


def test_the_pipeline_analyses_with_the_plugin(installed: Path) -> None:
    outcome = run_analysis("echo", _request(), get_settings())
    assert outcome.analysis.provider == "echo"
    assert outcome.analysis.model == "echo-1"
    assert outcome.analysis.summary == "answered by the echo plug-in"


def test_a_broken_plugin_breaks_only_its_own_name(installed: Path) -> None:
    with pytest.raises(InputError) as caught:
        get_provider("broken")
    line = str(caught.value)
    assert "provider 'broken' could not be loaded" in line and "needs libecho.so" in line
    assert "adref-echo" in line and "\n" not in line
    with pytest.raises(InputError, match="not an adref provider"):
        get_provider("stringly")
    assert run_analysis("local", _request(), get_settings()).analysis.provider == "local"


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_plugin_cannot_replace_a_builtin(
    plugin_dir: Path, where: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whichever comes first on sys.path, adref's own ``local`` is the one used, and said so."""
    if where == "before":
        monkeypatch.syspath_prepend(str(plugin_dir))
    else:
        monkeypatch.setattr(sys, "path", [*sys.path, str(plugin_dir)])
    monkeypatch.setattr(registry, "_warned", set())
    assert type(get_provider("local")) is LocalProvider
    assert "provider 'local' is declared by adref and adref-echo; using adref's" in caplog.text
    assert type(get_provider("echo")).__module__ == "adref_echo"


def test_an_unknown_name_lists_what_is_installed(installed: Path) -> None:
    with pytest.raises(InputError) as caught:
        get_provider("ehco")
    assert "unknown provider 'ehco'" in str(caught.value)
    assert "installed providers: anthropic, broken, echo, factchat, gemini" in str(caught.value)


def test_an_environment_without_adrefs_entry_points_says_to_reinstall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A checkout used without installing it (or a venv synced before the entry points existed)."""
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "site-packages" not in p])
    with pytest.raises(InputError, match="reinstall adref"):
        get_provider("local")


def test_adref_analyze_uses_an_installed_plugin(
    prefect_api: str, tmp_path: Path, installed: Path, clip_ad
) -> None:
    """The command a user runs, in its own process: the plug-in is on PYTHONPATH only."""
    env = {**os.environ, "ADREF_HOME": str(tmp_path / "home"), "PREFECT_API_URL": prefect_api}
    env["PYTHONPATH"] = os.pathsep.join([str(installed), env.get("PYTHONPATH", "")])
    env.pop("ADREF_WAREHOUSE_DIR", None)

    def adref(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "adref", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    run = adref("analyze", str(clip_ad.path), "--provider", "echo")
    assert run.returncode == 0, run.stderr
    rows = adref("sql", "--format", "csv", "select provider, model, summary from analyses")
    assert rows.stdout.split("\n")[1] == "echo,echo-1,answered by the echo plug-in"
