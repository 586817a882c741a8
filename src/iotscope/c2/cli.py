"""`iotscope c2` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

app = typer.Typer(help="C2 candidates scored from flow data.", no_args_is_help=True)
