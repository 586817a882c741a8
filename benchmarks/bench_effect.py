"""The effect of countermeasures, checked in the lab: is the true effect inside the interval?

Run: ``.venv/bin/python -m benchmarks.bench_effect [--seeds 501-510] [--devices N]
[--slope design|on|off] [--out FILE]`` (``--slope``: the pre-period slope of
``iotscope.centre._its`` as each design chooses, or on or off for every design, to compare
on tuning seeds: ``--seeds 1-10 --slope on --out benchmarks/results/effect_tuning_trend.json``)

For each held-out seed a month world (the estimator was developed on seeds 1-8 and 101-110
checked it once; its second version, the constant-ratio model with Satterthwaite placebo
intervals and the takedown successors, was tuned on seeds 1-10 and checked once on 301-310:
``effect_heldout_301-310.json``; the third, lineage placebos scaled by their own standard
errors, was tuned on 1-10 (``effect_tuning_level.json``) and checked once on 401-410:
``effect_heldout_401-410.json``; the fourth, a pre-period slope for ISP designs, was chosen
on 1-10 (``effect_tuning_trend.json`` against ``effect_tuning_level.json``; the fourth
itself: ``effect_tuning.json``); 501-510 were never run before its check)
(:func:`iotscope.lab.month.generate`, 10,000 devices, 5 ISPs, 30 days) is loaded into a
fresh SQLite store the way the pipeline fills it; the centre then collects the interventions
it can see (:func:`iotscope.centre._interventions.collect`) and estimates each one's effect
from ``c2_contacts`` alone (:func:`estimate_all`), exactly as the ``effect`` view does. The
truth is the lab's: the same world simulated without that one intervention (same random
draws), ``effect_rel = sum(post factual) / sum(post counterfactual) - 1`` over the days from
the start to the month's end, which is the estimand of :mod:`iotscope.centre._its`, for the
series the design measures:

- takedown: ``observed_bots`` (bots reported contacting any C2 of the lineage);
- notice campaign: ``observed_infected`` (the ISP's bots its detector reported);
- block: ``target_contacts`` (the ISP's contacts with the blocked C2s) when the design could
  measure those, else ``contacts`` (all the ISP's contacts).

Reported: coverage of the 95 % intervals (the model's, and "with drift", the interval of
record) over all interventions and per kind, how many were estimable, interval widths in
relative change and in log ratio (``log((1+high)/(1+low))``: the relative width's upper end
explodes as an interval nears -100 %), and the wall time of the ``effect`` and ``kpis``
views for the centre, an ISP and a manufacturer on one world (median of 5, after one warm-up call).
Writes ``benchmarks/results/effect.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from iotscope.centre import _effect as effect_module
from iotscope.centre._columns import load_columns
from iotscope.centre._effect import Estimate, estimate_all
from iotscope.centre._interventions import collect
from iotscope.centre._views import registry
from iotscope.lab.month import generate, load, truth
from iotscope.store import Store, open_store
from iotscope.tenancy import CENTRE, Principal

RESULTS = Path(__file__).resolve().parent / "results" / "effect.json"
METRIC = {"c2_takedown": "observed_bots", "notice_campaign": "observed_infected"}


def truth_metric(e: Estimate) -> str:
    if e.intervention.kind in METRIC:
        return METRIC[e.intervention.kind]
    wide = e.design is not None and any("all the ISP" in n for n in e.design.notes)
    return "contacts" if wide else "target_contacts"


def _row(seed: int, e: Estimate, facts: dict[str, Any]) -> dict[str, Any]:
    metric = truth_metric(e)
    true = facts["metrics"][metric]["effect_rel"]
    f = e.fit
    row: dict[str, Any] = {
        "seed": seed, "id": e.intervention.id, "kind": e.intervention.kind,
        "isp": e.intervention.isp, "unit": e.design.unit if e.design else None,
        "measure": e.design.measure if e.design else None, "truth_metric": metric,
        "truth": true, "hidden_factor": facts["hidden_factor"],
    }  # fmt: skip
    if f is None or true is None:
        return {**row, "estimable": False, "reason": e.reason or "no truth for this metric"}
    others = {m: v["effect_rel"] for m, v in facts["metrics"].items() if m != metric}
    w = e.calibrated or f
    return {**row, "estimable": True, "estimate": f.effect, "ci95": [f.low, f.high],
            "covered": f.low <= true <= f.high, "width": f.high - f.low,
            "placebo_drift": e.drift, "placebos": len(e.design.placebos) if e.design else 0,
            "ci95_with_drift": [w.low, w.high], "log_width_with_drift": _log_width(w.low, w.high),
            "covered_with_drift": w.low <= true <= w.high, "width_with_drift": w.high - w.low,
            "other_truths": {m: {"truth": v, "covered": v is not None and f.low <= v <= f.high}
                             for m, v in others.items()}}  # fmt: skip


def _log_width(low: float, high: float) -> float | None:
    """``log((1 + high) / (1 + low))``; None when the interval reaches -100 %."""
    return math.log((1 + high) / (1 + low)) if low > -1 else None


def one_world(seed: int, devices: int, home: Path) -> tuple[list[dict[str, Any]], Store]:
    world = generate(seed, devices=devices)
    facts = {x["id"]: x for x in truth(world)["interventions"]}
    store = open_store(f"sqlite:///{home / f'world-{seed}.sqlite'}")
    load(store, world)
    items = collect(store, CENTRE)
    estimates = estimate_all(load_columns(store), items, CENTRE)
    return [_row(seed, e, facts[e.intervention.id]) for e in estimates], store


def _median_log_width(rows: list[dict[str, Any]]) -> float | None:
    """Median log width, an interval reaching -100 % counting as infinite (None: the
    median itself is, or no rows)."""
    if not rows:
        return None
    m = statistics.median(math.inf if r["log_width_with_drift"] is None
                          else r["log_width_with_drift"] for r in rows)  # fmt: skip
    return round(m, 3) if math.isfinite(m) else None


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def cell(rs: list[dict[str, Any]]) -> dict[str, Any]:
        fit = [r for r in rs if r["estimable"]]
        covered = sum(r["covered"] for r in fit)
        drift = sum(r["covered_with_drift"] for r in fit)
        return {
            "interventions": len(rs), "estimable": len(fit), "covered": covered,
            "coverage": round(covered / len(fit), 3) if fit else None,
            "median_ci_width": round(statistics.median(r["width"] for r in fit), 3)
            if fit else None,
            "covered_with_drift": drift,
            "coverage_with_drift": round(drift / len(fit), 3) if fit else None,
            "median_ci_width_with_drift": round(
                statistics.median(r["width_with_drift"] for r in fit), 3) if fit else None,
            "median_log_width_with_drift": _median_log_width(fit),
            "median_abs_log_error": round(statistics.median(
                abs(math.log(max(r["estimate"] + 1, 1e-9)) - math.log(max(r["truth"] + 1, 1e-9)))
                for r in fit), 3) if fit else None,
        }  # fmt: skip

    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        kinds[r["kind"]].append(r)
    alt: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        for m, v in r.get("other_truths", {}).items():
            alt[f"{r['kind']}/{m}"].append(v["covered"])
    return {
        "all": cell(rows),
        "by_kind": {k: cell(v) for k, v in sorted(kinds.items())},
        "other_metrics_covered": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(alt.items())},
    }


def view_times(store: Store) -> dict[str, float]:
    reg = registry()
    isp = load_columns(store).isps[0]
    callers = {"centre": CENTRE, "isp": Principal("isp", isp),
               "manufacturer": Principal("manufacturer", "Acme")}  # fmt: skip
    out = {}
    for name in ("effect", "kpis"):
        for role, who in callers.items():
            if who.role not in reg[name].roles:
                continue
            reg[name].fn(store, who, {})
            times = []
            for _ in range(5):
                t = time.perf_counter()
                reg[name].fn(store, who, {})
                times.append(time.perf_counter() - t)
            out[f"{name}/{role}"] = round(statistics.median(times), 3)
    return out


def _seeds(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="501-510")
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument(
        "--slope",
        choices=("design", "on", "off"),
        default="design",
        help="pre-period slope: each design's choice, or on/off for all",
    )
    args = ap.parse_args()
    effect_module.TREND = {"design": None, "on": True, "off": False}[args.slope]
    rows: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in _seeds(args.seeds):
            got, store = one_world(seed, args.devices, Path(tmp))
            rows += got
            if not timings:
                timings = view_times(store)
            store.engine.dispose()
            print(seed, " ".join(f"{r['kind']}:{r.get('covered', '-')}" for r in got))
    result = {
        "benchmark": "effect",
        "question": "is the lab's true effect of each injected intervention inside the 95 % "
        "interval the centre estimates from c2_contacts alone?",
        "estimand": "sum over the post window of the treated series / the same without the "
        "intervention - 1 (iotscope.centre._its)",
        "seeds": args.seeds, "tuned_on": "1-10 (earlier versions: 1-8, checked on 101-110; "
        "the second checked on 301-310, the third on 401-410)",
        "interval_of_record": "with_drift",
        "pre_period_slope": {"design": "ISP designs only", "on": True, "off": False}[args.slope],
        "devices": args.devices, "isps": 5, "days": 30,
        "summary": _summary(rows),
        "view_seconds_median_of_5": timings,
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "note": "shared with other helpers' builds and tests while measured: "
                    "timings are upper bounds"},
        "interventions": rows,
    }  # fmt: skip
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["summary"], indent=1), json.dumps(timings))


if __name__ == "__main__":
    main()
