"""`iotscope fingerprint` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Banner identification with Recog-format rules.", no_args_is_help=True)
