"""Capture-recapture over ISPs: closed forms worked by hand, and coverage on simulated sources."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.centre._capture import (
    MODELS,
    best_loglinear,
    bracket,
    chao2,
    frequencies,
    histories,
    loglinear,
    one_more,
)


def _incidence(counts: dict[str, int]) -> dict[int, frozenset[str]]:
    """``{"AB": 3}``: three items seen by ISPs A and B."""
    out: dict[int, frozenset[str]] = {}
    for seen, n in counts.items():
        for _ in range(n):
            out[len(out)] = frozenset(seen)
    return out


def test_histories_and_frequencies() -> None:
    cells = histories(_incidence({"A": 2, "B": 1, "AB": 3, "ABC": 1}), ["A", "B", "C"])
    assert cells.tolist() == [0, 2, 1, 3, 0, 0, 0, 1]
    assert frequencies(cells).tolist() == [0, 3, 3, 1]


def test_two_sources_independent_is_lincoln_petersen() -> None:
    # n10 = 30, n01 = 20, n11 = 10: unseen = 30 * 20 / 10 = 60, total 120
    e = loglinear(histories(_incidence({"A": 30, "B": 20, "AB": 10}), ["A", "B"]), "Mt")
    assert e.observed == 60 and e.total == pytest.approx(120, rel=1e-6)
    assert e.lower < 120 < e.upper and e.lower >= 60


def test_chao2_closed_form_and_lognormal_interval() -> None:
    # K = 3, Q1 = 10, Q2 = 5, Q3 = 5: Q0 = (2/3) 100 / 10 = 6.667
    cells = histories(_incidence({"A": 4, "B": 3, "C": 3, "AB": 5, "ABC": 5}), "ABC")
    e = chao2(cells)
    assert e.observed == 20 and e.total == pytest.approx(20 + 20 / 3)
    a, r = 2 / 3, 2.0
    var = 5 * (a / 2 * r**2 + a * a * r**3 + a * a / 4 * r**4)
    c = math.exp(1.959964 * math.sqrt(math.log(1 + var / (20 / 3) ** 2)))
    assert e.lower == pytest.approx(20 + 20 / 3 / c, rel=1e-5)
    assert e.upper == pytest.approx(20 + 20 / 3 * c, rel=1e-5)


def test_chao2_without_doubletons_and_with_nothing_unseen() -> None:
    e = chao2(histories(_incidence({"A": 4, "ABC": 2}), "ABC"))
    assert e.total == pytest.approx(6 + (2 / 3) * 4 * 3 / 2)
    closed = chao2(histories(_incidence({"ABC": 5}), "ABC"))
    assert (closed.total, closed.lower, closed.upper) == (5, 5, 5)


def test_loglinear_intervals_cover_simulated_truth() -> None:
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(20):
        caught = rng.random((400, 4)) < np.array([0.3, 0.2, 0.25, 0.15])
        inc = {i: frozenset("ABCD"[j] for j in range(4) if caught[i, j]) for i in range(400)}
        hits += loglinear(histories(inc, "ABCD"), "Mt").covers(400)
    assert hits >= 17  # nominal 95%: 19 of 20 expected


def test_best_model_is_one_of_the_identifiable() -> None:
    cells = histories(
        _incidence({"A": 9, "B": 7, "C": 8, "AB": 4, "AC": 3, "BC": 2, "ABC": 2}), "ABC"
    )
    e = best_loglinear(cells)
    assert e.method in {"Mt", "Mt+pairs", "Mth Darroch", "Mth Poisson2"}
    assert e.aic is not None and e.total >= e.observed


def test_one_more_source() -> None:
    inc = _incidence({"A": 4, "B": 2, "C": 0, "AB": 5, "ABC": 5})
    more = one_more(inc, ["A", "B", "C"])
    assert dict(more.only) == {"A": 4, "B": 2, "C": 0}
    q0 = chao2(histories(inc, "ABC")).unseen
    assert more.expected_new == pytest.approx(q0 * 6 / (3 * q0 + 6))
    assert 0 < more.expected_new < 6 / 3


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 5), st.lists(st.integers(1, 31), min_size=1, max_size=60))
def test_any_incidence_gives_ordered_estimates(k: int, codes: list[int]) -> None:
    """Whatever the ISPs saw: every estimate is at least the observed count and inside its own
    interval, or says it is not identified (infinite)."""
    sources = "ABCDE"[:k]
    inc = {
        i: frozenset(s for j, s in enumerate(sources) if c >> j & 1) for i, c in enumerate(codes)
    }
    cells = histories(inc, sources)
    n = int(cells.sum())
    for e in [chao2(cells)] + [loglinear(cells, m) for m, (_, need) in MODELS.items() if k >= need]:
        assert e.observed == n
        if e.identified:
            assert n - 1e-6 <= e.lower <= e.total + 1e-6 and e.total <= e.upper + 1e-6
    assert one_more(inc, sources).expected_new >= 0


def test_bracket_spans_the_split_and_the_chained_counts() -> None:
    """Items found split in parts (fine: 26 parts, many seen by one ISP) and chained (coarse:
    18 groups): the bracket runs from the coarse estimate's lower end to the fine one's upper."""
    fine = histories(_incidence({"A": 6, "B": 5, "C": 3, "AB": 5, "AC": 3, "ABC": 4}), "ABC")
    coarse = histories(_incidence({"A": 2, "B": 2, "C": 1, "AB": 5, "AC": 3, "ABC": 5}), "ABC")
    e = bracket(fine, coarse)
    f, c = best_loglinear(fine), best_loglinear(coarse)
    assert e.method == "bracket" and e.observed == 18 and e.total == pytest.approx(c.total)
    assert e.lower == pytest.approx(min(c.lower, f.lower)) and e.upper == pytest.approx(f.upper)
    assert e.lower <= c.total <= f.total <= e.upper


def test_a_zero_margin_does_not_throw_the_fit_off() -> None:
    """Half the cells of this four-source table are empty, so the pairs model's maximum lies on
    the boundary. Plain IRLS overshot there (AIC 3.8e11 on this table); with step-halving the
    pairs model, which nests Mt, fits at least as well as Mt, as it must."""
    cells = np.array([0, 0, 0, 0, 0, 3, 3, 0, 0, 1, 0, 2, 4, 0, 0, 1])
    pairs, mt = loglinear(cells, "Mt+pairs"), loglinear(cells, "Mt")
    assert pairs.aic is not None and mt.aic is not None
    assert pairs.aic - 2 * pairs.parameters <= mt.aic - 2 * mt.parameters + 1e-6
