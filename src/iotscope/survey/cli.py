"""`iotscope survey` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The NOTICE-style survey: scoped discovery, identification, login checks.",
    no_args_is_help=True,
)
