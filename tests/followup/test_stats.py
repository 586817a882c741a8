"""Interval estimates against published worked examples."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iotscope.followup import kaplan_meier, newcombe, wilson


def test_wilson_matches_newcombe_1998_table() -> None:
    # Newcombe (1998), Stat Med 17:857, Table II, method 3 (score, no continuity correction)
    p = wilson(81, 263)
    assert (round(p.low, 4), round(p.high, 4)) == (0.2553, 0.3662)
    p = wilson(15, 148)
    assert (round(p.low, 4), round(p.high, 4)) == (0.0624, 0.1605)
    p = wilson(0, 20)
    assert p.low == 0.0 and round(p.high, 4) == 0.1611
    p = wilson(1, 29)
    assert (round(p.low, 4), round(p.high, 4)) == (0.0061, 0.1718)


def test_newcombe_difference_matches_newcombe_1998_table() -> None:
    # Newcombe (1998), Stat Med 17:873, Table II example (a): 56/70 - 48/80, method 10
    d = newcombe(56, 70, 48, 80)
    assert round(d.estimate, 4) == 0.2
    assert (round(d.low, 4), round(d.high, 4)) == (0.0524, 0.3339)
    # example (c): 5/56 - 0/29
    d = newcombe(5, 56, 0, 29)
    assert (round(d.low, 4), round(d.high, 4)) == (-0.0381, 0.1926)


def test_wilson_empty_and_bad_input() -> None:
    assert math.isnan(wilson(0, 0).estimate)
    with pytest.raises(ValueError):
        wilson(3, 2)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_brackets_the_estimate(k: int, n: int) -> None:
    k = min(k, n)
    p = wilson(k, n)
    assert 0.0 <= p.low <= p.estimate <= p.high <= 1.0


def test_kaplan_meier_textbook_example() -> None:
    # Freireich et al. (1963) 6-MP arm, as in Kleinbaum & Klein, Survival Analysis, ch. 2:
    # S(6)=0.857, S(7)=0.807, S(10)=0.753, S(13)=0.690, S(16)=0.627, S(22)=0.538, S(23)=0.448
    times = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
    events = [True] * 9 + [False] * 12
    km = kaplan_meier(times, events)
    got = {t: round(km.at(t)[0], 3) for t in (6, 7, 10, 13, 16, 22, 23)}
    assert got == {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    assert km.median() == 23
    # Greenwood log-log interval at t=6 (R survfit conf.type="log-log": 0.620, 0.952)
    _, low, high = km.at(6)
    assert (round(low, 3), round(high, 3)) == (0.620, 0.952)
    assert km.at(0) == (1.0, 1.0, 1.0)


def test_kaplan_meier_no_events_and_all_events() -> None:
    flat = kaplan_meier([3, 5, 8], [False, False, False])
    assert flat.survival == (1.0, 1.0, 1.0) and flat.median() is None
    drop = kaplan_meier([1, 2], [True, True])
    assert drop.survival == (0.5, 0.0) and drop.at(2)[2] == 0.0


def test_kaplan_meier_of_nothing() -> None:
    empty = kaplan_meier([], [])
    assert empty.times == () and empty.median() is None and empty.at(5) == (1.0, 1.0, 1.0)


def test_family_z_is_bonferroni() -> None:
    from iotscope.followup._stats import Z95, family_z

    assert family_z(1) == Z95
    assert family_z(4) == pytest.approx(2.497705, abs=1e-6)  # the 0.99375 normal quantile
    assert family_z(8) == pytest.approx(2.734369, abs=1e-6)  # the 0.996875 quantile
    with pytest.raises(ValueError):
        family_z(0)


@given(st.integers(0, 300), st.integers(1, 300), st.integers(2, 12))
def test_simultaneous_interval_contains_the_single_one(k: int, n: int, m: int) -> None:
    from iotscope.followup._stats import family_z

    k = min(k, n)
    one, wide = wilson(k, n), wilson(k, n, family_z(m))
    assert wide.low <= one.low <= one.high <= wide.high
