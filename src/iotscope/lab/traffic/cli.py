"""``iotscope lab traffic``: the typer command; the lab app registers it as ``traffic``."""

from __future__ import annotations

from pathlib import Path

import typer

from iotscope._output import console, table


def traffic(
    out: Path = typer.Option(..., "--out", help="directory to write (created)"),
    seed: int = typer.Option(7, "--seed", help="scenario seed (same seed, same bytes)"),
    days: float = typer.Option(3.0, "--days", help="days of flow time"),
    scale: float = typer.Option(1.0, "--scale", help="population multiplier (flows per site)"),
    devices: int = typer.Option(300, "--devices", help="lab world size whose ISPs are the sites"),
    network: str = typer.Option("127.77.0.0/16", "--network", help="that lab world's network"),
) -> None:
    """Darknet capture, per-ISP Zeek conn.log and NetFlow/IPFIX pcaps, and truth.json."""
    from iotscope.lab.traffic import generate

    summary = generate(out, seed=seed, days=days, scale=scale, devices=devices, network=network)
    truth = summary.truth
    rows = [
        (
            site,
            summary.flows[site],
            summary.export_packets[site],
            sum(1 for c in truth["c2"] if c["site"] == site),
            sum(1 for x in truth["infected"] if x["site"] == site),
        )
        for site in summary.flows
    ]
    console.print(
        table(f"lab traffic -> {out}", ["site", "flows", "export packets", "c2", "infected"], rows)
    )
    console.print(
        f"darknet.pcap: {summary.darknet_sources} sources; "
        f"scanners in truth: {len(truth['scanners'])}"
    )
