"""How many C2s (or lineages) no ISP sees: multi-source capture-recapture over the ISPs.

Each ISP is a source; an item's capture history is the set of ISPs that see it. Two families of
estimators of the total ``N`` (observed + unseen):

- Chao's lower bound for incidence data ("Chao2"; Chao 1987, Biometrics 43:783-791; the
  bias-corrected form of Chao et al. 2014, Ecol. Monogr. 84:45-67, eq. for ``Q0``): from ``Q1``
  and ``Q2``, the items seen by exactly one and exactly two of ``K`` sources,
  ``Q0 = (K-1)/K * Q1^2 / (2 Q2)``, with Chao's log-normal 95% interval (its lower end is never
  below the observed count).
- Log-linear models over the ``2^K`` capture histories (Fienberg 1972; Cormack 1989): a Poisson
  GLM on the observed cells, the unobserved all-zero cell predicted from the intercept. Models:
  independent sources (``Mt``), plus all pairwise source dependences (``Mt+pairs``), plus a
  heterogeneity term in the capture count ``c`` (Darroch et al. 1993: ``c^2/2``; Rivest and
  Baillargeon's Poisson2: ``2^c - 1``). The one with the least information criterion
  (:data:`CRITERION`) is chosen; its 95% interval is the profile likelihood interval for ``N``
  (Cormack 1992, as in Rcapture). A model whose fit sends the unseen count off to infinity (an
  empty margin) is reported as not identified.

Pure numpy (IRLS for the GLM); no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: a model whose unseen count exceeds this many times the observed has not identified it
UNIDENTIFIED = 100.0
#: how the log-linear model is chosen (tuned on lab seeds 1-3: bench_capture)
CRITERION = "aic"
Z95 = 1.959963984540054
CHI2_1_95 = 3.841458820694124


@dataclass(frozen=True, slots=True)
class Estimate:
    """An estimate of the total (observed + unseen) with its 95% interval."""

    method: str
    observed: int
    total: float
    lower: float
    upper: float
    aic: float | None = None
    parameters: int = 0
    cells: int = 0

    @property
    def unseen(self) -> float:
        return self.total - self.observed

    @property
    def identified(self) -> bool:
        """False when the model could not fix the unseen count (an empty margin)."""
        return math.isfinite(self.total)

    def criterion(self, name: str) -> float:
        """``aic``; ``aicc`` (small-sample AIC over the observed cells); ``bic`` (over items)."""
        if self.aic is None or not math.isfinite(self.aic):
            return math.inf
        p = self.parameters
        if name == "aicc":
            room = self.cells - p - 1
            return self.aic + 2 * p * (p + 1) / room if room > 0 else math.inf
        if name == "bic":
            return self.aic - 2 * p + p * math.log(max(self.observed, 1))
        return self.aic

    def covers(self, truth: float) -> bool:
        return self.lower <= truth <= self.upper


def histories(incidence: Mapping[Any, frozenset[str]], sources: Sequence[str]) -> np.ndarray:
    """Counts of each capture history: cell ``h`` (bit ``j`` set: source ``j`` saw it)."""
    bit = {s: 1 << j for j, s in enumerate(sources)}
    cells = np.zeros(1 << len(sources), dtype=np.int64)
    for seen in incidence.values():
        h = sum(bit[s] for s in seen if s in bit)
        if h:
            cells[h] += 1
    return cells


def frequencies(cells: np.ndarray) -> np.ndarray:
    """``Q[k]``: items seen by exactly ``k`` sources (``Q[0]`` is 0: unobserved)."""
    k = _sources(cells)
    q = np.zeros(k + 1, dtype=np.int64)
    np.add.at(q, _popcount(np.arange(len(cells))), cells)
    q[0] = 0
    return q


def chao2(cells: np.ndarray) -> Estimate:
    """Chao's lower-bound estimate of the total with the log-normal 95% interval."""
    q = frequencies(cells)
    k = len(q) - 1
    s = int(q.sum())
    q1 = float(q[1]) if k >= 1 else 0.0
    q2 = float(q[2]) if k >= 2 else 0.0
    a = (k - 1) / k if k else 0.0
    if q2 > 0:
        f0 = a * q1 * q1 / (2 * q2)
        r = q1 / q2
        var = q2 * (a / 2 * r**2 + a * a * r**3 + a * a / 4 * r**4)
    else:
        f0 = a * q1 * (q1 - 1) / 2
        var = a * q1 * (q1 - 1) / 2 + a * a * q1 * (2 * q1 - 1) ** 2 / 4
        var -= a * a * q1**4 / (4 * (s + f0)) if s + f0 > 0 else 0.0
    if f0 <= 0 or var <= 0:
        return Estimate("chao2", s, s + f0, float(s), s + f0)
    c = math.exp(Z95 * math.sqrt(math.log(1 + var / f0**2)))
    return Estimate("chao2", s, s + f0, s + f0 / c, s + f0 * c)


# ---- log-linear models -------------------------------------------------------------------


def _sources(cells: np.ndarray) -> int:
    """``K`` from a table of ``2^K`` cells."""
    return len(cells).bit_length() - 1


def _popcount(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    y = x.copy()
    while y.any():
        out += y & 1
        y >>= 1
    return out


def _bits(k: int) -> np.ndarray:
    h = np.arange(1 << k)
    return ((h[:, None] >> np.arange(k)[None, :]) & 1).astype(float)


def _mt(k: int) -> np.ndarray:
    return np.column_stack([np.ones(1 << k), _bits(k)])


def _pairs(k: int) -> np.ndarray:
    b = _bits(k)
    cols = [b[:, i] * b[:, j] for i in range(k) for j in range(i + 1, k)]
    return np.column_stack([_mt(k), *cols]) if cols else _mt(k)


def _darroch(k: int) -> np.ndarray:
    c = _bits(k).sum(axis=1)
    return np.column_stack([_mt(k), c * c / 2])


def _poisson2(k: int) -> np.ndarray:
    c = _bits(k).sum(axis=1)
    return np.column_stack([_mt(k), 2.0**c - 1])


#: name -> design over all 2^K cells (row 0 is the unobserved cell), and the least K it needs
MODELS: dict[str, tuple[Callable[[int], np.ndarray], int]] = {
    "Mt": (_mt, 2),
    "Mt+pairs": (_pairs, 3),
    "Mth Darroch": (_darroch, 3),
    "Mth Poisson2": (_poisson2, 3),
}


def poisson_fit(
    x: np.ndarray, y: np.ndarray, iterations: int = 100
) -> tuple[np.ndarray, np.ndarray, float]:
    """Poisson GLM (log link) by iteratively reweighted least squares: coefficients, fitted
    means and the log-likelihood (without the ``log y!`` terms).

    A cell margin of zero sends some coefficients off to minus infinity (the maximum is on the
    boundary); plain IRLS then overshoots and can end far from the maximum, by an amount that
    depends on the BLAS. Each step is therefore halved until the log-likelihood does not fall
    (step-halving, as R's ``glm2``), and the fit stops when the log-likelihood no longer rises:
    it converges to the supremum even where the coefficients do not."""
    beta = np.linalg.lstsq(x, np.log(y + 0.5), rcond=None)[0]
    ll = _poisson_ll(x, y, beta)
    for _ in range(iterations):
        mu = np.exp(np.clip(x @ beta, -50, 50))
        z = x @ beta + (y - mu) / mu
        w = np.sqrt(mu)
        new = np.linalg.lstsq(x * w[:, None], z * w, rcond=None)[0]
        new_ll = _poisson_ll(x, y, new)
        for _ in range(30):
            if new_ll >= ll - 1e-12 * (1 + abs(ll)):
                break
            new = (beta + new) / 2
            new_ll = _poisson_ll(x, y, new)
        rise, beta, ll = new_ll - ll, new, max(ll, new_ll)
        if abs(rise) < 1e-10 * (1 + abs(ll)):
            break
    return beta, np.exp(np.clip(x @ beta, -50, 50)), ll


def _poisson_ll(x: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    mu = np.exp(np.clip(x @ beta, -50, 50))
    return float(np.sum(np.where(y > 0, y * np.log(np.maximum(mu, 1e-300)), 0.0)) - mu.sum())


def loglinear(cells: np.ndarray, model: str = "Mt") -> Estimate:
    """The log-linear ``model``'s estimate of the total with the profile likelihood interval."""
    k = _sources(cells)
    x = MODELS[model][0](k)
    y = cells.astype(float)
    n = float(y[1:].sum())
    beta, _, ll = poisson_fit(x[1:], y[1:])
    f0 = float(np.exp(np.clip(x[0] @ beta, -50, 50)))
    p, m = x.shape[1], len(y) - 1
    if not math.isfinite(f0) or f0 > UNIDENTIFIED * max(n, 1.0):
        return Estimate(model, int(n), math.inf, n, math.inf, math.inf, p, m)
    aic = 2 * p - 2 * (ll - float(sum(math.lgamma(v + 1) for v in y[1:])))
    lower, upper = _profile_interval(x, y, n, n + f0)
    return Estimate(model, int(n), n + f0, lower, upper, aic, p, m)


def best_loglinear(cells: np.ndarray, criterion: str = CRITERION) -> Estimate:
    """The log-linear model with the least ``criterion`` (``aic``, ``aicc``, ``bic``) among
    those ``K`` sources can identify."""
    k = _sources(cells)
    fits = [loglinear(cells, m) for m, (_, need) in MODELS.items() if k >= need]
    return min(fits, key=lambda e: e.criterion(criterion))


def _profile(x: np.ndarray, y: np.ndarray, n: float, total: float) -> float:
    """Profile log-likelihood of the total ``N``: the multinomial over all ``2^K`` cells with
    the unobserved cell ``N - n``, at the model's best fit for that table."""
    full = y.copy()
    full[0] = total - n
    _, mu, _ = poisson_fit(x, full)
    p = mu / mu.sum()
    terms = np.where(full > 0, full * np.log(np.maximum(p, 1e-300)), 0.0)
    return math.lgamma(total + 1) - math.lgamma(total - n + 1) + float(terms.sum())


def _profile_interval(x: np.ndarray, y: np.ndarray, n: float, point: float) -> tuple[float, float]:
    def excess(total: float) -> float:
        return 2 * (peak - _profile(x, y, n, total)) - CHI2_1_95

    peak = _profile(x, y, n, max(point, n))
    lower = n if excess(n) <= 0 else _bisect(excess, max(point, n), n)
    hi, limit = max(point, n) + 1.0, 1000.0 * max(n, 1.0)
    while excess(hi) < 0 and hi < limit:
        hi = n + 2 * (hi - n)
    upper = math.inf if excess(hi) < 0 else _bisect(excess, max(point, n), hi)
    return lower, upper


def _bisect(f: Callable[[float], float], inside: float, outside: float) -> float:
    """Where ``f`` crosses 0 between ``inside`` (f <= 0) and ``outside`` (f > 0), to 0.01."""
    for _ in range(60):
        mid = (inside + outside) / 2
        if f(mid) <= 0:
            inside = mid
        else:
            outside = mid
        if abs(outside - inside) < 0.01:
            break
    return (inside + outside) / 2


def bracket(fine: np.ndarray, coarse: np.ndarray, criterion: str = CRITERION) -> Estimate:
    """A total known only to lie between two partitions of the items: ``fine`` (the capture
    histories of parts that may be pieces of one item, so too many) and ``coarse`` (of groups
    that may join several items, so too few). Each is estimated by its best log-linear model;
    the interval runs from the lower of the lower ends to the higher upper end, the point is the
    coarse one's (nearer the truth on the tuning seeds, bench_capture). Used for lineages,
    which the centre may find split in parts (``_correlation.chain_incidence``)."""
    f, c = best_loglinear(fine, criterion), best_loglinear(coarse, criterion)
    return Estimate(
        "bracket", c.observed, c.total, min(c.lower, f.lower), max(f.upper, c.upper),
        parameters=c.parameters, cells=c.cells,
    )  # fmt: skip


# ---- the value of one more source --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OneMore:
    """What one more source would add: per present source, the items only it sees (what leaving
    it out loses); and Chao's extrapolation of new items from one more source like these."""

    only: Mapping[str, int]
    expected_new: float


def one_more(incidence: Mapping[Any, frozenset[str]], sources: Sequence[str]) -> OneMore:
    """Leave-one-out exclusives per source, and the expected new items of a ``K+1``-th source:
    ``Q0 * Q1 / (K Q0 + Q1)`` (Chao et al. 2014, incidence extrapolation to ``K + 1`` units)."""
    only = dict.fromkeys(sources, 0)
    for seen in incidence.values():
        if len(seen) == 1:
            (s,) = tuple(seen)
            if s in only:
                only[s] += 1
    cells = histories(incidence, sources)
    q = frequencies(cells)
    q0 = chao2(cells).unseen
    k, q1 = len(sources), float(q[1]) if len(q) > 1 else 0.0
    new = q0 * q1 / (k * q0 + q1) if q0 > 0 and q1 > 0 else 0.0
    return OneMore(only, new)
