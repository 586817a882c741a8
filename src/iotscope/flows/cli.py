"""`iotscope flows` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="NetFlow v5/v9, IPFIX, Zeek and nfdump flows into Parquet.", no_args_is_help=True
)
