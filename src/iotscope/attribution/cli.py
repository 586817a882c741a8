"""`iotscope registry ...`: the ISP registry, routing data, lease logs, and lookups (thin)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from iotscope._output import console, stdout_is_terminal, table

app = typer.Typer(
    help="Who must act: ISP registry, routing data (MRT/CSV), lease logs.", no_args_is_help=True
)

SKIP_HELP = "import the good rows and report the bad ones (default: reject the whole file)"


def _bad(bad: list[object]) -> None:
    for b in bad[:20]:
        console.print(f"[yellow]skipped[/] {b}")
    if len(bad) > 20:
        console.print(f"[yellow]skipped[/] {len(bad) - 20} more bad rows")


@app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., help="registry .toml/.csv, or a lab manifest .json"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP),
) -> None:
    """Import ISPs (name, ASNs, prefixes, contacts, language, interval); mint requested tokens."""
    from iotscope.attribution import import_registry
    from iotscope.store import open_store

    entries, tokens, bad = import_registry(open_store(), path, skip_bad)
    _bad(list(bad))
    console.print(f"imported {len(entries)} ISP(s) from {path}")
    for name, token in tokens.items():
        typer.echo(f"{name}\t{token}")  # printed once: the store keeps only a hash


@app.command("routes")
def routes_cmd(
    path: Path = typer.Argument(..., help="an MRT RIB dump (.gz/.bz2 too) or a prefix,asn CSV"),
    fmt: str | None = typer.Option(None, "--format", help="mrt or csv (default: by content)"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP + " (CSV only)"),
) -> None:
    """Import routing data (prefix -> origin AS); the newest import is used for attribution."""
    from iotscope.attribution import import_routes
    from iotscope.store import open_store

    routes, table_id = import_routes(open_store(), path, fmt, skip_bad)
    console.print(f"imported {len(routes)} prefixes from {path} (table {table_id[:12]})")


@app.command("leases")
def leases_cmd(
    path: Path = typer.Argument(..., help="CSV: address,start,end,subscriber_id"),
    isp: str = typer.Option(..., "--isp", help="the ISP whose lease log this is"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP),
    replace: bool = typer.Option(False, "--replace", help="drop the ISP's earlier leases first"),
) -> None:
    """Import an ISP's lease log into that ISP's tenancy (subscriber data stays there)."""
    from iotscope.attribution import import_leases
    from iotscope.store import open_store

    count, bad = import_leases(open_store(), isp, path, skip_bad, replace)
    _bad(list(bad))
    console.print(f"imported {count} lease(s) for {isp}")


@app.command("lookup")
def lookup_cmd(ips: list[str] = typer.Argument(..., help="addresses")) -> None:
    """The ISP and origin AS of each address (JSON Lines when piped)."""
    from iotscope.attribution import table_of
    from iotscope.store import open_store

    t = table_of(open_store())
    idx, asns = t.lookup(ips)
    rows = [
        {"ip": ip, "isp": t.isps[i] if i >= 0 else None, "asn": int(a) or None}
        for ip, i, a in zip(ips, idx.tolist(), asns.tolist(), strict=True)
    ]
    if stdout_is_terminal():
        console.print(
            table(
                "attribution", ["ip", "isp", "asn"], [[r["ip"], r["isp"], r["asn"]] for r in rows]
            )
        )
    else:
        for r in rows:
            typer.echo(json.dumps(r))


@app.command("list")
def list_cmd() -> None:
    """The registry (JSON Lines when piped)."""
    from iotscope.attribution import isps
    from iotscope.store import open_store

    entries = isps(open_store())
    if stdout_is_terminal():
        cols = ["name", "asns", "prefixes", "abuse_email", "language", "interval"]
        console.print(
            table("ISP registry", cols, [[str(getattr(e, c)) for c in cols] for e in entries])
        )
    else:
        for e in entries:
            typer.echo(e.model_dump_json(exclude={"token"}))
