"""``iotscope lab simulate``: play the lab's weak devices over simulated days after notices."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from iotscope._output import console, table


def simulate_command(
    manifest: Path = typer.Option(..., "--manifest", help="the lab manifest (lab up writes it)"),
    days: int = typer.Option(30, "--days", help="simulated days"),
    seed: int = typer.Option(1, "--seed", help="seed of the hidden rates and the draws"),
    start: str = typer.Option("", "--start", help="day 0 (ISO time; default: now)"),
    out: Path = typer.Option(..., "--out", help="directory for state.npz, leases.csv, truth.json"),
    follow_up_day: int = typer.Option(30, "--follow-up-day", help="day the truth is stated at"),
) -> None:
    """Simulate remediation, replacement, re-infection and address changes by hidden rates.

    The lab devices notified are those with a notice in the store (``notice send`` /
    ``notify.create_notices``; matched by address, from the notice's day, with its channel and
    variant); the others keep the not-notified baseline.
    """
    from iotscope.lab._dynamics import Treatment, save_simulation, simulate, truth, write_truth
    from iotscope.lab._manifest import read_manifest
    from iotscope.notify import list_notices
    from iotscope.store import open_store
    from iotscope.tenancy import CENTRE

    lab = read_manifest(manifest)
    day0 = datetime.fromisoformat(start).astimezone(UTC) if start else datetime.now(UTC)
    store = open_store()
    index = {str(d.ip): i for i, d in enumerate(lab.devices)}
    notices = [n for isp in lab.isps for n in list_notices(store, CENTRE, isp.name)]
    treatments = {
        index[str(n.ip)]: Treatment(max(0, ((n.sent or n.created) - day0).days), n.channel,
                                    n.variant)
        for n in notices if str(n.ip) in index
    }  # fmt: skip
    sim = simulate(lab, treatments, days, day0, seed)
    save_simulation(sim, out)
    write_truth(truth(sim, min(follow_up_day, days)), out / "truth.json")
    last = sim.states[days]
    counts = [(name, int((last == k).sum())) for k, name in enumerate(
        ("weak", "infected", "remediated", "replaced"))]  # fmt: skip
    console.print(table(f"lab after {days} days ({len(sim.devices)} weak devices, "
                        f"{len(treatments)} notified)", ["state", "devices"], counts))  # fmt: skip
    console.print(f"wrote {out}/state.npz, leases.csv ({len(sim.leases)} leases), truth.json")
