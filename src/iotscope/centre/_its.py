"""Interrupted time series with a comparison series: the effect of one intervention.

The estimand. For a treated unit (an ISP, a lineage) with a daily count ``y_t`` (active bots,
or C2 contacts) and a comparison count ``c_t`` (the same measure summed over the units the
intervention did not touch), let ``y0_t`` be what the treated unit would have counted without
the intervention. The effect is the relative change of the treated level over the post window
``P`` (the days from the day after the start to the end, or to the series' end)::

    effect = exp( mean_{t in P} log((y_t + k) / (y0_t + k)) ) - 1

the geometric mean of actual over counterfactual, minus one (-0.3: the level is 30 % lower
than it would have been). ``k`` (0.5) keeps empty days finite.

The model (comparative segmented regression). The log ratio ``r_t = log((y_t+k)/(c_t+k))``
follows a line before the start; the intervention adds a level change ``b2`` and a slope
change ``b3`` after it::

    r_t = b0 + b1 t + b2 post_t + b3 post_t (t - t0) + e_t

The counterfactual is the comparison's actual level times the pre-period line, so common
shocks (a new family's wave, a holiday) cancel. ``effect = exp(b2 + b3 * mean_P(t - t0)) - 1``
and its 95 % interval comes from the linear combination's standard error under Newey-West
(HAC, Bartlett kernel, the Newey-West lag rule) covariance, which allows autocorrelated
errors, with Student's t on n - 4 degrees of freedom. HAC errors are biased down in series as
short as a month (Andrews 1991; Kiefer and Vogelsang 2005), so the larger of the HAC and the
conventional standard error is used (Angrist and Pischke 2009, 8.2.3). The start day itself
is partly treated and left out of the fit.
Without a comparison series ``c_t = 0`` (a single-series ITS: the pre-trend alone is the
counterfactual).

Pure: arrays in, a record out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats

K = 0.5  # added to every count before the log (an empty day stays finite)
MIN_PRE = 5  # days before the start needed to fit the pre-period line
MIN_POST = 3  # days after it


class ItsError(ValueError):
    """The series cannot support the fit; ``reason`` says why (too short, no variation)."""

    def __init__(self, reason: str, n_pre: int, n_post: int) -> None:
        super().__init__(f"{reason} (pre {n_pre} days, post {n_post} days)")
        self.reason, self.n_pre, self.n_post = reason, n_pre, n_post


@dataclass(frozen=True, slots=True)
class ItsFit:
    """One fitted intervention: the effect with its interval and the curves to draw.

    ``fitted``, ``counterfactual``, ``cf_low`` and ``cf_high`` are in counts on every day of the
    series (the counterfactual equals the fit before the start); ``cf_low``/``cf_high`` are
    the pointwise 95 % band of the counterfactual level (parameter uncertainty of the
    pre-period line under HAC covariance).
    """

    effect: float
    low: float
    high: float
    level_change: float  # b2 (log scale)
    slope_change: float  # b3 (log scale, per day)
    p_value: float
    n_pre: int
    n_post: int
    maxlags: int
    with_comparison: bool
    fitted: tuple[float, ...]
    counterfactual: tuple[float, ...]
    cf_low: tuple[float, ...]
    cf_high: tuple[float, ...]

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high


def newey_west_lags(n: int) -> int:
    """Newey and West's (1994) rule of thumb: floor(4 (n/100)^(2/9)), at least 1."""
    return max(1, math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def _design(t: np.ndarray, t0: int) -> np.ndarray:
    post = (t > t0).astype(float)
    return np.column_stack([np.ones_like(t, dtype=float), t, post, post * (t - t0)])


def _se(rows: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Standard errors of the linear combinations ``rows @ beta`` under ``cov``."""
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", rows, cov, rows), 0.0))


def fit_its(
    treated: np.ndarray,
    comparison: np.ndarray | None,
    start: int,
    end: int | None = None,
    maxlags: int | None = None,
) -> ItsFit:
    """Fit the model above; ``start`` (and ``end``, inclusive) are indexes into the series.

    Days after ``end`` are left out (the intervention was lifted). Raises :class:`ItsError`
    when fewer than :data:`MIN_PRE` days precede the start or :data:`MIN_POST` follow it.
    """
    y = np.asarray(treated, dtype=float)
    c = np.zeros_like(y) if comparison is None else np.asarray(comparison, dtype=float)
    if c.shape != y.shape:
        raise ValueError(f"treated has {y.shape[0]} days, comparison {c.shape[0]}")
    last = y.shape[0] - 1 if end is None else min(end, y.shape[0] - 1)
    t_all = np.arange(y.shape[0], dtype=float)
    keep = (t_all != start) & (t_all <= last)
    n_pre, n_post = int(np.sum(t_all < start)), int(np.sum((t_all > start) & (t_all <= last)))
    if n_pre < MIN_PRE or n_post < MIN_POST:
        raise ItsError("too few days around the start", n_pre, n_post)
    r = np.log((y + K) / (c + K))
    x_all = _design(t_all, start)
    lags = newey_west_lags(int(keep.sum())) if maxlags is None else maxlags
    model = sm.OLS(r[keep], x_all[keep])
    hac = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
    plain = model.fit()
    beta = np.asarray(plain.params)
    covs = (np.asarray(hac.cov_params()), np.asarray(plain.cov_params()))
    post_t = t_all[(t_all > start) & (t_all <= last)] - start
    combo = np.array([0.0, 0.0, 1.0, float(post_t.mean())])
    est = float(combo @ beta)
    se = max(_se(combo[None, :], cv)[0] for cv in covs)
    q = float(stats.t.ppf(0.975, plain.df_resid))
    p = float(2 * stats.t.sf(abs(est) / se, plain.df_resid)) if se > 0 else 0.0
    line = x_all[:, :2] @ beta[:2]
    line_se = np.maximum(*(_se(x_all[:, :2], cv[:2, :2]) for cv in covs))
    base = c + K

    def level(log_ratio: np.ndarray) -> tuple[float, ...]:
        return tuple(float(v) for v in np.maximum(base * np.exp(log_ratio) - K, 0.0))

    return ItsFit(
        effect=math.expm1(est),
        low=math.expm1(est - q * se),
        high=math.expm1(est + q * se),
        level_change=float(beta[2]),
        slope_change=float(beta[3]),
        p_value=p,
        n_pre=n_pre,
        n_post=n_post,
        maxlags=lags,
        with_comparison=comparison is not None,
        fitted=level(x_all @ beta),
        counterfactual=level(line),
        cf_low=level(line - q * line_se),
        cf_high=level(line + q * line_se),
    )
