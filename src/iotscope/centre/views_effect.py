"""The centre's views of countermeasures and common goals (issue 10, items 4 and 5).

- ``effect``: the interventions the caller may see with each one's measured effect and 95 %
  interval; for the chosen one (``?id=``; the first estimable by default) the treated series,
  the comparison, the fit and the counterfactual with its band, day by day. ``?measure=``
  bots or contacts overrides the default measure of the intervention's kind.
- ``kpis``: each KPI of ``kpis.toml`` over time per scope (national, and the caller's own ISP;
  every ISP for the centre) against its target; a scope or period without data says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException

from iotscope.centre._columns import MEASURES, load_columns
from iotscope.centre._effect import Estimate, estimate_all
from iotscope.centre._i18n import both, say
from iotscope.centre._interventions import collect
from iotscope.centre._its import ItsFit
from iotscope.centre._kpi import NATIONAL, Kpi, Point, judge, load_kpis, scopes_for
from iotscope.centre._kpi_data import compute
from iotscope.centre._views import Cell, Chart, Table, View, view
from iotscope.store import Store
from iotscope.tenancy import Principal

ESTIMAND = (
    "effect = (bot-days, or contacts, of the treated unit over the post window) / (the same "
    "without the intervention) - 1; the counterfactual is the comparison series times the "
    "treated/comparison ratio's pre-period path, its trend for an ISP, its level for a "
    "lineage (segmented regression on the log ratio, "
    "95 % interval from the larger of the HAC and the conventional standard error); the "
    "interval 'with drift', the one to read, also allows for the treated unit leaving its "
    "path by itself as much as untreated units do (placebo fits on them, true effect 0)"
)
TARGET_CHARS = 160
NO_DATA = "a KPI, scope or period without a value has no data (never read as zero)"


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def _summary_row(e: Estimate) -> tuple[Cell, ...]:
    iv, f, w = e.intervention, e.fit, e.calibrated
    target = iv.target if len(iv.target) <= TARGET_CHARS else iv.target[:TARGET_CHARS] + "…"
    return (iv.id, iv.kind, iv.isp, target, iv.start.isoformat(),
            None if iv.end is None else iv.end.isoformat(), iv.source,
            e.design.measure if e.design else None,
            _r(f.effect) if f else None, _r(f.low) if f else None, _r(f.high) if f else None,
            _r(w.low) if w else None, _r(w.high) if w else None, e.reason or None)  # fmt: skip


def _series_rows(e: Estimate, f: ItsFit | None) -> tuple[tuple[Cell, ...], ...]:
    d = e.design
    if d is None:
        return ()
    rows = []
    for i, day in enumerate(e.days):
        t = d.first + i
        phase = "pre" if t < d.pre_end else ("post" if d.post_start <= t <= d.last else "left out")
        comp = None if e.comparison is None else e.comparison[i]
        curves = (None,) * 4 if f is None else (
            _r(f.fitted[i], 2), _r(f.counterfactual[i], 2), _r(f.cf_low[i], 2),
            _r(f.cf_high[i], 2))  # fmt: skip
        rows.append((day, phase, e.treated[i], comp, *curves))
    return tuple(rows)


def _chosen(estimates: list[Estimate], wanted: str | None) -> Estimate | None:
    if wanted:
        for e in estimates:
            if e.intervention.id == wanted:
                return e
        raise HTTPException(404, "no such intervention visible to this caller")
    return next((e for e in estimates if e.fit is not None), estimates[0] if estimates else None)


@view(
    "effect", title_en="Effect of countermeasures", title_ja="対策の効果", roles=("centre", "isp")
)
def effect_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    measure = params.get("measure") or None
    if measure is not None and measure not in MEASURES:
        raise HTTPException(400, f"measure must be one of {', '.join(MEASURES)}")
    items = collect(store, who)
    estimates = estimate_all(load_columns(store), items, who, measure) if items else []
    chosen = _chosen(estimates, params.get("id"))
    summary = Table(
        "interventions",
        ("id", "kind", "isp", "target", "start", "end", "source", "measure", "effect",
         "ci_low", "ci_high", "ci_low_with_drift", "ci_high_with_drift", "not_estimable"),
        tuple(_summary_row(e) for e in estimates),
        "Interventions and their measured effect (relative change, 95 % interval)",
    )  # fmt: skip
    tables, notes = [summary], [ESTIMAND]
    charts: list[Chart] = []
    if chosen is not None:
        tables += _chosen_tables(chosen)
        notes += list(chosen.design.notes if chosen.design else ())
        if chosen.reason:
            notes.append(
                say(
                    "{id}: not estimable: {reason}", id=chosen.intervention.id, reason=chosen.reason
                )
            )
        charts.append(_series_chart(chosen))
    else:
        notes.append("no intervention recorded that this caller may see")
    return View("effect", tuple(tables), tuple(charts), tuple(notes))


def _chosen_tables(e: Estimate) -> list[Table]:
    f, d = e.fit, e.design
    w = e.calibrated
    est = Table(
        "estimate",
        ("id", "unit", "comparison", "measure", "effect", "ci_low", "ci_high", "level_change",
         "slope_change", "p_value", "pre_days", "post_days", "hac_lags", "placebo_rms",
         "ci_low_with_drift", "ci_high_with_drift",
         "not_estimable"),
        ((e.intervention.id, d.unit if d else None, d.comparison if d else None,
          d.measure if d else None, _r(f.effect) if f else None, _r(f.low) if f else None,
          _r(f.high) if f else None, _r(f.level_change) if f else None,
          _r(f.slope_change) if f else None, _r(f.p_value) if f else None,
          f.n_pre if f else None, f.n_post if f else None, f.maxlags if f else None,
          _r(e.drift), _r(w.low) if w else None, _r(w.high) if w else None,
          e.reason or None),),
        "The chosen intervention's estimate",
    )  # fmt: skip
    series = Table(
        "series",
        ("day", "phase", "treated", "comparison", "fitted", "counterfactual", "cf_low",
         "cf_high"),
        _series_rows(e, f),
        "Daily series around the intervention, with the counterfactual and its 95 % band",
    )  # fmt: skip
    return [est, series]


def _series_chart(e: Estimate) -> Chart:
    return Chart(
        "series", "line", "series",
        {"x": "day", "y": ["treated", "fitted", "counterfactual"],
         "band": {"low": "cf_low", "high": "cf_high", "of": "counterfactual"},
         "marker": {"x": e.intervention.start.date().isoformat(), "label": e.intervention.kind},
         "secondary": ["comparison"], "phase": "phase"},
        say("{kind} {id}", kind=e.intervention.kind, id=e.intervention.id),
    )  # fmt: skip


def _value_rows(kpi: Kpi, points: list[Point], scopes: list[str]) -> list[tuple[Cell, ...]]:
    allowed = set(scopes)
    return [
        (kpi.id, p.scope, p.period.isoformat(), _r(p.value), kpi.target, judge(kpi, p.value),
         p.n, p.reason or None)
        for p in sorted(points, key=lambda p: (p.scope != NATIONAL, p.scope, p.period))
        if p.scope in allowed
    ]  # fmt: skip


def _latest(points: list[Point], scope: str) -> Point | None:
    mine = [p for p in points if p.scope == scope]
    return max(mine, key=lambda p: p.period) if mine else None


@view("kpis", title_en="Common goals (KPIs)", title_ja="共通目標（KPI）")
def kpis_view(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    defs, rows, summary, charts = load_kpis(), [], [], []
    for kpi in defs:
        points = compute(store, kpi)
        scopes = scopes_for(who, (p.scope for p in points))
        rows += _value_rows(kpi, points, scopes)
        last = _latest(points, NATIONAL)
        value = None if last is None else last.value
        status = "no data" if value is None else ("met" if judge(kpi, value) else "not met")
        summary.append((kpi.id, kpi.name_en, kpi.name_ja, kpi.unit, kpi.target, kpi.direction,
                        kpi.owner, kpi.period, _r(value), None if last is None
                        else last.period.isoformat(), status))  # fmt: skip
        charts.append(Chart(
            f"kpi-{kpi.id}", "line", "values",
            {"x": "period", "y": "value", "series": "scope", "filter": {"kpi": kpi.id},
             "target": kpi.target, "direction": kpi.direction, "unit": kpi.unit},
            both(kpi.name_en, kpi.name_ja),
        ))  # fmt: skip
    head = Table("kpis", ("id", "name_en", "name_ja", "unit", "target", "direction", "owner",
                          "period", "latest_national", "latest_period", "status"),
                 tuple(summary), "KPIs, their targets and the latest national value")  # fmt: skip
    values = Table("values", ("kpi", "scope", "period", "value", "target", "met", "n", "reason"),
                   tuple(rows), "Each KPI per scope and period against its target")  # fmt: skip
    return View("kpis", (head, values), tuple(charts), (NO_DATA,))
