"""Interval estimates for the follow-up's effect: proportions, their differences, survival.

- Wilson score interval for one proportion (Wilson 1927; Newcombe 1998, Stat Med 17:857,
  method 3): good coverage at small n and near 0 or 1, where the Wald interval fails.
- Newcombe's hybrid score interval for a difference of two independent proportions
  (Newcombe 1998, Stat Med 17:873, method 10): built from the two Wilson intervals.
- Kaplan-Meier product-limit estimate with Greenwood's variance, its interval on the
  log(-log S) scale (Kalbfleisch & Prentice; the default of R's survival::survfit with
  conf.type="log-log" and of lifelines), so it stays inside [0, 1].

- Simultaneous intervals for a family of m estimates (Bonferroni): each interval at level
  1 - 0.05/m, so that all m hold their true values together with probability >= 95 %. A
  per-group 95 % interval misses its true value one time in twenty by design; "every true
  value inside" is a claim about the whole family and needs these.

Pure functions over counts and arrays (numpy); no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

Z95 = 1.959963984540054  # standard normal quantile 0.975


def family_z(m: int, level: float = 0.95) -> float:
    """The normal quantile for Bonferroni-simultaneous two-sided intervals over ``m``
    estimates at family-wise ``level`` (``m`` = 1: the plain 95 % interval's 1.96)."""
    if m < 1 or not 0 < level < 1:
        raise ValueError(f"need m >= 1 and 0 < level < 1, got m={m}, level={level}")
    if m == 1 and level == 0.95:
        return Z95  # a family of one: the plain interval, to the last bit
    return NormalDist().inv_cdf(1 - (1 - level) / (2 * m))


@dataclass(frozen=True)
class Proportion:
    k: int
    n: int
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Difference:
    estimate: float
    low: float
    high: float


def wilson(k: int, n: int, z: float = Z95) -> Proportion:
    """Wilson score interval for ``k`` successes in ``n`` trials (n = 0: the whole [0, 1])."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Proportion(0, 0, math.nan, 0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Proportion(k, n, p, low, high)


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> Difference:
    """Newcombe's hybrid score interval for p1 - p2 (independent samples)."""
    a, b = wilson(k1, n1, z), wilson(k2, n2, z)
    if n1 == 0 or n2 == 0:
        return Difference(math.nan, -1.0, 1.0)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Difference(d, max(-1.0, low), min(1.0, high))


@dataclass(frozen=True)
class Survival:
    """Kaplan-Meier curve at each distinct event or censoring time ``times`` (ascending):
    ``survival`` just after that time, with the pointwise 95 % interval, and the risk set."""

    times: tuple[float, ...]
    at_risk: tuple[int, ...]
    events: tuple[int, ...]
    survival: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    def at(self, t: float) -> tuple[float, float, float]:
        """(S, low, high) at time ``t`` (a step function, right-continuous; 1 before any)."""
        i = int(np.searchsorted(np.asarray(self.times), t, side="right")) - 1
        if i < 0:
            return 1.0, 1.0, 1.0
        return self.survival[i], self.low[i], self.high[i]

    def median(self) -> float | None:
        """The first time S drops to 0.5 or below (None: not reached)."""
        return next((t for t, s in zip(self.times, self.survival, strict=True) if s <= 0.5), None)


def kaplan_meier(durations: Sequence[float], observed: Sequence[bool], z: float = Z95) -> Survival:
    """Product-limit estimate for ``durations`` with ``observed`` True for an event and
    False for a censoring; at a tie, events come before censorings (the usual convention)."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if t.shape != e.shape:
        raise ValueError("durations and observed differ in length")
    if t.size == 0:
        return Survival((), (), (), (), (), ())
    times = np.unique(t)
    deaths = np.array([int(e[t == u].sum()) for u in times], dtype=float)
    leaving = np.array([int((t == u).sum()) for u in times], dtype=float)
    at_risk = len(t) - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - deaths / at_risk, 1.0)
        surv = np.cumprod(factor)
        terms = np.where(at_risk > deaths, deaths / (at_risk * (at_risk - deaths)), 0.0)
        greenwood = np.cumsum(terms)
        low, high = _loglog(surv, greenwood, z)
    return Survival(
        tuple(float(x) for x in times), tuple(int(x) for x in at_risk),
        tuple(int(x) for x in deaths), tuple(float(x) for x in surv),
        tuple(float(x) for x in low), tuple(float(x) for x in high),
    )  # fmt: skip


def _loglog(surv: np.ndarray, greenwood: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval on log(-log S): S^exp(+-z se), se = sqrt(V) / |log S|."""
    low, high = np.zeros_like(surv), np.ones_like(surv)
    inner = (surv > 0) & (surv < 1)
    se = np.sqrt(greenwood[inner]) / np.abs(np.log(surv[inner]))
    low[inner] = surv[inner] ** np.exp(z * se)
    high[inner] = surv[inner] ** np.exp(-z * se)
    low[surv >= 1] = 1.0
    high[surv <= 0] = 0.0
    return low, high
