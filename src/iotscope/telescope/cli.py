"""`iotscope telescope` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Darknet captures to per-source sightings.", no_args_is_help=True)
