"""`iotscope report isp`: Shadowserver-compatible CSVs per ISP and period (thin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import typer

from iotscope._output import console
from iotscope.errors import ConfigError

app = typer.Typer(
    help="ISP reports (Shadowserver CSV): directory, e-mail, API.", no_args_is_help=True
)


def _day(value: str | None) -> date:
    if value is None:
        return (datetime.now(UTC) - timedelta(days=1)).date()  # yesterday: a whole day
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError("--day must be YYYY-MM-DD", value=value) from exc


def _smtp(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    from iotscope.service.cli import parse_listen

    return parse_listen(value)


@app.command("isp")
def isp_cmd(
    isp: list[str] = typer.Option(None, "--isp", help="ISP name (repeat; default: every ISP)"),
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD (default: yesterday, UTC)"),
    out: Path = typer.Option(..., "--out", help="directory for the CSV files"),
    smtp: str | None = typer.Option(None, "--smtp", help="HOST:PORT: also mail each ISP"),
    sender: str = typer.Option("iotscope-reports@localhost", "--from", help="mail sender"),
) -> None:
    """Write per ISP and period (day, or ISO week for weekly ISPs) one CSV per report type."""
    from iotscope.report import report_isps
    from iotscope.store import open_store

    files = report_isps(open_store(), _day(day), isp or None, out, _smtp(smtp), sender)
    for f in files:
        typer.echo(str(out / f.filename))
    console.print(f"{len(files)} report file(s), {sum(f.rows for f in files)} row(s)")
