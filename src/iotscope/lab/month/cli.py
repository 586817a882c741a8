"""``iotscope lab month``: generate a month world, write truth.json, load the store."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from iotscope._output import console, table


def month_command(
    seed: int = typer.Option(1, "--seed", help="world seed (hidden rates included)"),
    devices: int = typer.Option(10_000, "--devices", help="subscribers' devices"),
    isps: int = typer.Option(5, "--isps", help="participating ISPs (1-8)"),
    days: int = typer.Option(30, "--days", help="days to simulate (at least 7)"),
    start: str = typer.Option("2026-10-01", "--start", help="day 0 (ISO date, UTC)"),
    out: Path = typer.Option(..., "--out", help="directory for truth.json and jcstar.csv"),
    no_store: bool = typer.Option(False, "--no-store", help="write truth.json only"),
) -> None:
    """A month of ISPs, devices, botnets and interventions; loads the store
    (IOTSCOPE_DATABASE_URL or the embedded default) and writes DIR/truth.json and the world's
    JC-STAR registry DIR/jcstar.csv (the store gets it too)."""
    from iotscope.lab.month import generate, load, truth
    from iotscope.lab.month._labels import labels, registry_csv

    day0 = datetime.fromisoformat(start).replace(tzinfo=UTC)
    t = time.perf_counter()
    world = generate(seed, devices=devices, isps=isps, days=days, start=day0)
    facts = truth(world)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "truth.json.tmp"
    tmp.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    tmp.replace(out / "truth.json")
    (out / "jcstar.csv").write_text(registry_csv(labels(world)), encoding="utf-8")
    rows = [("generated", f"{time.perf_counter() - t:.1f} s")]
    if not no_store:
        from iotscope.store import open_store

        t = time.perf_counter()
        loaded = load(open_store(), world)
        rows += [(k, str(v)) for k, v in vars(loaded).items()]
        rows.append(("loaded", f"{time.perf_counter() - t:.1f} s"))
    tot = facts["totals"]
    rows += [("lineages (seen/all)", f"{tot['lineages_seen']}/{tot['lineages']}"),
             ("C2 endpoints (seen/all)", f"{tot['c2_seen']}/{tot['c2']}"),
             ("interventions", str(len(facts["interventions"])))]  # fmt: skip
    console.print(table(f"lab month seed {seed} -> {out}/truth.json", ["what", "value"], rows))
