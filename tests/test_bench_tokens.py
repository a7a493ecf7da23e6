"""``adref bench tokens``: counts, not timings, on two small real clips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import adref.cli  # noqa: F401  (registers every command)
from adref.bench.tokens import (
    MODES,
    SEED_MAX_FRAMES,
    TARGET,
    VENDORS,
    TokensBench,
    bench_clips,
    run_tokens_bench,
)
from adref.cli.app import app
from adref.providers.remote.cost_estimates import DEFAULT_MODELS, image_tokens
from adref.settings import Settings

SIZE = (320, 180)


@pytest.fixture(scope="module")
def clips_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("token-clips")


@pytest.fixture(scope="module")
def bench(clips_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> TokensBench:
    clips = bench_clips(clips_folder, ("ad", "single"), SIZE)
    return run_tokens_bench(clips, Settings(home=tmp_path_factory.mktemp("home")))


def test_clips_are_made_once_and_reused(clips_folder: Path, bench: TokensBench) -> None:
    steps: list[str] = []
    again = bench_clips(clips_folder, ("ad", "single"), SIZE, steps.append)
    assert [kind for kind, _ in again] == ["ad", "single"]
    assert all(p.exists() and p.parent == clips_folder for _, p in again)
    assert steps == []  # nothing made the second time


def test_every_group_is_represented(bench: TokensBench) -> None:
    assert [v.kind for v in bench.videos] == ["ad", "single"]
    ad = bench.videos[0]
    assert len(ad.groups) > 1  # the ad has several scenes; the single shot one
    assert len(bench.videos[1].groups) == 1
    for video in bench.videos:
        for vendor in VENDORS:
            for mode in MODES:
                assert video.represented(vendor, mode)
                shown = video.vendor(vendor).ours[mode].groups_shown
                assert sorted(shown) == video.groups
    assert all(bench.all_represented(v, m) for v in VENDORS for m in MODES)


def test_a_small_cap_on_images_drops_groups_only_in_frames_mode(
    clips_folder: Path, bench: TokensBench, tmp_path: Path
) -> None:
    clips = bench_clips(clips_folder, ("ad",), SIZE)
    capped = run_tokens_bench(clips, Settings(home=tmp_path, max_analysis_images=1))
    (video,) = capped.videos
    assert len(video.groups) > 1 and video.groups == bench.videos[0].groups
    for vendor in VENDORS:
        sheets, frames = (
            video.vendor(vendor).ours["contact_sheet"],
            video.vendor(vendor).ours["frames"],
        )
        assert sheets.images == 1 and video.represented(vendor, "contact_sheet")
        assert frames.images == 1 and not video.represented(vendor, "frames")
        assert not capped.meets_target(vendor, "frames")


def test_counts_follow_the_rules(bench: TokensBench) -> None:
    for video in bench.videos:
        assert (video.width, video.height) == SIZE
        n = len(video.groups)
        for vendor in VENDORS:
            v = video.vendor(vendor)
            assert v.model == DEFAULT_MODELS[vendor]
            seed_images = 1 + min(SEED_MAX_FRAMES, n)
            assert v.seed.images == seed_images
            assert v.seed.image_tokens == seed_images * image_tokens(vendor, v.model, *SIZE)
            assert v.ours["frames"].images == n
            assert 1 <= v.ours["contact_sheet"].images <= n
            sheets, frames = v.ours["contact_sheet"].image_tokens, v.ours["frames"].image_tokens
            # Claude bills by area: a sheet of frames already at ~180 px only adds its gaps
            assert sheets <= frames * (1.05 if vendor == "anthropic" else 1.0)
            assert v.prompt_tokens > 0


def test_ratios_are_consistent_with_the_table(bench: TokensBench) -> None:
    for vendor in VENDORS:
        totals = bench.totals(vendor)
        with_prompt = bench.totals(vendor, with_prompt=True)
        rows = [video.vendor(vendor) for video in bench.videos]
        assert totals["seed"] == sum(r.seed.image_tokens + r.seed.label_tokens for r in rows)
        for mode in MODES:
            ours = sum(r.ours[mode].image_tokens + r.ours[mode].label_tokens for r in rows)
            assert totals[mode] == ours
            assert bench.ratio(vendor, mode) == pytest.approx(ours / totals["seed"])
            prompts = sum(r.prompt_tokens for r in rows)
            assert with_prompt[mode] == ours + prompts
            assert bench.ratio(vendor, mode, True) == pytest.approx(
                (ours + prompts) / (totals["seed"] + prompts)
            )
            assert bench.meets_target(vendor, mode) == (bench.ratio(vendor, mode) <= TARGET)
            for r in rows:
                assert r.ratio(mode) == pytest.approx(r.tokens(r.ours[mode]) / r.tokens(r.seed))
        # contact sheets are what save tokens on a small video: far under the seed's
        assert bench.ratio(vendor, "contact_sheet") < bench.ratio(vendor, "frames")


def test_the_prompt_counts_the_on_screen_text_within_its_cap(
    clips_folder: Path, bench: TokensBench, tmp_path: Path
) -> None:
    ad, single = bench.videos
    assert bench.text_source == "the text stage"
    assert ad.text_lines > 0 and 0 < ad.text_tokens <= Settings().prompt_text_tokens + 200
    assert single.text_lines == 0 and single.text_tokens == 0
    # With no on-screen text sent, the ad's prompt is lighter by about that block.
    clips = bench_clips(clips_folder, ("ad",), SIZE)
    bare = run_tokens_bench(clips, Settings(home=tmp_path, prompt_text_tokens=0)).videos[0]
    assert bare.text_tokens == 0
    saved = ad.vendors[0].prompt_tokens - bare.vendors[0].prompt_tokens
    assert abs(saved - ad.text_tokens) <= 2


runner = CliRunner()


def test_cli_prints_a_table_and_the_target_line(clips_folder: Path, tmp_path: Path) -> None:
    args = ["bench", "tokens", "--size", "320x180", "--clips-dir", str(clips_folder)]
    result = runner.invoke(app, [*args, "--kind", "single"], env={"ADREF_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "picture input tokens per video" in result.output
    for vendor in VENDORS:
        assert f"{vendor}: ours/seed" in result.output
    assert result.output.count("Target <= 1/3 with every group represented") == 3
    assert "what the ad says:" in result.output
    assert "no voice-over: no speech engine configured" in result.output


def test_cli_json(clips_folder: Path, tmp_path: Path) -> None:
    args = ["bench", "tokens", "--size", "320x180", "--clips-dir", str(clips_folder), "--json"]
    result = runner.invoke(app, [*args, "--kind", "single"], env={"ADREF_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["target"] == pytest.approx(1 / 3)
    assert [v["kind"] for v in out["videos"]] == ["single"]
    for vendor in VENDORS:
        summary = out["summary"][vendor]
        assert set(summary["ratio"]) == set(MODES)
        assert summary["every_group_represented"] == {m: True for m in MODES}


def test_cli_rejects_a_bad_size(clips_folder: Path) -> None:
    result = runner.invoke(app, ["bench", "tokens", "--size", "big", "--clips-dir", "x"])
    assert result.exit_code != 0
    assert "WIDTHxHEIGHT" in result.output
