"""The centre's botnet views: ``lineages``, ``migrations``, ``correlation`` and ``unseen``.

What each role sees (lineages are computed nationally, in :mod:`iotscope.centre._botnets`):

- the centre: everything, every ISP's bot counts;
- an ISP: every lineage and C2 (the shared feed's C2s) with how many ISPs see it and whether it
  does, its own bots only (its own rows of the bots-C2 graph, its own bots in a migration); the
  overlaps between itself and each other ISP; the lineages only it sees;
- a partner: the national capture-recapture estimates (``unseen``) only; a manufacturer: none.

No view shows another ISP's bots or bot counts to an ISP.

For the sharing side (issue 9 item 6), :func:`exclusive_lineages` (re-exported here) answers
"which lineages does only this ISP see" for the ISP itself or the centre.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from iotscope.centre._botnets import Analysis, analysis, exclusive_lineages
from iotscope.centre._capture import (
    CRITERION,
    MODELS,
    Estimate,
    bracket,
    chao2,
    histories,
    loglinear,
    one_more,
)
from iotscope.centre._contacts import C2
from iotscope.centre._correlation import only_seen_by, overlaps, seen_by_count
from iotscope.centre._i18n import say
from iotscope.centre._lineage import Lineage
from iotscope.centre._views import Cell, Chart, Table, View, view
from iotscope.store import Store
from iotscope.tenancy import Principal

__all__ = [
    "correlation_view",
    "exclusive_lineages",
    "lineages_view",
    "migrations_view",
    "unseen_view",
]


def _ip(c2: C2) -> str:
    return f"{c2[0]}:{c2[1]}"


def _t(t: datetime) -> str:
    return t.isoformat()


def _mine(who: Principal) -> str | None:
    """The ISP whose bots ``who`` may see (None: the centre, every ISP's)."""
    return None if who.is_centre else who.tenant


def _bots_by_isp(a: Analysis) -> dict[tuple[str, str], dict[str, int]]:
    """(lineage or ``c2:ip:port``, kind) -> ISP -> distinct bots, over the whole period."""
    out: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for t in a.tenures:
        out[(a.lineage_of[t.c2], "lineage")][t.isp].add(t.bot)
        out[(_ip(t.c2), "c2")][t.isp].add(t.bot)
    return {k: {isp: len(b) for isp, b in v.items()} for k, v in out.items()}


def _count(per_isp: Mapping[str, int], mine: str | None) -> int:
    return sum(per_isp.values()) if mine is None else per_isp.get(mine, 0)


# ---- lineages ------------------------------------------------------------------------------


@view("lineages", title_en="C2 lineages", title_ja="C2系譜", roles=("centre", "isp"))
def lineages_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    """Lineages, their C2s, the bots-C2 graph by day and each lineage's bots over time.
    ``?lineage=ID`` narrows members, graph and timeline to one lineage."""
    a, mine = analysis(store), _mine(who)
    pick = params.get("lineage")
    chosen = [x for x in a.lineages if pick in (None, "", x.id)]
    bots = _bots_by_isp(a)
    bots_col = "bots" if mine is None else "your_bots"
    summary = Table(
        "lineages",
        ("lineage", "family", "c2s", "first_seen", "last_seen", bots_col, "isps", "only_isp"),
        tuple(_lineage_row(x, bots[(x.id, "lineage")], mine) for x in chosen),
        "Lineages (C2s that commanded the same bots)",
    )
    members = Table(
        "members",
        ("lineage", "c2", "first_seen", "last_seen", bots_col, "isps"),
        tuple(
            (
                x.id,
                _ip(m.c2),
                _t(m.first),
                _t(m.last),
                _count(bots[(_ip(m.c2), "c2")], mine),
                len(m.isps),
            )
            for x in chosen
            for m in x.members
        ),
        "Members of each lineage",
    )
    keep = {x.id for x in chosen}
    graph = Table(
        "graph",
        ("day", "source", "target", "lineage", "bots"),
        tuple(
            (d.day.isoformat(), f"{d.isp} bots", _ip(d.c2), d.lineage, d.bots)
            for d in a.daily
            if d.lineage in keep and mine in (None, d.isp)
        ),
        "Bots (per ISP) taking orders from each C2, by day",
    )
    timeline = _timeline(a, keep, mine)
    charts = (
        Chart(
            "bots-c2",
            "graph",
            "graph",
            {
                "source": "source",
                "target": "target",
                "time": "day",
                "weight": "bots",
                "group": "lineage",
            },
            "Bots and their C2s over time",
        ),
        Chart(
            "lineage-timeline",
            "line",
            "timeline",
            {"x": "day", "y": "bots", "series": "lineage"},
            "Bots per lineage",
        ),
    )
    notes = _tenancy_note(mine)
    return View("lineages", (summary, members, graph, timeline), charts, notes)


def _lineage_row(x: Lineage, per_isp: Mapping[str, int], mine: str | None) -> tuple[Cell, ...]:
    only = next(iter(x.isps)) if len(x.isps) == 1 else None
    flag: Cell = only if mine is None else only == mine
    return (
        x.id,
        x.family,
        len(x.members),
        _t(x.first),
        _t(x.last),
        _count(per_isp, mine),
        len(x.isps),
        flag,
    )


def _timeline(a: Analysis, keep: set[str], mine: str | None) -> Table:
    per: dict[tuple[str, str], int] = defaultdict(int)
    for (day, isp, lineage), n in a.lineage_daily.items():
        if lineage in keep and mine in (None, isp):
            per[(day.isoformat(), lineage)] += n  # bots of different ISPs are different bots
    rows = tuple((d, lin, n) for (d, lin), n in sorted(per.items()))
    return Table("timeline", ("day", "lineage", "bots"), rows, "Bots held by each lineage per day")


def _tenancy_note(mine: str | None) -> tuple[str, ...]:
    if mine is None:
        return ("Lineages join C2s whose bots moved from one to the next or held both at once.",)
    return (
        say(
            "Bot counts are {isp}'s own; other ISPs appear only as how many ISPs see a C2.",
            isp=mine,
        ),
    )


# ---- migrations ----------------------------------------------------------------------------


@view("migrations", title_en="C2 migrations", title_ja="C2移転", roles=("centre", "isp"))
def migrations_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    """Each handover (bots moving from one C2 to the next) and each lineage's chain of C2s."""
    a, mine = analysis(store), _mine(who)
    pick = params.get("lineage")
    family = {x.id: x.family for x in a.lineages}
    moves = Table(
        "migrations",
        ("lineage", "family", "source", "target", "at", "bots" if mine is None else "your_bots"),
        tuple(
            (
                m.lineage,
                family[m.lineage],
                _ip(m.source),
                _ip(m.target),
                _t(m.at),
                _count(dict(m.by_isp), mine),
            )
            for m in a.migrations
            if pick in (None, "", m.lineage)
        ),
        "Bots moving from one C2 to the next",
    )
    chains = Table(
        "chains",
        ("lineage", "family", "chain", "c2s", "first_seen", "last_seen"),
        tuple(
            (
                x.id,
                x.family,
                " -> ".join(_ip(m.c2) for m in x.members),
                len(x.members),
                _t(x.first),
                _t(x.last),
            )
            for x in a.lineages
            if len(x.members) > 1 and pick in (None, "", x.id)
        ),
        "Each lineage's C2s in the order they appeared",
    )
    return View("migrations", (moves, chains), (), _tenancy_note(mine))


# ---- correlation ---------------------------------------------------------------------------


@view("correlation", title_en="Across ISPs", title_ja="ISP間の相関", roles=("centre", "isp"))
def correlation_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    """C2 x ISP and lineage x ISP incidence, pairwise Jaccard overlaps, lineages one ISP sees."""
    a, mine = analysis(store), _mine(who)
    bots = _bots_by_isp(a)
    c2_inc = {_ip(c): s for c, s in a.c2_isps.items()}
    lin_inc = a.lineage_isps
    tables = (
        _incidence_table("lineage_isp", "lineage", lin_inc, "lineage", bots, a.isps, mine),
        _incidence_table("c2_isp", "c2", c2_inc, "c2", bots, a.isps, mine),
        _overlap_table(c2_inc, lin_inc, a.isps, mine),
        _only_table(a, lin_inc, bots, mine),
        Table(
            "seen_by",
            ("isps", "c2s", "lineages"),
            tuple(
                (k, seen_by_count(c2_inc).get(k, 0), seen_by_count(lin_inc).get(k, 0))
                for k in range(1, len(a.isps) + 1)
            ),
            "How many C2s and lineages exactly k ISPs see",
        ),
    )
    chart = (
        Chart(
            "lineage-isp",
            "matrix",
            "lineage_isp",
            {"x": "isp", "y": "lineage", "value": "bots"},
            "Lineages by ISP",
        )
        if mine is None
        else Chart(
            "lineage-isp",
            "bar",
            "lineage_isp",
            {"x": "lineage", "y": "isps"},
            "How many ISPs see each lineage",
        )
    )
    return View("correlation", tables, (chart,), _tenancy_note(mine))


def _incidence_table(
    name: str,
    item: str,
    inc: Mapping[str, frozenset[str]],
    kind: str,
    bots: Mapping[tuple[str, str], Mapping[str, int]],
    isps: tuple[str, ...],
    mine: str | None,
) -> Table:
    """Centre: one row per (item, ISP that sees it) with bots; an ISP: one row per item with
    whether it sees it, its own bots and how many ISPs see it."""
    rows: tuple[tuple[Cell, ...], ...]
    if mine is None:
        rows = tuple(
            (k, isp, bots[(k, kind)].get(isp, 0))
            for k in sorted(inc)
            for isp in isps
            if isp in inc[k]
        )
        return Table(name, (item, "isp", "bots"), rows, f"{item} x ISP")
    rows = tuple(
        (k, mine in inc[k], bots[(k, kind)].get(mine, 0), len(inc[k])) for k in sorted(inc)
    )
    return Table(name, (item, "seen_by_you", "your_bots", "isps"), rows, f"{item} x ISP")


def _overlap_table(
    c2_inc: Mapping[str, frozenset[str]],
    lin_inc: Mapping[str, frozenset[str]],
    isps: tuple[str, ...],
    mine: str | None,
) -> Table:
    rows = tuple(
        (item, o.a, o.b, o.both, o.either, round(o.jaccard, 4))
        for item, inc in (("c2", c2_inc), ("lineage", lin_inc))
        for o in overlaps(inc, list(isps))
        if mine in (None, o.a, o.b)
    )
    return Table(
        "overlap",
        ("item", "isp_a", "isp_b", "both", "either", "jaccard"),
        rows,
        "Pairwise overlap of what two ISPs see (Jaccard)",
    )


def _only_table(
    a: Analysis,
    lin_inc: Mapping[str, frozenset[str]],
    bots: Mapping[tuple[str, str], Mapping[str, int]],
    mine: str | None,
) -> Table:
    by_id = {x.id: x for x in a.lineages}
    rows = tuple(
        (lid, by_id[lid].family, isp, len(by_id[lid].members), bots[(lid, "lineage")][isp])
        for isp in a.isps
        if mine in (None, isp)
        for lid in only_seen_by(lin_inc, isp)
    )
    return Table(
        "only_one",
        ("lineage", "family", "isp", "c2s", "bots"),
        rows,
        "Lineages only one ISP sees",
    )


# ---- unseen --------------------------------------------------------------------------------


@view(
    "unseen",
    title_en="What no ISP sees",
    title_ja="どのISPにも見えないもの",
    roles=("centre", "isp", "partner"),
)
def unseen_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    """Capture-recapture estimates of the C2s and lineages no ISP sees, with 95% intervals, and
    what one more vantage point would add."""
    a = analysis(store)
    incs: dict[str, Mapping[Any, frozenset[str]]] = {
        "c2": a.c2_isps,
        "lineage": a.lineage_isps,
    }
    est_rows: list[tuple[Cell, ...]] = []
    more_rows: list[tuple[Cell, ...]] = []
    for item, inc in incs.items() if a.isps else ():  # no ISP has reported: nothing to estimate
        cells = histories(inc, a.isps)
        fits, best = _estimates(cells, len(a.isps))
        if item == "lineage" and len(a.isps) >= 2:  # found lineages may be split: bracket them
            fits.append(bracket(cells, histories(a.lineage_chain_isps, a.isps)))
            best = "bracket"
        est_rows += [_estimate_row(item, e, best) for e in fits]
        more = one_more(inc, a.isps)
        more_rows.append((item, "one more ISP (expected new)", round(more.expected_new, 2)))
        for isp, n in more.only.items():
            if who.is_centre or who.isp(isp):
                more_rows.append((item, f"only {isp}", n))
    estimates = Table(
        "estimates",
        (
            "item",
            "method",
            "observed",
            "estimate",
            "lower_95",
            "upper_95",
            "unseen",
            CRITERION,
            "chosen",
        ),
        tuple(est_rows),
        "Total C2s and lineages (seen + unseen), 95% intervals",
    )
    value = Table(
        "one_more", ("item", "what", "count"), tuple(more_rows), "Value of one more vantage point"
    )
    chart = Chart(
        "estimates",
        "bar",
        "estimates",
        {"x": "method", "y": "estimate", "series": "item", "low": "lower_95", "high": "upper_95"},
        "Estimated totals",
    )
    return View("unseen", (estimates, value), (chart,), _UNSEEN_NOTES)


_UNSEEN_NOTES = (
    "Each ISP is a capture source; a C2 or lineage seen by few ISPs hints at others seen by none.",
    "chao2: Chao's lower bound from those seen by one and two ISPs, log-normal 95% interval.",
    "Log-linear models over the ISPs' capture histories, profile likelihood 95% intervals; "
    f"the one with the least {CRITERION.upper()} is marked chosen; empty: not identified.",
    "'only X': what would be lost without ISP X (leave-one-out); 'one more ISP': Chao's "
    "extrapolation of new items from one more ISP like these.",
    "Lineages are counted as found, and a lineage whose C2s share no seen bot is found split "
    "in parts; the chosen lineage estimate is therefore a bracket: from the found lineages (too "
    "many) to their chains per family (too few), the widest of the two intervals "
    "(benchmarks/results/capture.json: lineage_bracket against lineage_true).",
)


def _estimates(cells: np.ndarray, k: int) -> tuple[list[Estimate], str | None]:
    """Chao2 and every log-linear model ``k`` sources identify; the least-AIC model's name."""
    fits = [loglinear(cells, m) for m, (_, need) in MODELS.items() if k >= need]
    best = min(fits, key=lambda e: e.criterion(CRITERION)).method if fits else None
    return [chao2(cells), *fits], best


def _estimate_row(item: str, e: Estimate, best: str | None) -> tuple[Cell, ...]:
    """Infinite values (a model that did not identify the unseen count) are shown empty."""
    ic = e.criterion(CRITERION)
    return (
        item,
        e.method,
        e.observed,
        _finite(e.total),
        _finite(e.lower),
        _finite(e.upper),
        _finite(e.unseen),
        None if e.aic is None else _finite(ic, 2),
        e.method == best,
    )


def _finite(x: float, digits: int = 1) -> Cell:
    return round(x, digits) if math.isfinite(x) else None
