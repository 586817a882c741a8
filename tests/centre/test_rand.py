"""The adjusted Rand index against values worked by hand (Hubert and Arabie 1985)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.centre._rand import adjusted_rand, pair_scores


def test_identical_relabelled_partitions_score_one() -> None:
    truth = {1: "a", 2: "a", 3: "b", 4: "b", 5: "c"}
    assert adjusted_rand(truth, {1: 9, 2: 9, 3: 7, 4: 7, 5: 0}) == pytest.approx(1.0)


def test_worked_example() -> None:
    # truth {1,2,3}{4,5,6}; found {1,2}{3,4}{5,6}: pairs joined in both 2, index sums 6 and 3,
    # expected 6*3/15 = 1.2, ARI = (2 - 1.2) / (4.5 - 1.2) = 0.2424...
    truth = dict(zip(range(1, 7), "aaabbb", strict=True))
    found = dict(zip(range(1, 7), "xxyyzz", strict=True))
    assert adjusted_rand(truth, found) == pytest.approx(0.8 / 3.3)
    precision, recall = pair_scores(truth, found)
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 6)


def test_only_items_both_label_count() -> None:
    assert adjusted_rand({1: "a", 2: "a", 3: "b"}, {1: 0, 2: 0, 3: 1, 4: 1}) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=40))
def test_properties(pairs: list[tuple[int, int]]) -> None:
    truth = {i: a for i, (a, _) in enumerate(pairs)}
    found = {i: b for i, (_, b) in enumerate(pairs)}
    renamed = {i: f"x{b * 7}" for i, b in found.items()}
    assert adjusted_rand(truth, truth) == pytest.approx(1.0)
    assert adjusted_rand(truth, found) == pytest.approx(adjusted_rand(found, truth))
    assert adjusted_rand(truth, found) == pytest.approx(adjusted_rand(truth, renamed))
    assert adjusted_rand(truth, found) <= 1.0 + 1e-9
