"""Capture-recapture over ISPs against the lab's true totals: interval coverage, one more ISP.

Run: ``.venv/bin/python -m benchmarks.bench_capture [--small]``

For each seed the month world is loaded into a fresh store and the centre's analysis gives each
C2's and each lineage's set of ISPs that saw it. Chao's lower bound (Chao2) and each log-linear
model estimate the total, observed + unseen, with a 95% interval; the ``unseen`` view marks one
model chosen by an information criterion. Which criterion (AIC, AICc, BIC) is the one tuning
choice: it is made on the tuning seeds 1-10 (coverage of the C2 and found-lineage totals) and
the held-out seeds 101-110 and 201-210 are reported with every method shown (the lineages
themselves come from ``bench_lineage``'s parameters, tuned on seeds 1-10).
Truth: the C2s and lineages the world's bots contacted in the month (those an ISP could
possibly see; ``c2_contacted``, ``lineages_with_bots``). Lineage estimates are run twice: on
the lineages the centre found (what a user gets) and on the truth's own lineages with the
ISPs' incidence (the estimator alone). Lineages the centre finds split in parts (bots of
different ISPs cannot be linked) are too many; chaining the found lineages of a family in time
(``chain_incidence``) gives too few; ``lineage_bracket`` estimates on both and spans the two
(``_capture.bracket``, issue 10). Never-seen seeds 301-310 are run too (``never_seen``).
Goal: the true total inside the 95% interval on most seeds; the rate and the median interval
width are reported per method and per seed group.

One more vantage point: for each ISP X, the estimate made without X of the new items one more
ISP would bring (Chao's extrapolation) is compared with what X actually adds (the items only X
sees). Writes ``benchmarks/results/capture.json``. ``--small``: 2,000 devices, two seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks._botnet_worlds import (
    FRESH_SEEDS,
    HELD_OUT_SEEDS,
    NEVER_SEEN_SEEDS,
    SMALL,
    TUNING_SEEDS,
    WORLD,
    machine,
    worlds,
)
from iotscope.centre import _botnets
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
from iotscope.centre._correlation import CHAIN_SLACK, chain_incidence

RESULTS = Path(__file__).resolve().parent / "results" / "capture.json"
CRITERIA = ("aic", "aicc", "bic")
Incidence = Mapping[Any, frozenset[str]]


def estimates(inc: Incidence, isps: tuple[str, ...]) -> dict[str, Estimate]:
    cells = histories(inc, isps)
    fits = {m: loglinear(cells, m) for m, (_, need) in MODELS.items() if len(isps) >= need}
    chosen = {f"chosen by {c}": min(fits.values(), key=lambda e: e.criterion(c)) for c in CRITERIA}
    return {"chao2": chao2(cells), **fits, **chosen}


def judged(est: dict[str, Estimate], true: int) -> dict[str, Any]:
    return {
        m: {
            "estimate": _finite(e.total),
            "lower": _finite(e.lower),
            "upper": _finite(e.upper),
            "covers": e.covers(true),
            "observed": e.observed,
            "width": _finite(e.upper - e.lower),
            **({"model": e.method} if m.startswith("chosen") else {}),
        }
        for m, e in est.items()
    }


def _finite(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


def leave_one_out(inc: Incidence, isps: tuple[str, ...]) -> list[dict[str, Any]]:
    """Per ISP X: predicted new items from one more ISP (without X) vs X's exclusives."""
    out = []
    for x in isps:
        rest = tuple(s for s in isps if s != x)
        without = {k: v - {x} for k, v in inc.items() if v - {x}}
        actual = sum(1 for v in inc.values() if v == frozenset((x,)))
        out.append(
            {
                "isp": x,
                "predicted": round(one_more(without, rest).expected_new, 2),
                "actual": actual,
            }
        )
    return out


def true_lineage_incidence(truth: dict[str, Any]) -> dict[str, frozenset[str]]:
    return {x["id"]: frozenset(x["seen_by"]) for x in truth["lineages"] if x["seen_by"]}


def per_seed(w: Any) -> dict[str, Any]:
    a = _botnets.analysis(w.store)
    tot = w.truth["totals"]
    items = {
        "c2": (a.c2_isps, tot["c2_contacted"]),
        "lineage_found": (a.lineage_isps, tot["lineages_with_bots"]),
        "lineage_true": (true_lineage_incidence(w.truth), tot["lineages_with_bots"]),
    }
    items["lineage_chains"] = (a.lineage_chain_isps, tot["lineages_with_bots"])
    row: dict[str, Any] = {"seed": w.seed, "isps": list(a.isps), "totals": tot}
    for name, (inc, true) in items.items():
        row[name] = {
            "true_total": true,
            "observed": len(inc),
            "methods": judged(estimates(inc, a.isps), true),
            "one_more": leave_one_out(inc, a.isps),
        }
    parts, chains = (histories(x, a.isps) for x in (a.lineage_isps, a.lineage_chain_isps))
    row["lineage_bracket"] = {
        "true_total": tot["lineages_with_bots"],
        "observed": len(a.lineage_chain_isps),
        "methods": judged({"bracket": bracket(parts, chains)}, tot["lineages_with_bots"]),
    }
    row["bracket_by_slack"] = slack_scan(a, tot["lineages_with_bots"])
    return row


SLACKS_DAYS = (0, 1, 2, 3, 5, 8)


def slack_scan(a: Any, true: int) -> dict[str, Any]:
    """The bracket with each chaining slack (``CHAIN_SLACK`` is chosen on the tuning seeds)."""
    parts = histories(a.lineage_isps, a.isps)
    out = {}
    for days in SLACKS_DAYS:
        chains = histories(chain_incidence(a.lineages, timedelta(days=days)), a.isps)
        e = bracket(parts, chains)
        out[str(days)] = {"covers": e.covers(true), "width": _finite(e.upper - e.lower)}
    return out


def slack_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        d: {
            "covered": sum(r["bracket_by_slack"][d]["covers"] for r in rows),
            "median_width": statistics.median(_width(r["bracket_by_slack"][d]) for r in rows),
        }
        for d in rows[0]["bracket_by_slack"]
    }


def _width(judged: dict[str, Any]) -> float:
    """An interval's width; infinite where the model did not identify the total."""
    return math.inf if judged["width"] is None else float(judged["width"])


def coverage(rows: list[dict[str, Any]], item: str) -> dict[str, Any]:
    methods = rows[0][item]["methods"]
    out = {}
    for m in methods:
        hits = [r[item]["methods"][m]["covers"] for r in rows]
        widths = [r[item]["methods"][m]["width"] for r in rows]
        out[m] = {
            "covered": sum(hits),
            "seeds": len(hits),
            "rate": round(sum(hits) / len(hits), 2),
            "per_seed": hits,
            "median_width": None if None in widths else statistics.median(widths),
        }
    return out


def one_more_summary(rows: list[dict[str, Any]], item: str) -> dict[str, Any]:
    pairs = [(x["predicted"], x["actual"]) for r in rows for x in r[item]["one_more"]]
    return {
        "mean_predicted": round(statistics.mean(p for p, _ in pairs), 2),
        "mean_actual": round(statistics.mean(a for _, a in pairs), 2),
        "mean_abs_error": round(statistics.mean(abs(p - a) for p, a in pairs), 2),
        "cases": len(pairs),
    }


def run(small: bool) -> dict[str, Any]:
    size = SMALL if small else WORLD
    tuning = TUNING_SEEDS[:1] if small else TUNING_SEEDS
    held = HELD_OUT_SEEDS[:2] if small else HELD_OUT_SEEDS
    items = ("c2", "lineage_found", "lineage_chains", "lineage_bracket", "lineage_true")
    tune_rows = [per_seed(w) for w in worlds(tuning, size)]
    tune_cov = {i: coverage(tune_rows, i) for i in items}
    best = max(
        CRITERIA,
        key=lambda c: sum(
            tune_cov[i][f"chosen by {c}"]["covered"] for i in ("c2", "lineage_found")
        ),
    )
    never = NEVER_SEEN_SEEDS[:1] if small else NEVER_SEEN_SEEDS
    rows = []
    for w in worlds(held + (FRESH_SEEDS[:1] if small else FRESH_SEEDS) + never, size):
        rows.append(per_seed(w))
        print(w.seed, rows[-1]["lineage_bracket"]["methods"]["bracket"])
    groups = {
        "held_out": [r for r in rows if r["seed"] in held],
        "fresh": [r for r in rows if r["seed"] not in held and r["seed"] not in never],
        "never_seen": [r for r in rows if r["seed"] in never],
    }
    return {
        "what": "capture-recapture over ISPs vs the month lab's true totals (95% intervals)",
        "world": size,
        "tuning_seeds": list(tuning),
        "tuning_coverage": tune_cov,
        "tuning_bracket_by_chain_slack_days": slack_summary(tune_rows),
        "chain_slack_in_code_days": CHAIN_SLACK / timedelta(days=1),
        "criterion_chosen_on_tuning": best,
        "criterion_in_code": CRITERION,
        "held_out_seeds": [r["seed"] for r in rows],
        "never_seen_seeds": list(never),
        "coverage": {i: coverage(rows, i) for i in items},
        "coverage_by_group": {g: {i: coverage(rs, i) for i in items} for g, rs in groups.items()},
        "one_more_isp": {i: one_more_summary(rows, i) for i in items if i != "lineage_bracket"},
        "per_seed": rows,
        "machine": machine(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    result = run(args.small)
    print(
        json.dumps({"coverage": result["coverage"], "one_more": result["one_more_isp"]}, indent=1)
    )
    if not args.small:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
