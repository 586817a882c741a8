"""The effect of one intervention: which series are treated and which compare, then the fit.

The treated unit and its comparison, by what the intervention acted on:

- a national C2 takedown (``isp`` None, C2 endpoints as target): the lineage of the
  endpoints (:func:`~iotscope.centre._columns.lineage_of`: the C2s its bots moved through) is
  treated; every other lineage's bots compare, except those of other takedowns in the window.
  Default measure: active bots (distinct bots contacting the lineage's C2s per day).
- a block at one ISP (``blocklist``, ``bgp_blackhole``: endpoints, addresses or networks as
  target): the ISP's contacts with the blocked endpoints are treated, the other ISPs' contacts
  with the same endpoints compare, over the days the endpoints were contacted at all. When
  that span is too short to fit (C2s often live a few days), the ISP's contacts with every
  C2 are treated instead (the block's effect diluted in all its contacts) against the other
  ISPs'. Default measure: contacts.
- anything else at one ISP (a notice campaign): the ISP's bots, against the other ISPs'.

The counterfactual (:mod:`iotscope.centre._its`) keeps the treated unit's pre-period ratio
to the comparison: its trend for an ISP (an ISP's share of bots moves slowly and steadily:
a detector improving, a family spreading in its region), its level for a lineage (a young
lineage's growth is a phase that ends; carried on for three weeks it put the counterfactual
of a takedown several times above the truth). Tuning seeds 1-10
(``benchmarks/results/effect_tuning_level.json``, ``effect_tuning_trend.json``): with it,
the ISP designs' intervals covered 29/30 against 26/30 without; without it the takedowns'
median absolute log error was 0.25 against 0.65.

Two intervals per estimate. The model's assumes the treated unit would have kept that path;
"with drift", the interval of record, also allows for it leaving that path by itself as much
as untreated units do: each untreated unit (the other ISPs; the six largest
other lineages) is fitted as if treated, with the same days, measure and model (true effect
0). For ISPs the root mean square of those placebo log effects is added to the variance, with
Student's t on the Welch-Satterthwaite degrees of freedom (few placebos, a wider quantile).
Lineages differ in size by orders of magnitude and a small one drifts more, so their drift
is taken relative to their own noise: the RMS of the placebo log effects over their standard
errors scales the treated lineage's (:func:`calibrated`; tuning seeds 1-10: the same
coverage, median log width 2.8 instead of 6.0). In the lab (``benchmarks/results/effect*.json``)
the first is far too narrow (detection per ISP and C2 makes observed series jump, lineages
grow and die) and the second nearer 95 %.

A takedown's lineage also takes in :func:`successors`: C2s first seen after the start whose
first bots were the lineage's (its bots moved there while no ISP had detected it yet).

ISPs with an intervention of their own in the window never compare. An ISP caller sees a
comparison only when it pools two ISPs or more (one other ISP's series is that ISP's own
business); otherwise the fit runs on the treated series alone, and the note says so.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from iotscope.centre._columns import I64, Columns, Mask, handovers, lineage_of
from iotscope.centre._i18n import say
from iotscope.centre._its import MIN_POST, MIN_PRE, ItsError, ItsFit, fit_its
from iotscope.store.centre import Intervention
from iotscope.tenancy import Principal

BLOCKS = ("blocklist", "bgp_blackhole")
DEFAULT_MEASURE = {"c2_takedown": "bots", "blocklist": "contacts", "bgp_blackhole": "contacts"}
MIN_POOLED = 2
PLACEBOS = 6  # untreated lineages fitted as if treated, to see how much they move alone
TREND: bool | None = None  # force a pre-period slope on or off (None: each design's own)
MIN_PLACEBO_ROWS = 20  # ISPs a non-centre caller's comparison must pool


@dataclass(frozen=True)
class Design:
    """What is compared: masks over the rows, the days fitted (``first``..``last``, indexes),
    the pre-period's end and the post window's start (indexes)."""

    unit: str
    comparison: str
    measure: str
    treated: Mask
    control: Mask | None
    first: int
    last: int
    pre_end: int
    post_start: int
    notes: tuple[str, ...] = ()
    placebos: tuple[tuple[Mask, Mask], ...] = ()  # untreated units: (as treated, comparison)
    placebos_vary: bool = False  # of very different sizes (lineages): ItsFit.scaled
    pre_slope: bool = True  # fit a pre-period slope in the ratio (not for lineages: see above)


@dataclass(frozen=True)
class Estimate:
    """An intervention's measured effect (``fit`` None: not estimable, ``reason`` says why)."""

    intervention: Intervention
    design: Design | None
    days: tuple[str, ...]
    treated: tuple[float, ...]
    comparison: tuple[float, ...] | None
    fit: ItsFit | None
    reason: str = ""
    drift: float | None = None  # RMS log effect of placebo units (None: no placebos)
    calibrated: ItsFit | None = None  # ``fit`` with the drift added to its interval


def _day_bounds(cols: Columns, iv: Intervention) -> tuple[int, int, int]:
    """(pre_end, post_start, last): a mid-day start leaves its day out; the post window
    ends on the last whole day before ``end``."""
    start = iv.start.astimezone(UTC)
    day = cols.day_index(start.date())
    post_start = day if start.time() == time(0) else day + 1
    last = cols.ndays - 1
    if iv.end is not None:
        end = iv.end.astimezone(UTC)
        last = min(last, cols.day_index((end - timedelta(microseconds=1)).date()))
    return day, post_start, last


def target_endpoints(cols: Columns, target: str) -> I64:
    """Endpoints named by a target: ``ip:port`` exactly, an address or a network (any port);
    names (RPZ entries) match nothing here."""
    wanted: set[int] = set()
    where = {e: i for i, e in enumerate(cols.endpoints)}
    nets = []
    for part in (p.strip() for p in target.split(",")):
        if part in where:
            wanted.add(where[part])
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            continue
    if nets:
        for i, e in enumerate(cols.endpoints):
            ip = ipaddress.ip_address(e.rsplit(":", 1)[0])
            if any(ip in n for n in nets):
                wanted.add(i)
    return np.array(sorted(wanted), dtype=np.int64)


def _overlaps(a: Intervention, b: Intervention) -> bool:
    far = datetime.max.replace(tzinfo=UTC)
    return a.start < (b.end or far) and b.start < (a.end or far)


def _other_isps(iv: Intervention, others: Sequence[Intervention]) -> set[str]:
    return {o.isp for o in others if o.isp is not None and o.id != iv.id and _overlaps(iv, o)}


def _isp_design(
    cols: Columns,
    iv: Intervention,
    others: Sequence[Intervention],
    measure: str,
    rows: Mask,
    what: str,
) -> Design:
    pre_end, post_start, last = _day_bounds(cols, iv)
    excluded = _other_isps(iv, others) | {iv.isp}
    mine = cols.isp == cols.isp_id(iv.isp or "")
    pool = [i for i, name in enumerate(cols.isps) if name not in excluded]
    control = np.isin(cols.isp, pool) & rows
    names = ", ".join(cols.isps[i] for i in pool)
    placebos = tuple(((cols.isp == k) & rows, control & (cols.isp != k)) for k in pool)
    return Design(f"{iv.isp}: {what}", f"other ISPs ({names})", measure, mine & rows,
                  control if pool else None, 0, last, pre_end, post_start, (),
                  placebos if len(pool) > 1 else ())  # fmt: skip


def _block_design(
    cols: Columns, iv: Intervention, others: Sequence[Intervention], measure: str
) -> Design:
    targets = target_endpoints(cols, iv.target)
    hit = np.isin(cols.c2, targets)
    d = _isp_design(cols, iv, others, measure, hit, f"{measure} with {len(targets)} blocked C2s")
    seen = np.unique(cols.day[hit])
    if len(seen):
        first, last = int(seen.min()), min(int(seen.max()), d.last)
        if d.pre_end - first >= MIN_PRE and last - d.post_start + 1 >= MIN_POST:
            return Design(d.unit, d.comparison, measure, d.treated, d.control, first, last,
                          d.pre_end, d.post_start, d.notes, d.placebos)  # fmt: skip
    everything = np.ones(len(cols.c2), dtype=bool)
    note = "the blocked C2s were contacted on too few days: all the ISP's C2 contacts are used"
    wide = _isp_design(cols, iv, others, measure, everything, f"{measure} with all C2s")
    return Design(wide.unit, wide.comparison, measure, wide.treated, wide.control, wide.first,
                  wide.last, wide.pre_end, wide.post_start, (*wide.notes, note),
                  wide.placebos)  # fmt: skip


def _takedown_design(
    cols: Columns,
    iv: Intervention,
    others: Sequence[Intervention],
    measure: str,
    links: list[tuple[int, int]],
) -> Design:
    pre_end, post_start, last = _day_bounds(cols, iv)
    seeds = target_endpoints(cols, iv.target)
    if len(seeds) == 0:
        raise ItsError("no ISP reported a contact with the C2s taken down", 0, 0)
    lineage = lineage_of(cols, seeds, links)
    late = successors(cols, lineage, pre_end)
    if len(late):
        lineage = np.union1d(lineage, lineage_of(cols, late, links))
    treated = np.isin(cols.c2, lineage)
    busy = np.zeros(len(cols.c2), dtype=bool)
    for o in others:
        if o.id != iv.id and o.kind == "c2_takedown" and _overlaps(iv, o):
            busy |= np.isin(cols.c2, lineage_of(cols, target_endpoints(cols, o.target), links))
    control = ~treated & ~busy
    placebos = tuple((m, control & ~m) for m in _big_lineages(cols, control, pre_end, links))
    return Design(f"lineage of {iv.target} ({len(lineage)} C2s)", "bots of other lineages",
                  measure, treated, control, 0, last, pre_end, post_start, (),
                  placebos, placebos_vary=True, pre_slope=False)  # fmt: skip


def successors(cols: Columns, lineage: I64, before: int, share: float = 0.3, span: int = 2) -> I64:
    """Endpoints outside ``lineage`` first seen from day ``before`` on whose bots in their
    first ``span`` + 1 days are, at least ``share`` of them, bots the lineage held before that
    day: where a takedown's bots went. :func:`handovers` links a successor only when the two
    C2s are seen a day apart; when the ISPs detect the successor days later the lineage
    would end at the takedown and its bots' move would read as the takedown's effect."""
    held = set(cols.bot[np.isin(cols.c2, lineage) & (cols.day < before)].tolist())
    first = np.full(len(cols.endpoints), cols.ndays, dtype=np.int64)
    np.minimum.at(first, cols.c2, cols.day)
    out = []
    for y in np.nonzero(first >= before)[0].tolist():
        if y in lineage:
            continue
        m = (cols.c2 == y) & (cols.day <= first[y] + span)
        early = set(cols.bot[m].tolist())
        if early and len(early & held) >= share * len(early):
            out.append(y)
    return np.array(out, dtype=np.int64)


def _big_lineages(
    cols: Columns, rows: Mask, before: int, links: list[tuple[int, int]], count: int = PLACEBOS
) -> list[Mask]:
    """Row masks of the ``count`` lineages with most bots among ``rows`` before day ``before``
    that, like a takedown's target, had bots on the two days before it and the five after."""
    pairs = np.array(links, dtype=np.int64).reshape(-1, 2)
    n = len(cols.endpoints)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = csgraph.connected_components(graph, directed=False)
    row_label = label[cols.c2]
    pre = rows & (cols.day < before)
    sizes = np.bincount(row_label[pre], minlength=label.max() + 1)
    span = np.arange(before - 2, min(before + 5, cols.ndays))
    alive = np.zeros((label.max() + 1, cols.ndays), dtype=bool)
    alive[row_label[rows], cols.day[rows]] = True
    sizes[~alive[:, span].all(axis=1)] = 0
    top = [int(x) for x in np.argsort(-sizes)[:count] if sizes[x] >= MIN_PLACEBO_ROWS]
    return [rows & (row_label == x) for x in top]


def design(
    cols: Columns,
    iv: Intervention,
    others: Sequence[Intervention],
    measure: str | None = None,
    links: list[tuple[int, int]] | None = None,
) -> Design:
    """The treated and comparison series for ``iv`` (see the module's docstring);
    ``links``: :func:`~iotscope.centre._columns.handovers` of ``cols`` if already known."""
    m = measure or DEFAULT_MEASURE.get(iv.kind, "bots")
    if iv.isp is None:
        return _takedown_design(cols, iv, others, m, handovers(cols) if links is None else links)
    if iv.kind in BLOCKS:
        return _block_design(cols, iv, others, m)
    return _isp_design(cols, iv, others, m, np.ones(len(cols.c2), dtype=bool), f"{m} (all C2s)")


def _pooled(cols: Columns, d: Design) -> int:
    return 0 if d.control is None else len(np.unique(cols.isp[d.control]))


def estimate(
    cols: Columns,
    iv: Intervention,
    others: Sequence[Intervention],
    who: Principal,
    measure: str | None = None,
    links: list[tuple[int, int]] | None = None,
) -> Estimate:
    """Fit the interrupted time series for ``iv`` as ``who`` may see it."""
    try:
        d = design(cols, iv, others, measure, links)
    except ItsError as exc:
        return Estimate(iv, None, (), (), None, None, _why(exc))
    notes = list(d.notes)
    control = d.control
    private = control is not None and iv.isp is not None and not who.is_centre
    if private and _pooled(cols, d) < MIN_POOLED:
        control = None
        notes.append("fewer than two ISPs compare: fitted on the treated series alone")
    window = slice(d.first, d.last + 1)
    y = [float(v) for v in cols.series(d.treated, d.measure)[window]]
    c = None if control is None else [float(v) for v in cols.series(control, d.measure)[window]]
    days = tuple(x.isoformat() for x in cols.days[window])
    d = replace(d, comparison=d.comparison if control is not None else "none",
                control=control, notes=tuple(notes))  # fmt: skip
    trend = d.pre_slope if TREND is None else TREND
    try:
        fit = fit_its(np.array(y), None if c is None else np.array(c), d.post_start - d.first,
                      d.pre_end - d.first, trend=trend)  # fmt: skip
    except ItsError as exc:
        return Estimate(iv, d, days, tuple(y), None if c is None else tuple(c), None, _why(exc))
    fits = placebo_fits(cols, d, trend) if d.placebos and control is not None else []
    drift = float(np.sqrt(np.mean([lg * lg for lg, _ in fits]))) if fits else None
    wide = None if drift is None else calibrated(fit, fits, d.placebos_vary)
    return Estimate(iv, d, days, tuple(y), None if c is None else tuple(c), fit, "", drift, wide)


def calibrated(fit: ItsFit, placebos: list[tuple[float, float]], vary: bool) -> ItsFit:
    """``fit``'s interval widened by what the placebo fits ``(log effect, its standard
    error)`` show: their RMS log effect added (:meth:`ItsFit.widened`), or, for units of very
    different sizes, their RMS log effect over their own standard error as a factor on the
    treated unit's (:meth:`ItsFit.scaled`)."""
    if not vary:
        return fit.widened(float(np.sqrt(np.mean([lg * lg for lg, _ in placebos]))), len(placebos))
    z = [0.0 if lg == 0 else lg / max(se, 1e-12) for lg, se in placebos]
    return fit.scaled(float(np.sqrt(np.mean(np.square(z)))), len(placebos))


def _why(exc: ItsError) -> str:
    """The reason an estimate is missing, as a page can translate it."""
    return say("{reason} (pre {pre} days, post {post} days)", reason=exc.reason,
               pre=exc.n_pre, post=exc.n_post)  # fmt: skip


def placebo_fits(cols: Columns, d: Design, trend: bool) -> list[tuple[float, float]]:
    """(log effect, its standard error) fitted on each untreated unit (true effect 0) with the
    same days, measure and model: how far a unit drifts from its counterfactual by itself."""
    window = slice(d.first, d.last + 1)
    logs = []
    for treated, control in d.placebos:
        y, c = cols.series(treated, d.measure)[window], cols.series(control, d.measure)[window]
        try:
            f = fit_its(y, c, d.post_start - d.first, d.pre_end - d.first, trend=trend)
        except ItsError:
            continue
        logs.append((math.log1p(f.effect) if f.effect > -1 else math.log(f.centre), f.se))
    return logs


def estimate_all(
    cols: Columns, items: Sequence[Intervention], who: Principal, measure: str | None = None
) -> list[Estimate]:
    """:func:`estimate` for each of ``items`` (the handover graph computed once)."""
    links = handovers(cols) if any(iv.isp is None for iv in items) else []
    return [estimate(cols, iv, items, who, measure, links) for iv in items]
