"""`iotscope lab` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from iotscope.lab._simulate_cli import simulate_command
from iotscope.lab.month.cli import month_command
from iotscope.lab.traffic.cli import traffic

app = typer.Typer(
    help="The lab: an emulated Internet of IoT devices on loopback, with ground truth.",
    no_args_is_help=True,
)
app.command("traffic")(traffic)
app.command("simulate")(simulate_command)
app.command("month")(month_command)


@app.command("up")
def up(
    devices: int = typer.Option(300, "--devices", help="number of emulated devices"),
    seed: int = typer.Option(1, "--seed", help="world seed: the same seed gives the same world"),
    network: str = typer.Option("127.77.0.0/16", "--network", help="CIDR inside 127.0.0.0/8"),
    manifest: Path | None = typer.Option(
        None,
        "--manifest",
        help="where to write the manifest (default IOTSCOPE_HOME/lab/manifest.json)",
    ),
    catalog: list[Path] = typer.Option(
        [], "--catalog", help="catalog TOML file(s) to use instead of the shipped catalog"
    ),
    simulation: Path | None = typer.Option(
        None, "--simulation", help="a `lab simulate` directory: serve the lab as on --day"
    ),
    day: int = typer.Option(0, "--day", help="with --simulation: the simulated day to serve"),
) -> None:
    """Bring up N emulated devices on loopback; write the manifest once all listen; serve."""
    from iotscope.config import settings
    from iotscope.lab._catalog import load_catalog_files
    from iotscope.lab._up import run_up

    path = manifest or settings().home / "lab" / "manifest.json"
    files = load_catalog_files(catalog) if catalog else None
    transform = None
    if simulation is not None:
        from iotscope.lab._dynamics import load_simulation, world_at

        sim = load_simulation(simulation)
        transform = lambda world: world_at(world, sim, min(day, sim.days))  # noqa: E731
    run_up(devices=devices, seed=seed, network=network, manifest_path=path, catalog=files,
           transform=transform)  # fmt: skip
