"""Interrupted time series with a comparison series: the effect of one intervention.

The estimand. For a treated unit (an ISP, a lineage) with a daily count ``y_t`` (active bots,
or C2 contacts) and a comparison count ``c_t`` (the same measure summed over the units the
intervention did not touch), let ``y0_t`` be what the treated unit would have counted without
the intervention. The effect is the relative change of the treated total over the post window
``P`` (the whole days the intervention was in force: from the start, or the next day when it
began mid-day, to its end or the series' end)::

    effect = sum_{t in P} y_t / sum_{t in P} y0_t - 1

(-0.3: 30 % fewer bot-days, or contacts, than there would have been). The lab states each
injected intervention's true effect in the same terms, from the same world run without it.

The model (comparative segmented regression). The log ratio ``r_t = log((y_t+k)/(c_t+k))``
follows a line before the start (``trend``; or a constant, ``trend=False``, see below); the
intervention adds a level change ``b2`` and a slope change ``b3`` after it::

    r_t = b0 + b1 t + b2 post_t + b3 post_t (t - t0) + e_t

The counterfactual is the comparison's actual level times the pre-period line,
``y0_t = (c_t + k) exp(b0 + b1 t) - k`` (``k`` = 0.5 keeps empty days finite), so common
shocks (a new family's wave, a holiday) cancel. The estimate is ``sum_P y_t / sum_P y0_t - 1``;
its log is about ``b2 + b3 h`` with ``h`` the counterfactual-weighted mean of ``t - t0`` over
``P``, and the 95 % interval (around the ratio of the sums plus ``k`` a day, so that an empty
post window still gets one) comes from that combination's standard error under Newey-West
(HAC, Bartlett kernel, the Newey-West lag rule) covariance, which allows autocorrelated
errors, with Student's t on n - 4 degrees of freedom (n - 3 without the slope). HAC errors
are biased down in series as short as a month (Andrews 1991; Kiefer and Vogelsang 2005), so
the larger of the HAC and the conventional standard error is used (Angrist and Pischke 2009,
8.2.3). The start day itself
of an intervention that began mid-day is partly treated and left out of the fit.

Why a constant ratio may be the better counterfactual: a slope fitted on one to two weeks
extrapolates over up to three: in the lab month world a young lineage's growth, carried on,
put the counterfactual of a takedown several times above the truth (tuning seeds 1-10,
takedowns: median absolute log error 0.65 with the slope, 0.25 without; in
``benchmarks/results/effect_tuning_trend.json`` and ``effect_tuning_level.json``). The residuals
cannot show such an error: :meth:`ItsFit.widened` adds what untreated units show instead.

Without a comparison series ``c_t = 0`` (a single-series ITS: the pre-trend alone is the
counterfactual).

Pure: arrays in, a record out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import statsmodels.api as sm
from scipy import stats

K = 0.5  # added to every count before the log
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
    se: float  # of the log effect (the larger of HAC and conventional)
    q: float  # Student's t quantile used
    df: float  # its degrees of freedom
    centre: float  # the smoothed ratio the interval is built around
    fitted: tuple[float, ...]
    counterfactual: tuple[float, ...]
    cf_low: tuple[float, ...]
    cf_high: tuple[float, ...]

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high

    def widened(self, drift: float, placebos: int) -> ItsFit:
        """The interval with ``drift`` (the RMS log effect of ``placebos`` untreated units,
        whose true effect is 0) added to the variance: ``se' = sqrt(se^2 + drift^2)``. It
        allows for the treated unit leaving its counterfactual path by itself, as untreated
        ones do, which the model's residuals cannot show. A drift from a handful of placebos
        is itself uncertain: Student's t on the Welch-Satterthwaite degrees of freedom of the
        sum (``drift^2`` has ``placebos`` of them, the model's variance its residual ones)
        widens the quantile accordingly (three placebos: about 3.2 instead of 2)."""
        se = math.hypot(self.se, drift)
        parts = self.se**4 / self.df + drift**4 / max(placebos, 1)
        df = se**4 / parts if parts > 0 else self.df
        q = float(stats.t.ppf(0.975, df))
        ratio = self.effect + 1.0
        return replace(self, se=se, q=q, df=df,
                       low=min(ratio, self.centre * math.exp(-q * se)) - 1.0,
                       high=max(ratio, self.centre * math.exp(q * se)) - 1.0)  # fmt: skip

    def scaled(self, factor: float, placebos: int) -> ItsFit:
        """The interval with the standard error times ``factor`` (at least 1: the RMS of
        ``placebos`` untreated units' log effects over their own standard errors, whose true
        effect is 0) and Student's t on ``placebos`` degrees of freedom: the calibration for
        untreated units of very different sizes (lineages), whose drift is on the scale of
        their own noise rather than one shared amount."""
        se = self.se * max(1.0, factor)
        q = float(stats.t.ppf(0.975, max(placebos, 1)))
        ratio = self.effect + 1.0
        return replace(self, se=se, q=q, df=float(placebos),
                       low=min(ratio, self.centre * math.exp(-q * se)) - 1.0,
                       high=max(ratio, self.centre * math.exp(q * se)) - 1.0)  # fmt: skip


def newey_west_lags(n: int) -> int:
    """Newey and West's (1994) rule of thumb: floor(4 (n/100)^(2/9)), at least 1."""
    return max(1, math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def _design(t: np.ndarray, t0: int, trend: bool) -> np.ndarray:
    """Columns: the pre-period line (a constant, and a slope when ``trend``), then the level
    and slope changes from ``t0``."""
    post = (t >= t0).astype(float)
    pre = [np.ones_like(t, dtype=float), t] if trend else [np.ones_like(t, dtype=float)]
    return np.column_stack([*pre, post, post * (t - t0)])


def _se(rows: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Standard errors of the linear combinations ``rows @ beta`` under ``cov``."""
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", rows, cov, rows), 0.0))


def fit_its(
    treated: np.ndarray,
    comparison: np.ndarray | None,
    post_start: int,
    pre_end: int | None = None,
    last: int | None = None,
    maxlags: int | None = None,
    trend: bool = True,
) -> ItsFit:
    """Fit the model above. Indexes into the series: days before ``pre_end`` (default
    ``post_start``) are the pre-period, days from ``post_start`` to ``last`` (inclusive,
    default the series' end) the post window; days between (the start day of an intervention
    that began mid-day) and after ``last`` are left out. Raises :class:`ItsError` when fewer
    than :data:`MIN_PRE` days precede or :data:`MIN_POST` follow.
    """
    y = np.asarray(treated, dtype=float)
    c = np.zeros_like(y) if comparison is None else np.asarray(comparison, dtype=float)
    if c.shape != y.shape:
        raise ValueError(f"treated has {y.shape[0]} days, comparison {c.shape[0]}")
    start = post_start
    pre_end = post_start if pre_end is None else min(pre_end, post_start)
    last = y.shape[0] - 1 if last is None else min(last, y.shape[0] - 1)
    t_all = np.arange(y.shape[0], dtype=float)
    is_pre, is_post = t_all < pre_end, (t_all >= start) & (t_all <= last)
    keep = is_pre | is_post
    n_pre, n_post = int(is_pre.sum()), int(is_post.sum())
    if n_pre < MIN_PRE or n_post < MIN_POST:
        raise ItsError("too few days around the start", n_pre, n_post)
    r = np.log((y + K) / (c + K))
    x_all = _design(t_all, start, trend)
    k = 2 if trend else 1  # columns of the pre-period line
    lags = newey_west_lags(int(keep.sum())) if maxlags is None else maxlags
    model = sm.OLS(r[keep], x_all[keep])
    hac = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
    plain = model.fit()
    beta = np.asarray(plain.params)
    covs = (np.asarray(hac.cov_params()), np.asarray(plain.cov_params()))
    post_t = t_all[is_post] - start
    line = x_all[:, :k] @ beta[:k]
    y0 = np.maximum((c + K) * np.exp(line) - K, 0.0)[is_post]
    if y0.sum() <= 0:
        raise ItsError("the counterfactual is empty over the post window", n_pre, n_post)
    ratio = float(y[is_post].sum() / y0.sum())
    centre = float((y[is_post] + K).sum() / (y0 + K).sum())  # finite when the post is empty
    combo = np.zeros(k + 2)
    combo[k:] = 1.0, float(np.average(post_t, weights=y0 + 1e-12))
    se = max(_se(combo[None, :], cv)[0] for cv in covs)
    q = float(stats.t.ppf(0.975, plain.df_resid))
    z = float(combo @ beta) / se if se > 0 else math.inf
    p = float(2 * stats.t.sf(abs(z), plain.df_resid))
    line_se = np.maximum(*(_se(x_all[:, :k], cv[:k, :k]) for cv in covs))
    base = c + K

    def level(log_ratio: np.ndarray) -> tuple[float, ...]:
        return tuple(float(v) for v in np.maximum(base * np.exp(log_ratio) - K, 0.0))

    return ItsFit(
        effect=ratio - 1.0,
        low=min(ratio, centre * math.exp(-q * se)) - 1.0,
        high=max(ratio, centre * math.exp(q * se)) - 1.0,
        level_change=float(beta[k]),
        slope_change=float(beta[k + 1]),
        p_value=p,
        n_pre=n_pre,
        n_post=n_post,
        maxlags=lags,
        with_comparison=comparison is not None,
        se=se,
        q=q,
        df=float(plain.df_resid),
        centre=centre,
        fitted=level(x_all @ beta),
        counterfactual=level(line),
        cf_low=level(line - q * line_se),
        cf_high=level(line + q * line_se),
    )
