"""The visiting order: a keyed permutation (a bijection, O(1) memory, resumable) that
spreads consecutive targets across /24s."""

from __future__ import annotations

import itertools
import tracemalloc
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.survey import SurveyConfig, prepare
from iotscope.survey._order import Permutation
from iotscope.survey._run import ordered_targets


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 3000), seed=st.integers(0, 2**63 - 1))
def test_every_index_exactly_once(size: int, seed: int) -> None:
    order = [Permutation(size, seed)[i] for i in range(size)]
    assert sorted(order) == list(range(size))


def test_seeds_give_different_orders_and_the_same_seed_the_same() -> None:
    a, b = Permutation(4096, 1), Permutation(4096, 2)
    first = [a[i] for i in range(50)]
    assert first == [Permutation(4096, 1)[i] for i in range(50)]
    assert first != [b[i] for i in range(50)]
    assert first != list(range(50))


def test_memory_is_constant_for_a_huge_scope() -> None:
    tracemalloc.start()
    perm = Permutation(2**32 - 1, 99)  # all of IPv4: nothing is listed
    seen = {perm[i] for i in range(1000)}
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(seen) == 1000 and all(0 <= x < 2**32 - 1 for x in seen)
    assert peak < 2_000_000


def test_resuming_from_a_position_continues_the_same_order() -> None:
    perm = Permutation(1000, 5)
    whole = list(perm.iter_from(0))
    assert list(perm.iter_from(617)) == whole[617:]


def _slash24_counts(addresses: list[str]) -> Counter[str]:
    return Counter(a.rsplit(".", 1)[0] for a in addresses)


def test_consecutive_targets_are_spread_across_slash24s(tmp_path: Path) -> None:
    scope = tmp_path / "scope.txt"
    scope.write_text("127.60.0.0/16\n")  # 256 /24s
    for seed in (1, 2, 3):
        prepared = prepare(SurveyConfig(scope=scope, seed=seed))
        order = [str(t.ip) for t in prepared.targets()]
        assert sorted(order) == sorted(str(a) for a in prepared.scope.addresses())
        for start in range(0, len(order), 256):  # every block of 256 consecutive targets
            window = _slash24_counts(order[start : start + 256])
            assert max(window.values()) <= 9  # ascending order would put all 256 in one
            assert len(window) >= 130  # ~162 distinct /24s expected at random
        same = sum(a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0] for a, b in itertools.pairwise(order))
        assert same < 3 * len(order) / 256  # ~1/256 of neighbours share a /24 at random


def test_ordered_targets_skip_done_positions_and_carry_positions(tmp_path: Path) -> None:
    scope = tmp_path / "scope.txt"
    scope.write_text("127.61.0.0/24\n")
    prepared = prepare(SurveyConfig(scope=scope, seed=7))
    everything = list(prepared.targets())
    rest = list(prepared.targets(lambda p: p < 100 or p % 2 == 0))
    assert [t.position for t in everything] == list(range(256))
    assert rest == [t for t in everything if t.position is not None and t.position >= 100
                    and t.position % 2]  # fmt: skip
    assert prepared.survey.counts["scope_size"] == 256
    assert prepared.survey.counts["seed"] == 7
    three = list(ordered_targets(3, 1, lambda i: everything[i]))
    assert sorted(str(t.ip) for t in three) == sorted(str(t.ip) for t in everything[:3])
