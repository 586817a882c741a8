"""The month lab world: how long generating and loading a month takes, on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m benchmarks.bench_month [--small]``

For each seed: ``generate(seed, devices=10_000, isps=5, days=30)`` (the world, its factual run
and one counterfactual run per intervention), ``truth(world)``, then ``load(store, world)`` into
a fresh store (survey rounds and findings, C2 contacts, interventions, region counts, registry,
leases, subscriber counts, telescope sightings, the notice campaign's notices and their
follow-up re-checks: every row the centre reads) and the same load
again (idempotent upserts: nothing new). Backends: a SQLite file, and a fresh schema of the test
PostgreSQL at 127.0.0.1:5432 when it answers. Then a few centre-style aggregate queries over
the loaded store (tenant-scoped ``SELECT``s of ``iotscope.store.centre``), timed. Also the
generator alone at 100,000 devices. Wall-clock seconds on a SHARED machine (other helpers' jobs
ran at the same time): read them as upper bounds. Writes ``benchmarks/results/month.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from iotscope.lab.month import generate, load, truth
from iotscope.store import Store, open_store
from iotscope.store.centre import c2_contacts, region_counts, scoped
from iotscope.tenancy import CENTRE, Principal

RESULTS = Path(__file__).resolve().parent / "results" / "month.json"
PG_BASE = os.environ.get("IOTSCOPE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEEDS = (101, 102, 103)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t, 3)


def pg_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def backend(kind: str) -> Iterator[Store]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{Path(tmp) / 'month.db'}")
            yield store
            store.engine.dispose()
        return
    schema = f"bench_month_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        store = open_store(f"{PG_BASE}?options=-csearch_path%3D{schema}")
        yield store
        store.engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def queries(store: Store, isp: str) -> dict[str, float]:
    """Centre-style aggregates, each timed (seconds)."""
    t, r = c2_contacts, region_counts
    bots_per_day = (
        scoped(t, CENTRE)
        .with_only_columns(t.c.day, t.c.isp, func.count(func.distinct(t.c.bot)))
        .group_by(t.c.day, t.c.isp)
    )
    c2_by_isp = (
        scoped(t, CENTRE)
        .with_only_columns(t.c.c2_ip, t.c.c2_port, t.c.isp, func.count())
        .group_by(t.c.c2_ip, t.c.c2_port, t.c.isp)
    )
    own = scoped(t, Principal("isp", isp)).with_only_columns(t.c.day, func.sum(t.c.flows))
    own = own.group_by(t.c.day)
    prefs = (
        scoped(r, CENTRE)
        .where(r.c.kind == "infected")
        .with_only_columns(r.c.pref_code, func.sum(r.c.count))
        .group_by(r.c.pref_code)
    )
    out = {}
    with store.engine.connect() as conn:
        named = {"bots_per_day_isp": bots_per_day, "c2_x_isp": c2_by_isp,
                 "one_isp_flows_per_day": own, "infected_by_prefecture": prefs}  # fmt: skip
        for name, stmt in named.items():
            _, out[name] = timed(lambda s=stmt: conn.execute(s).fetchall())
        _, out["edges_bot_c2"] = timed(lambda: conn.execute(
            select(t.c.bot, t.c.c2_ip, t.c.c2_port, func.min(t.c.day)).group_by(
                t.c.bot, t.c.c2_ip, t.c.c2_port)).fetchall())  # fmt: skip
    return out


def one(kind: str, seed: int, devices: int, days: int) -> dict[str, Any]:
    world, t_gen = timed(lambda: generate(seed, devices=devices, isps=5, days=days))
    facts, t_truth = timed(lambda: truth(world))
    with backend(kind) as store:
        loaded, t_load = timed(lambda: load(store, world))
        _, t_reload = timed(lambda: load(store, world))
        q = queries(store, world.isps[1].name)
    return {
        "backend": kind, "seed": seed, "devices": devices, "days": days,
        "generate_s": t_gen, "truth_s": t_truth, "load_s": t_load, "reload_s": t_reload,
        "rows": vars(loaded), "queries_s": q, "totals": facts["totals"],
        "interventions": len(facts["interventions"]),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="1,000 devices, one seed")
    args = parser.parse_args()
    devices, seeds = (1_000, SEEDS[:1]) if args.small else (10_000, SEEDS)
    kinds = ["sqlite"] + (["postgresql"] if pg_up() else [])
    runs = []
    for kind in kinds:
        for seed in seeds:
            runs.append(one(kind, seed, devices, 30))
            r = runs[-1]
            print(f"{kind} seed {seed}: generate {r['generate_s']} s, load {r['load_s']} s, "
                  f"reload {r['reload_s']} s, rows {sum(r['rows'].values())}")  # fmt: skip
    big_n = 20_000 if args.small else 100_000
    _, t_big = timed(lambda: generate(SEEDS[0], devices=big_n, isps=5, days=30))
    print(f"generate {big_n} devices: {t_big} s")
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "platform": platform.platform()}  # fmt: skip
    result = {
        "benchmark": "month",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "note": "wall-clock seconds; generate includes one counterfactual run per "
        "intervention; load includes the notice campaign's notices and follow-up and the "
        "world's JC-STAR registry",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "postgresql": "postgresql" in kinds,
        "runs": runs,
        "generate_large": {"devices": big_n, "days": 30, "generate_s": t_big},
    }
    if not args.small:
        RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")
    else:
        print(json.dumps(result, indent=1)[:2000])


if __name__ == "__main__":
    main()
