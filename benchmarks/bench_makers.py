"""Manufacturers and labels: the centre's ``makers``, ``maker`` and ``labels`` views on a month
of lab data (10,000 devices, 5 ISPs, weekly survey rounds), timed per role, and their numbers
checked against the lab's truth.

Run: ``.venv/bin/python -m benchmarks.bench_makers`` (``--seeds 21 22 23``, ``--devices N``).

Per seed (never used while building the views): ``iotscope.lab.month.generate`` + ``load``
into a fresh SQLite store (untimed), with the world's own JC-STAR registry
(``iotscope.lab.month._labels``: models without a shared default credential are labelled more
often, so the ``labels`` view's outcome gap reflects that rule, not evidence of any real
label's effect). Timed:
- cold: the device table built from the store (``_frame._build``: SQL reads, CVE and
  infection joins), median of 3;
- each view for the centre, every ISP and the three vendors with most devices, warm (the
  table cached, as every request after the first), median of 5; and the slowest view cold
  (cache cleared first) once per role.
Checked against the world (newest survey round; a device is truly infected in the round when
it is infected on any day of the round's window, from its survey day to the next round's):
weak and vulnerable per vendor (the survey reports the truth, so these must agree exactly),
infected: precision and recall of the telescope join by address (the telescope sees only
scanning families, and an address change inside the window loses the match), and the vendor
Pareto measured against the true one (Spearman's rank correlation of per-vendor infections,
the vendors that hold half of all infections).
Writes ``benchmarks/results/makers.json``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from iotscope.centre._views import registry
from iotscope.lab.month import MonthWorld, generate, load, survey_days, survey_id
from iotscope.lab.month._botnets import FAMILIES
from iotscope.makers import _frame, load_devices, pareto, vital_few
from iotscope.store import Store, open_store
from iotscope.tenancy import CENTRE, Principal

OUT = Path(__file__).parent / "results" / "makers.json"
VIEWS = ("makers", "maker", "labels")


def _median_time(fn: Any, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 4)


def _cpu_time(fn: Any, n: int) -> float:
    """Median CPU time of this process (SQLite runs in it): less bent by other jobs' load."""
    times = []
    for _ in range(n):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return round(statistics.median(times), 4)


def _timings(store: Store, world: MonthWorld) -> dict[str, Any]:
    reg = registry()
    dev = load_devices(store, CENTRE)
    top = [v for v, _ in Counter(dev.vendor[dev.round == dev.latest()].tolist()).most_common(3)]
    roles = [("centre", CENTRE)] + [(f"isp:{i.name}", Principal("isp", i.name)) for i in world.isps]
    roles += [(f"manufacturer:{v}", Principal("manufacturer", v)) for v in top]
    out: dict[str, Any] = {
        "build_cold_s": _median_time(lambda: _frame._build(store), 3),
        "build_cold_cpu_s": _cpu_time(lambda: _frame._build(store), 3),
        "views_warm_s": {},
        "slowest_view_cold_s": {},
        "rows": {},
    }
    for label, who in roles:
        warm = {v: _median_time(lambda v=v, who=who: reg[v].fn(store, who, {}), 5) for v in VIEWS}
        out["views_warm_s"][label] = warm
        slowest = max(warm, key=lambda v: warm[v])
        _frame._CACHE.clear()
        t = time.perf_counter()
        reg[slowest].fn(store, who, {})
        out["slowest_view_cold_s"][label] = {slowest: round(time.perf_counter() - t, 4)}
        out["rows"][label] = len(load_devices(store, who))
    return out


def _truth_round(world: MonthWorld) -> tuple[int, int, dict[str, int]]:
    days = survey_days(world.days)
    d0 = days[-1]
    d1 = world.days
    addr = {str(ipaddress.IPv4Address(int(a))): i for i, a in enumerate(world.addresses[d0])}
    return d0, d1, addr


def _spearman(a: list[float], b: list[float]) -> float:
    def ranks(x: list[float]) -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        order = arr.argsort(kind="stable")
        r = np.empty(len(arr))
        r[order] = np.arange(len(arr))
        for v in np.unique(arr):  # average ranks of ties
            r[arr == v] = r[arr == v].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def _accuracy(store: Store, world: MonthWorld) -> dict[str, Any]:
    dev = load_devices(store, CENTRE)
    r = dev.latest()
    assert r is not None and dev.rounds[r].survey_id == survey_id(
        world, survey_days(world.days)[-1]
    )
    d0, d1, addr = _truth_round(world)
    st, prof = world.run.states, world.products.profiles
    pick = np.flatnonzero(dev.round == r)
    idx = np.array([addr[str(ip)] for ip in dev.ip[pick]])
    vendor = np.array([prof[world.devices.profile[i]].vendor for i in idx], dtype=object)
    true_weak = st.weak[d0, idx]
    true_vuln = world.products.vulnerable[world.devices.profile[idx], st.version[d0, idx]]
    window = st.lineage[d0:d1, idx]
    true_inf = (window >= 0).any(axis=0)
    scans = np.array([FAMILIES[x.family][2] for x in world.lineages] + [False])
    true_scan = scans[window].any(axis=0)  # -1 (clean) indexes the trailing False
    got_inf = dev.infected[pick]
    vendors = sorted(set(vendor.tolist()))
    per = {v: vendor == v for v in vendors}
    measured = [int(got_inf[m].sum()) for m in per.values()]
    true = [int(true_inf[m].sum()) for m in per.values()]
    mp, tp = pareto(vendors, measured), pareto(vendors, true)
    both = int((got_inf & true_inf).sum())
    return {
        "round": dev.rounds[r].survey_id,
        "devices_in_round": len(pick),
        "vendor_of_device_matches_world": bool((dev.vendor[pick] == vendor).all()),
        "weak_exact": bool((dev.weak[pick] == true_weak).all()),
        "vulnerable_exact": bool((dev.vulnerable[pick] == true_vuln).all()),
        "infected_true": int(true_inf.sum()),
        "infected_flagged": int(got_inf.sum()),
        "infected_precision": round(both / max(int(got_inf.sum()), 1), 4),
        "infected_recall": round(both / max(int(true_inf.sum()), 1), 4),
        "infected_true_scanning": int(true_scan.sum()),
        "infected_recall_scanning": round(
            int((got_inf & true_scan).sum()) / max(int(true_scan.sum()), 1), 4
        ),
        "pareto_spearman": round(_spearman(measured, true), 4),
        "vital_few_50_measured": [p.name for p in mp[: vital_few(mp, 0.5)]],
        "vital_few_50_true": [p.name for p in tp[: vital_few(tp, 0.5)]],
    }


def run_seed(seed: int, devices: int) -> dict[str, Any]:
    world = generate(seed, devices=devices, isps=5, days=30)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/store.db")
        t = time.perf_counter()
        loaded = load(store, world)
        load_s = round(time.perf_counter() - t, 2)
        out = {
            "seed": seed,
            "load_s": load_s,
            "findings": loaded.findings,
            "sightings": loaded.sightings,
            **_timings(store, world),
            "accuracy": _accuracy(store, world),
        }
        store.engine.dispose()
    _frame._CACHE.clear()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[21, 22, 23])
    ap.add_argument("--devices", type=int, default=10_000)
    args = ap.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    runs = [run_seed(s, args.devices) for s in args.seeds]
    warm_max = max(t for r in runs for v in r["views_warm_s"].values() for t in v.values())
    cold_max = max(t for r in runs for v in r["slowest_view_cold_s"].values() for t in v.values())
    result = {
        "bench": "makers",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared with other helpers' "
        "jobs during the run (wall timings include their load; *_cpu_s is this process's CPU)",
        "load_average_at_start": load_start,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "devices": args.devices,
        "isps": 5,
        "days": 30,
        "summary": {
            "view_warm_max_s": warm_max,
            "view_cold_max_s": cold_max,
            "weak_exact_all": all(r["accuracy"]["weak_exact"] for r in runs),
            "vulnerable_exact_all": all(r["accuracy"]["vulnerable_exact"] for r in runs),
            "build_cold_cpu_s": [r["build_cold_cpu_s"] for r in runs],
            "infected_recall": [r["accuracy"]["infected_recall"] for r in runs],
            "infected_recall_scanning": [r["accuracy"]["infected_recall_scanning"] for r in runs],
            "infected_precision": [r["accuracy"]["infected_precision"] for r in runs],
            "pareto_spearman": [r["accuracy"]["pareto_spearman"] for r in runs],
        },
        "runs": runs,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
