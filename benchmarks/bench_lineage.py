"""C2 lineages against the lab's truth: adjusted Rand index, tuned and held out; view speed.

Run: ``.venv/bin/python -m benchmarks.bench_lineage [--small]``

Each seed's month world (10,000 devices, 5 ISPs, 30 days) is generated and loaded into a fresh
SQLite store the way the pipeline fills it; the lineages are computed from ``c2_contacts``
alone (bot pseudonyms, never the truth) and compared with the truth's lineage of every C2 that
some ISP reported: adjusted Rand index (ARI), pairwise precision and recall, lineage counts.
Two baselines do the same work: every C2 its own lineage, and one lineage per family.

The parameters (handover gap, least bots, least share of the smaller side's bots) are chosen
on the tuning seeds by mean ARI over a grid (ties: the higher least ARI). History, told
plainly: the first run tuned on seeds 1-3 and scored 101-110 (mean ARI 0.80, 5 of 10 seeds
>= 0.9; that results file is in git history, commit e1452c5). The algorithm was then revised
(a tie must hold against the lineages it joins, not only its two C2s) on tuning seeds extended
to 1-10, so 101-110 have been seen once; seeds 201-210, never looked at before, are scored as
well (commit 3d891ff). The month world then changed (lineages running two C2s at once,
re-infection) and the grid was re-run on seeds 1-10 of the new world. Goal: ARI >= 0.9 on
held-out seeds. The four botnet views are timed
on the first held-out world for the centre and one ISP, cold (the analysis computed) and warm
(cached). Writes ``benchmarks/results/lineage.json``. ``--small``: 2,000 devices, seeds 1 and
101 only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks._botnet_worlds import (
    FRESH_SEEDS,
    HELD_OUT_SEEDS,
    SMALL,
    TUNING_SEEDS,
    WORLD,
    machine,
    worlds,
)
from iotscope.centre import _botnets, registry
from iotscope.centre._contacts import Tenure
from iotscope.centre._lineage import LineageParams, assign
from iotscope.centre._rand import adjusted_rand, pair_scores
from iotscope.tenancy import CENTRE, Principal

RESULTS = Path(__file__).resolve().parent / "results" / "lineage.json"
GOAL = 0.9
GRID = {
    "handover_gap_days": (2, 3, 5, 8, 12),
    "min_bots": (1, 2, 3),
    "min_share": (0.05, 0.1, 0.2, 0.3, 0.5),
}
VIEWS = ("lineages", "migrations", "correlation", "unseen")


def params_of(gap: float, bots: int, share: float) -> LineageParams:
    return LineageParams(handover_gap=timedelta(days=gap), min_bots=bots, min_share=share)


def truth_map(truth: dict[str, Any]) -> dict[str, str]:
    return {c["endpoint"]: c["lineage"] for c in truth["c2"]}


def score(tenures: list[Tenure], truth: dict[str, str], found: dict[str, str]) -> dict[str, Any]:
    seen = {f"{t.c2[0]}:{t.c2[1]}" for t in tenures}
    true = {k: v for k, v in truth.items() if k in seen}
    precision, recall = pair_scores(true, found)
    return {
        "ari": round(adjusted_rand(true, found), 4),
        "pair_precision": round(precision, 4),
        "pair_recall": round(recall, 4),
        "c2s": len(true),
        "lineages_true": len(set(true.values())),
        "lineages_found": len({found[k] for k in true}),
    }


def ours(tenures: list[Tenure], params: LineageParams) -> dict[str, str]:
    of, _ = assign(tenures, params)
    return {f"{c[0]}:{c[1]}": lid for c, lid in of.items()}


def baselines(tenures: list[Tenure]) -> dict[str, dict[str, str]]:
    fam = {f"{t.c2[0]}:{t.c2[1]}": t.family or "unknown" for t in tenures}
    return {"singletons": {k: k for k in fam}, "by_family": fam}


def tune(loaded: list[tuple[list[Tenure], dict[str, str]]]) -> tuple[dict[str, Any], list[Any]]:
    grid = []
    for gap, bots, share in itertools.product(*GRID.values()):
        p = params_of(gap, bots, share)
        aris = [score(t, tr, ours(t, p))["ari"] for t, tr in loaded]
        grid.append(
            {
                "handover_gap_days": gap,
                "min_bots": bots,
                "min_share": share,
                "mean_ari": round(statistics.mean(aris), 4),
                "min_ari": min(aris),
            }
        )
    best = max(grid, key=lambda g: (g["mean_ari"], g["min_ari"]))
    return best, grid


def time_views(store: Any, isp: str) -> list[dict[str, Any]]:
    out = []
    for who in (CENTRE, Principal("isp", isp)):
        for name in VIEWS:
            _botnets._CACHE.clear()
            t0 = time.perf_counter()
            v = registry()[name].fn(store, who, {})
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            registry()[name].fn(store, who, {})
            warm = time.perf_counter() - t0
            rows = sum(len(t.rows) for t in v.tables)
            out.append(
                {
                    "view": name,
                    "role": who.role,
                    "cold_s": round(cold, 3),
                    "warm_s": round(warm, 3),
                    "rows": rows,
                }
            )
    return out


def held_out(
    seeds: tuple[int, ...], size: dict[str, int], chosen: LineageParams, views: list[Any]
) -> list[dict[str, Any]]:
    rows = []
    for w in worlds(seeds, size):
        tenures = _botnets._load_tenures(w.store)
        tr = truth_map(w.truth)
        t0 = time.perf_counter()
        found = ours(tenures, chosen)
        seconds = time.perf_counter() - t0
        row = {
            "seed": w.seed,
            **score(tenures, tr, found),
            "lineage_s": round(seconds, 3),
            "world_s": round(w.seconds, 1),
            "contact_spans": len(tenures),
        }
        row["baselines"] = {k: score(tenures, tr, v)["ari"] for k, v in baselines(tenures).items()}
        rows.append(row)
        print(row)
        if not views:
            views.extend(time_views(w.store, _botnets.analysis(w.store).isps[0]))
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    aris = [r["ari"] for r in rows]
    return {
        "mean_ari": round(statistics.mean(aris), 4),
        "median_ari": round(statistics.median(aris), 4),
        "min_ari": min(aris),
        "seeds_meeting_goal": sum(a >= GOAL for a in aris),
        "seeds": len(aris),
        "goal": GOAL,
        "baseline_mean_ari": {
            k: round(statistics.mean(r["baselines"][k] for r in rows), 4)
            for k in rows[0]["baselines"]
        },
    }


def run(small: bool) -> dict[str, Any]:
    size = SMALL if small else WORLD
    tuning = TUNING_SEEDS[:1] if small else TUNING_SEEDS
    held = HELD_OUT_SEEDS[:1] if small else HELD_OUT_SEEDS
    fresh = FRESH_SEEDS[:1] if small else FRESH_SEEDS
    loaded = [(_botnets._load_tenures(w.store), truth_map(w.truth)) for w in worlds(tuning, size)]
    best, grid = tune(loaded)
    chosen = params_of(best["handover_gap_days"], best["min_bots"], best["min_share"])
    views: list[Any] = []
    rows = held_out(held, size, chosen, views)
    fresh_rows = held_out(fresh, size, chosen, views)
    return {
        "what": "C2 lineages from c2_contacts vs the month lab's truth (adjusted Rand index)",
        "world": size,
        "tuning_seeds": list(tuning),
        "held_out_seeds": list(held),
        "fresh_seeds": list(fresh),
        "history": "first run (before the revision): seeds 101-110 mean ARI 0.80, 5/10 >= 0.9 "
        "(git show e1452c5:benchmarks/results/lineage.json); second run on the previous world: "
        "101-110 mean 0.948, 201-210 mean 0.961 (git show 3d891ff:benchmarks/results/lineage.json)",
        "chosen_params": best,
        "defaults_match_chosen": chosen == LineageParams(),
        "tuning_grid_top": sorted(grid, key=lambda g: (-g["mean_ari"], -g["min_ari"]))[:10],
        "held_out": rows,
        "held_out_summary": summary(rows),
        "fresh": fresh_rows,
        "fresh_summary": summary(fresh_rows),
        "views": views,
        "view_goal_s": 1.0,
        "machine": machine(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    result = run(args.small)
    print(json.dumps([result["held_out_summary"], result["fresh_summary"]], indent=1))
    print(json.dumps(result["views"], indent=1))
    if not args.small:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
