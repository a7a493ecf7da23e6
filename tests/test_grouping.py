"""Scene grouping on hand-built shots: structure, granularity, looks, time, representatives."""

from __future__ import annotations

import random

import numpy as np
import pytest

from adref.errors import InputError
from adref.grouping import group_shots, is_short_form
from adref.models import Grouping, Shot
from tests.factories import make_shot, make_shots, make_stream, random_shots


def assert_well_formed(grouping: Grouping, shots: list[Shot], max_groups: int = 10) -> None:
    """Every shot in exactly one group; groups numbered 0.. in time order; spans from members."""
    by_index = {s.shot_index: s for s in shots}
    seen = [i for g in grouping.groups for i in g.shot_indices]
    assert sorted(seen) == sorted(by_index)
    for number, group in enumerate(grouping.groups):
        assert group.group_index == number
        assert group.shot_indices == sorted(group.shot_indices)
        members = [by_index[i] for i in group.shot_indices]
        assert group.start_s == min(s.start_s for s in members)
        assert group.end_s == max(s.end_s for s in members)
        assert group.representative_shot in group.shot_indices
    firsts = [g.start_s for g in grouping.groups]
    assert firsts == sorted(firsts)
    chosen = grouping.analysis_groups
    assert chosen == sorted(set(chosen))
    assert 1 <= len(chosen) <= max_groups
    assert all(0 <= i < len(grouping.groups) for i in chosen)


def looks_of(grouping: Grouping, shots: list[Shot], looks: list[str]) -> list[set[str]]:
    position = {s.shot_index: n for n, s in enumerate(shots)}
    return [{looks[position[i]] for i in g.shot_indices} for g in grouping.groups]


# --- granularity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "n_looks", "vertical", "seed"),
    [(8, 3, False, 1), (25, 5, True, 2), (60, 8, False, 3), (140, 20, False, 4), (40, 1, True, 5)],
)
def test_a_finer_granularity_never_gives_fewer_groups(
    n: int, n_looks: int, vertical: bool, seed: int
) -> None:
    shots = random_shots(n, n_looks=n_looks, seed=seed)
    size = (1080, 1920) if vertical else (1920, 1080)
    stream = make_stream(shots[-1].end_s, *size)
    counts = []
    for granularity in range(1, 11):
        grouping = group_shots(shots, stream, granularity)
        assert_well_formed(grouping, shots)
        assert grouping.granularity == granularity
        counts.append(len(grouping.groups))
    assert counts == sorted(counts)
    if n_looks > 1:
        assert counts[0] < counts[-1]


def test_granularity_and_image_cap_are_checked() -> None:
    shots = make_shots([("warm", 2.0)])
    with pytest.raises(InputError, match="granularity"):
        group_shots(shots, make_stream(2.0), granularity=0)
    with pytest.raises(InputError, match="granularity"):
        group_shots(shots, make_stream(2.0), granularity=11)
    with pytest.raises(InputError, match="max_groups"):
        group_shots(shots, make_stream(2.0), max_groups=0)
    with pytest.raises(InputError, match="no shots"):
        group_shots([], make_stream(2.0))


# --- looks and time ----------------------------------------------------------------------


def test_similar_adjacent_shots_merge_and_distinct_looks_split() -> None:
    looks = ["warm"] * 3 + ["cool"] * 3 + ["green"] * 3
    shots = make_shots([(look, 10.0) for look in looks], jitter=0.01)
    grouping = group_shots(shots, make_stream(90.0))
    assert_well_formed(grouping, shots)
    assert [g.shot_indices for g in grouping.groups] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_each_distinct_look_is_its_own_group_at_the_default_level() -> None:
    looks = ["warm", "cool", "green", "purple", "white_card"]
    shots = make_shots([(look, 20.0) for look in looks])
    grouping = group_shots(shots, make_stream(100.0))
    assert looks_of(grouping, shots, looks) == [{look} for look in looks]


def test_a_cross_cut_near_in_time_joins_its_look() -> None:
    looks = ["green", "green", "warm", "cool", "warm", "purple", "purple", "red", "red"]
    lengths = [3.0, 2.0, 2.0, 1.0, 2.0, 3.0, 2.0, 3.0, 2.0]
    shots = make_shots(list(zip(looks, lengths, strict=True)), jitter=0.02)
    grouping = group_shots(shots, make_stream(sum(lengths)))
    assert_well_formed(grouping, shots)
    warm = next(g for g in grouping.groups if 2 in g.shot_indices)
    assert warm.shot_indices == [2, 4]
    assert (warm.start_s, warm.end_s) == (shots[2].start_s, shots[4].end_s)
    assert any(g.shot_indices == [3] for g in grouping.groups)


def test_look_alikes_far_apart_stay_apart_by_default_but_join_at_the_coarsest() -> None:
    looks = ["warm", "cool", "green", "purple", "red", "warm"]
    lengths = [10.0, 40.0, 40.0, 40.0, 40.0, 10.0]
    shots = make_shots(list(zip(looks, lengths, strict=True)))
    stream = make_stream(sum(lengths))
    default = group_shots(shots, stream)
    assert not any({0, 5} <= set(g.shot_indices) for g in default.groups)
    coarsest = group_shots(shots, stream, granularity=1)
    assert any({0, 5} <= set(g.shot_indices) for g in coarsest.groups)


def test_a_short_vertical_ad_still_gets_several_groups() -> None:
    looks = ["warm", "warm", "cool", "warm", "cool", "green", "green", "red", "warm", "white_card"]
    shots = make_shots([(look, 1.5) for look in looks], jitter=0.02)
    stream = make_stream(15.0, 1080, 1920)
    grouping = group_shots(shots, stream)
    assert grouping.short_form
    assert 4 <= len(grouping.groups) <= len(shots)


def test_short_form_is_vertical_or_at_most_a_minute() -> None:
    assert is_short_form(make_stream(30.0))
    assert is_short_form(make_stream(300.0, 1080, 1920))
    assert not is_short_form(make_stream(120.0))


def test_shots_without_feature_vectors_still_group_by_palette_and_light() -> None:
    looks = ["warm", "warm", "cool", "cool"]
    shots = [s.model_copy(update={"vector": []}) for s in make_shots([(x, 20.0) for x in looks])]
    grouping = group_shots(shots, make_stream(80.0))
    assert [g.shot_indices for g in grouping.groups] == [[0, 1], [2, 3]]


# --- representatives ---------------------------------------------------------------------


def test_the_representative_is_never_a_black_shot_when_another_exists() -> None:
    shots = make_shots([("black", 6.0), ("warm", 1.0), ("cool", 1.0)])
    grouping = group_shots(shots, make_stream(8.0), granularity=1)
    assert len(grouping.groups) == 1
    assert grouping.groups[0].representative_shot != 0


def test_an_all_black_group_still_has_a_representative() -> None:
    shots = make_shots([("black", 2.0)])
    grouping = group_shots(shots, make_stream(2.0))
    assert grouping.groups[0].representative_shot == 0


def test_the_representative_prefers_a_long_typical_shot() -> None:
    shots = make_shots([("warm", 0.3), ("warm", 4.0), ("warm", 0.3)], jitter=0.01)
    grouping = group_shots(shots, make_stream(4.6), granularity=1)
    assert len(grouping.groups) == 1
    assert grouping.groups[0].representative_shot == 1


# --- images for the analyser -------------------------------------------------------------


def test_all_groups_are_analysed_when_there_are_few() -> None:
    shots = make_shots([(x, 20.0) for x in ["warm", "cool", "green"]])
    grouping = group_shots(shots, make_stream(60.0), max_groups=10)
    assert grouping.analysis_groups == list(range(len(grouping.groups)))


def test_analysis_images_are_capped_and_cover_the_whole_timeline() -> None:
    shots = random_shots(400, n_looks=60, seed=7)
    duration = shots[-1].end_s
    grouping = group_shots(shots, make_stream(duration), granularity=10, max_groups=8)
    assert_well_formed(grouping, shots, max_groups=8)
    assert len(grouping.groups) > 8
    chosen = grouping.analysis_groups
    assert len(chosen) == 8
    assert chosen[0] == 0 and chosen[-1] == len(grouping.groups) - 1
    starts = [grouping.groups[i].start_s for i in chosen]
    assert max(np.diff(starts)) < duration / 4


def test_the_most_distinct_look_in_a_stretch_is_chosen() -> None:
    looks = ["warm", "green", "red", "cool", "purple", "warm"]
    shots = make_shots([(look, 20.0) for look in looks])
    grouping = group_shots(shots, make_stream(120.0), granularity=10, max_groups=3)
    assert len(grouping.groups) == 6
    assert grouping.analysis_groups == [0, 3, 5]


def test_one_image_goes_to_the_group_with_most_screen_time() -> None:
    shots = make_shots([("warm", 5.0), ("cool", 50.0), ("green", 5.0)])
    grouping = group_shots(shots, make_stream(60.0), granularity=10, max_groups=1)
    assert grouping.analysis_groups == [1]


# --- sizes and determinism ---------------------------------------------------------------


def test_one_shot() -> None:
    shots = make_shots([("warm", 5.0)])
    grouping = group_shots(shots, make_stream(5.0))
    assert_well_formed(grouping, shots)
    assert [g.shot_indices for g in grouping.groups] == [[0]]
    assert grouping.analysis_groups == [0]


@pytest.mark.parametrize(("second", "expected"), [("warm", 1), ("cool", 2)])
def test_two_shots(second: str, expected: int) -> None:
    shots = make_shots([("warm", 40.0), (second, 40.0)], jitter=0.01)
    grouping = group_shots(shots, make_stream(80.0))
    assert_well_formed(grouping, shots)
    assert len(grouping.groups) == expected


def test_two_thousand_shots() -> None:
    shots = random_shots(2000, n_looks=30, seed=11)
    stream = make_stream(shots[-1].end_s)
    counts = []
    for granularity in (1, 5, 10):
        grouping = group_shots(shots, stream, granularity)
        assert_well_formed(grouping, shots)
        counts.append(len(grouping.groups))
    assert counts == sorted(counts)
    assert counts[0] < counts[-1]


def test_grouping_is_deterministic_and_ignores_input_order() -> None:
    shots = random_shots(120, n_looks=10, seed=3)
    stream = make_stream(shots[-1].end_s)
    first = group_shots(shots, stream)
    shuffled = shots[:]
    random.Random(0).shuffle(shuffled)
    assert group_shots(shots, stream) == first
    assert group_shots(shuffled, stream) == first


def test_shot_indexes_are_kept_not_positions() -> None:
    shots = [
        make_shot(10 + i, 20.0 * i, 20.0 * (i + 1), look) for i, look in enumerate(["warm", "cool"])
    ]
    grouping = group_shots(shots, make_stream(40.0))
    assert [g.shot_indices for g in grouping.groups] == [[10], [11]]
    assert [g.representative_shot for g in grouping.groups] == [10, 11]
