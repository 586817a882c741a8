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
re-infection) and the grid was re-run on seeds 1-10 of the new world. Issue 10 added two
rules, found on the tuning seeds 1-10 by reading their truth (a handover counts only in the new
C2's first wave; a junction of two lineages is judged against its two C2s), and a relay join
by timing that is left off; ``tuning_ablation`` shows each rule's worth and false merges on the
tuning seeds. Seeds 101-110 and 201-210 had been scored before; 301-310 are new (never seen).
False merges are counted (C2 pairs joined across true lineages). Goal: ARI >= 0.9 on
held-out seeds. The four botnet views are timed
on the first held-out world for the centre and one ISP, cold (the analysis computed) and warm
(cached). Writes ``benchmarks/results/lineage.json``. ``--small``: 2,000 devices, seeds 1 and
101 only.
"""

from __future__ import annotations

import argparse
import dataclasses
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
    NEVER_SEEN_SEEDS,
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
    lineages_in: dict[str, set[str]] = {}
    for k, v in true.items():
        lineages_in.setdefault(found[k], set()).add(v)
    return {
        "ari": round(adjusted_rand(true, found), 4),
        "pair_precision": round(precision, 4),
        "pair_recall": round(recall, 4),
        "c2s": len(true),
        "lineages_true": len(set(true.values())),
        "lineages_found": len({found[k] for k in true}),
        # false merges: C2 pairs joined across true lineages; found lineages mixing several
        "false_merge_pairs": _cross_pairs(true, found),
        "mixed_lineages": sum(len(v) > 1 for v in lineages_in.values()),
    }


def _cross_pairs(true: dict[str, str], found: dict[str, str]) -> int:
    """C2 pairs in one found lineage but different true ones."""
    by: dict[str, list[str]] = {}
    for k in true:
        by.setdefault(found[k], []).append(true[k])
    return sum(a != b for v in by.values() for i, a in enumerate(v) for b in v[i + 1 :])


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


#: each evidence rule switched off (or the relay on) at the chosen parameters, on the tuning
#: seeds: what each rule is worth, and its false merges
ABLATIONS: dict[str, dict[str, Any]] = {
    "chosen": {},
    "no first-wave rule": {"wave": None},
    "no junction rule": {"junction": None},
    "neither (the previous algorithm)": {"wave": None, "junction": None},
    "relay 1 day": {"relay": timedelta(days=1)},
    "relay 2 days": {"relay": timedelta(days=2)},
    "relay 3 days": {"relay": timedelta(days=3)},
}


def ablation(
    loaded: list[tuple[list[Tenure], dict[str, str]]], chosen: LineageParams
) -> list[dict[str, Any]]:
    out = []
    for name, change in ABLATIONS.items():
        p = dataclasses.replace(chosen, **change)
        rows = [score(t, tr, ours(t, p)) for t, tr in loaded]
        out.append(
            {
                "variant": name,
                "mean_ari": round(statistics.mean(r["ari"] for r in rows), 4),
                "min_ari": min(r["ari"] for r in rows),
                "seeds_meeting_goal": sum(r["ari"] >= GOAL for r in rows),
                "false_merge_pairs": sum(r["false_merge_pairs"] for r in rows),
                "mixed_lineages": sum(r["mixed_lineages"] for r in rows),
                "per_seed_ari": [r["ari"] for r in rows],
            }
        )
    return out


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
        "false_merge_pairs": sum(r["false_merge_pairs"] for r in rows),
        "mixed_lineages": sum(r["mixed_lineages"] for r in rows),
        "seeds_with_false_merges": sum(r["false_merge_pairs"] > 0 for r in rows),
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
    never = NEVER_SEEN_SEEDS[:1] if small else NEVER_SEEN_SEEDS
    loaded = [(_botnets._load_tenures(w.store), truth_map(w.truth)) for w in worlds(tuning, size)]
    best, grid = tune(loaded)
    chosen = params_of(best["handover_gap_days"], best["min_bots"], best["min_share"])
    ablations = ablation(loaded, chosen)
    views: list[Any] = []
    rows = held_out(held, size, chosen, views)
    fresh_rows = held_out(fresh, size, chosen, views)
    never_rows = held_out(never, size, chosen, views)
    return {
        "what": "C2 lineages from c2_contacts vs the month lab's truth (adjusted Rand index)",
        "world": size,
        "tuning_seeds": list(tuning),
        "held_out_seeds": list(held),
        "fresh_seeds": list(fresh),
        "never_seen_seeds": list(never),
        "history": "first run (before the revision): seeds 101-110 mean ARI 0.80, 5/10 >= 0.9 "
        "(git show e1452c5:benchmarks/results/lineage.json); second run on the previous world: "
        "101-110 mean 0.948, 201-210 mean 0.961 (git show 3d891ff:benchmarks/results/lineage.json)",
        "chosen_params": best,
        "defaults_match_chosen": chosen == LineageParams(),
        "tuning_grid_top": sorted(grid, key=lambda g: (-g["mean_ari"], -g["min_ari"]))[:10],
        "tuning_ablation": ablations,
        "held_out": rows,
        "held_out_summary": summary(rows),
        "fresh": fresh_rows,
        "fresh_summary": summary(fresh_rows),
        "never_seen": never_rows,
        "never_seen_summary": summary(never_rows),
        "views": views,
        "view_goal_s": 1.0,
        "machine": machine(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    result = run(args.small)
    print(json.dumps(result["tuning_ablation"], indent=1))
    summaries = ("held_out_summary", "fresh_summary", "never_seen_summary")
    print(json.dumps([result[k] for k in summaries], indent=1))
    print(json.dumps(result["views"], indent=1))
    if not args.small:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
