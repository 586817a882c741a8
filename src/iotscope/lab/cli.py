"""`iotscope lab` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The lab: an emulated Internet of IoT devices on loopback, with ground truth.",
    no_args_is_help=True,
)
