"""``iotscope lab traffic``: the typer command; the lab app registers it as ``traffic``."""

from __future__ import annotations

from pathlib import Path

import typer

from iotscope._output import console, table
from iotscope.errors import ConfigError
from iotscope.lab.traffic._variants import Variant


def traffic(
    out: Path | None = typer.Option(None, "--out", help="directory to write (created; required)"),
    seed: int = typer.Option(7, "--seed", help="scenario seed (same seed, same bytes)"),
    days: float = typer.Option(3.0, "--days", help="days of flow time"),
    scale: float = typer.Option(1.0, "--scale", help="population multiplier (flows per site)"),
    devices: int = typer.Option(300, "--devices", help="lab world size whose ISPs are the sites"),
    network: str = typer.Option("127.77.0.0/16", "--network", help="that lab world's network"),
    variant: str = typer.Option(
        "default",
        "--variant",
        help="world to generate: default, lookalike, crowded (tuning); "
        "ho-office, ho-nat, ho-night (held out). --list-variants describes them",
    ),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="TOML file describing the variant (instead of --variant)"
    ),
    list_variants: bool = typer.Option(
        False, "--list-variants", help="list the variants and their families, write nothing"
    ),
) -> None:
    """Darknet capture, per-ISP Zeek conn.log and NetFlow/IPFIX pcaps, and truth.json."""
    from iotscope.lab.traffic import VARIANTS, generate, get_variant, load_variant

    if list_variants:
        console.print(table("traffic variants", ["variant", "held out", "families", "about"],
                            [_variant_row(v) for v in VARIANTS.values()]))  # fmt: skip
        return
    if out is None:
        raise ConfigError("--out is required to generate traffic")
    chosen = load_variant(scenario) if scenario is not None else get_variant(variant)
    summary = generate(
        out, seed=seed, days=days, scale=scale, devices=devices, network=network, variant=chosen
    )
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
        f"variant {chosen.name}{' (held out)' if chosen.held_out else ''}; "
        f"darknet.pcap: {summary.darknet_sources} sources; "
        f"scanners in truth: {len(truth['scanners'])}; benign endpoints: {len(truth['benign'])}"
    )


def _variant_row(v: Variant) -> tuple[str, str, str, str]:
    fams = sorted({f.name for _, f in v.lineages} | {b.family for b in v.benign})
    return v.name, "yes" if v.held_out else "no", ", ".join(fams), v.description
