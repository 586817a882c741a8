"""Segmented regression against a comparison series: a known injected effect is recovered."""

from __future__ import annotations

import numpy as np
import pytest

from iotscope.centre._its import ItsError, fit_its, newey_west_lags


def _series(seed: int, effect: float, n: int = 30, start: int = 14) -> tuple[np.ndarray, ...]:
    """A treated and a comparison count sharing a random-walk shock; the treated level is
    multiplied by ``1 + effect`` on the days after ``start``."""
    rng = np.random.default_rng(seed)
    common = np.cumsum(rng.normal(0, 0.05, n))
    mult = np.where(np.arange(n) > start, 1 + effect, 1.0)
    treated = rng.poisson(200 * np.exp(common + 0.01 * np.arange(n)) * mult)
    comparison = rng.poisson(800 * np.exp(common))
    return treated.astype(float), comparison.astype(float)


@pytest.mark.parametrize("effect", [-0.4, 0.0, 0.25])
def test_recovers_a_step_effect(effect: float) -> None:
    covered = 0
    for seed in range(20):
        y, c = _series(seed, effect)
        fit = fit_its(y, c, 15, pre_end=14)
        covered += fit.covers(effect)
        assert fit.low <= fit.effect <= fit.high
    assert covered >= 17  # nominal 95 %: 17 of 20 or more


def test_common_shock_cancels_with_the_comparison() -> None:
    y, c = _series(3, -0.3)
    shock = np.exp(np.where(np.arange(30) > 14, -0.5, 0.0))  # a holiday hits everyone
    with_cmp = fit_its(np.round(y * shock), np.round(c * shock), 15)
    alone = fit_its(np.round(y * shock), None, 15)
    assert with_cmp.covers(-0.3)
    assert not alone.covers(-0.3)  # without a comparison the shock is taken for the effect
    assert with_cmp.with_comparison and not alone.with_comparison


def test_curves_and_counterfactual() -> None:
    y, c = _series(5, -0.5)
    fit = fit_its(y, c, 15, pre_end=14, last=25)
    assert len(fit.fitted) == len(fit.counterfactual) == len(y)
    assert fit.n_pre == 14 and fit.n_post == 11
    post = slice(15, 26)
    assert np.mean(fit.fitted[post]) < np.mean(fit.counterfactual[post])
    band = zip(fit.cf_low, fit.counterfactual, fit.cf_high, strict=True)
    assert all(lo <= m <= hi for lo, m, hi in band)


def test_too_short_says_so() -> None:
    y, c = _series(1, 0.0, n=10)
    with pytest.raises(ItsError) as err:
        fit_its(y, c, 3)
    assert err.value.n_pre == 3


def test_newey_west_lag_rule() -> None:
    assert newey_west_lags(30) == 3
    assert newey_west_lags(100) == 4
    assert newey_west_lags(2) == 1


def test_widened_by_placebo_drift_contains_the_model_interval() -> None:
    y, c = _series(7, -0.3)
    fit = fit_its(y, c, 15, pre_end=14)
    wide = fit.widened(0.5, 6)
    assert wide.low < fit.low and wide.high > fit.high and wide.effect == fit.effect
    assert fit.widened(0.0, 6).low == pytest.approx(fit.low)


def test_few_placebos_widen_the_quantile() -> None:
    """Welch-Satterthwaite: a drift from two placebos is itself uncertain, so its quantile
    is Student's t on about two degrees of freedom (4.3), not the model's (about 2)."""
    y, c = _series(7, -0.3)
    fit = fit_its(y, c, 15, pre_end=14)
    few, many = fit.widened(1.0, 2), fit.widened(1.0, 200)
    assert few.se == pytest.approx(many.se)
    assert few.q > 3.5 and many.q < 2.1 and few.high > many.high


def test_without_trend_the_counterfactual_keeps_the_pre_ratio() -> None:
    """trend=False: the counterfactual is the comparison times the mean pre-period ratio, so
    a treated unit that grew before the start is not projected to keep growing."""
    t = np.arange(30, dtype=float)
    c = np.full(30, 100.0)
    y = np.where(t < 10, 20 + 3 * t, 50.0)  # grew, then levelled off on its own
    level = fit_its(y, c, 10, trend=False)
    sloped = fit_its(y, c, 10)
    assert abs(level.effect) < abs(sloped.effect)
    assert level.counterfactual[25] == pytest.approx(
        np.exp(np.log((y[:10] + 0.5) / 100.5).mean()) * 100.5 - 0.5
    )


def test_scaled_by_placebo_z_keeps_the_estimate() -> None:
    """Lineage placebos: their log effects over their own standard errors scale the treated
    unit's standard error (never below 1), with Student's t on the placebos' count."""
    y, c = _series(7, -0.3)
    fit = fit_its(y, c, 15, pre_end=14)
    calm, wild = fit.scaled(0.5, 6), fit.scaled(3.0, 6)
    assert calm.se == pytest.approx(fit.se) and wild.se == pytest.approx(3 * fit.se)
    assert calm.q == pytest.approx(2.447, abs=1e-3)  # t(6)
    assert wild.low < calm.low <= calm.effect <= calm.high < wild.high
    assert wild.effect == fit.effect
