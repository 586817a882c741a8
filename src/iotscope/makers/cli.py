"""`iotscope makers` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from iotscope._output import console, table

app = typer.Typer(
    help="Manufacturers' reports and the JC-STAR label registry.", no_args_is_help=True
)
jcstar_app = typer.Typer(help="The JC-STAR label registry.", no_args_is_help=True)
app.add_typer(jcstar_app, name="jcstar")

MAX_SHOWN = 20


@app.command("report")
def report(
    vendor: str = typer.Option(
        ..., "--vendor", help="the manufacturer (matched by normalised name)"
    ),
    out: Path = typer.Option(..., "--out", help="the PDF to write"),
    lang: str = typer.Option("ja", "--lang", help="ja or en"),
    round_: str | None = typer.Option(None, "--round", help="survey id (default: the newest)"),
) -> None:
    """A manufacturer's own report as PDF: models, firmware, CVEs, infections, trend, labels.
    Computed as that manufacturer sees the data (its own products only)."""
    from iotscope.makers import load_devices, load_labels, vendor_report
    from iotscope.makers._pdf import report_pdf
    from iotscope.store import open_store
    from iotscope.tenancy import Principal

    store = open_store()
    dev = load_devices(store, Principal("manufacturer", vendor))
    rep = vendor_report(dev, vendor, load_labels(store), round_)
    pdf = report_pdf(rep, lang, datetime.now(UTC))  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    t = rep.totals
    console.print(
        f"{out}: {rep.vendor}, {t.devices} devices, {t.weak} weak, {t.vulnerable} vulnerable, "
        f"{t.infected} infected ({len(pdf)} bytes)"
    )


@jcstar_app.command("import")
def jcstar_import(
    path: Path = typer.Argument(..., help="registry CSV (format: `iotscope.makers._jcstar`)"),
) -> None:
    """Import (upsert by registration number) a JC-STAR registry CSV; bad lines are reported
    with their line numbers and skipped."""
    from iotscope.makers import import_registry
    from iotscope.store import open_store

    r = import_registry(open_store(), path)
    for b in r.bad[:MAX_SHOWN]:
        console.print(f"[yellow]line {b.line}:[/] {b.reason}", markup=True, highlight=False)
    if len(r.bad) > MAX_SHOWN:
        console.print(f"... and {len(r.bad) - MAX_SHOWN} more bad lines (all in the JSON output)")
    rows = [(r.source, r.lines, r.inserted, r.updated, len(r.bad))]
    console.print(table("jcstar import", ["file", "lines", "inserted", "updated", "bad"], rows))
    if not sys.stdout.isatty():
        sys.stdout.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
