"""`iotscope vulns` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import ipaddress
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import typer

from iotscope._output import console, jsonl_sink, table, write_jsonl
from iotscope.errors import ConfigError

app = typer.Typer(
    help="Vulnerability knowledge (NVD, KEV) and the CVEs of devices.", no_args_is_help=True
)

MAX_SHOWN_ERRORS = 20


def _files(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(x for x in p.rglob("*.json") if x.is_file())
        else:
            yield p


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(
        ...,
        help="NVD CVE API 2.0 JSON files (pages or one "
        "CVE each), CISA KEV JSON, or folders of them",
    ),
) -> None:
    """Import NVD and KEV files into the store, one transaction per file, incrementally."""
    from iotscope.store import open_store
    from iotscope.vulns import import_file

    store = open_store()
    reports = []
    for path in _files(paths):
        r = import_file(store, path)
        reports.append(r)
        for line in r.bad[:MAX_SHOWN_ERRORS]:
            console.print(f"[yellow]skipped[/] {line}", markup=True, highlight=False)
        if len(r.bad) > MAX_SHOWN_ERRORS:
            console.print(f"... and {len(r.bad) - MAX_SHOWN_ERRORS} more bad records in {path}")
    rows = [(r.path, r.kind, r.new, r.updated, r.unchanged, len(r.bad)) for r in reports]
    console.print(
        table("vulns import", ["file", "kind", "new", "updated", "unchanged", "bad"], rows)
    )
    if not sys.stdout.isatty():
        for r in reports:
            sys.stdout.write(json.dumps({k: v for k, v in r.as_dict().items() if k != "errors"}))
            sys.stdout.write("\n")


@app.command("match")
def match_(
    cpes: list[str] = typer.Argument(
        None, help="one device's CPEs (else one device per stdin line, CPEs separated by spaces)"
    ),
    out: Path | None = typer.Option(None, "--out", help="write JSON Lines here"),
) -> None:
    """The CVEs that apply to each device (NVD applicability over its set of CPEs)."""
    from iotscope.store import open_store
    from iotscope.vulns import load_db
    from iotscope.vulns._match import as_json, match_line

    db = load_db(open_store())
    lines = [" ".join(cpes)] if cpes else (ln for ln in sys.stdin if ln.strip())
    n = devices = 0
    with jsonl_sink(out) as sink:
        shown = []
        for line in lines:
            device, found = match_line(line, db)
            devices += 1
            for m in found:
                rec = as_json(device, m)
                n += 1
                if sink is not None:
                    sink.write(json.dumps(rec) + "\n")
                else:
                    shown.append((device, m.cve, m.kev, m.cvss, m.severity))
        if sink is None:
            console.print(table("vulns match", ["device", "cve", "kev", "cvss", "severity"], shown))
    console.print(f"{devices} devices, {n} device-CVE pairs")


def _scope(path: Path | None) -> Callable[[str], bool] | None:
    if path is None:
        return None
    nets = []
    for i, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            nets.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ConfigError("bad scope line", file=str(path), line=i, text=text) from exc

    def allowed(ip: str) -> bool:
        addr = ipaddress.ip_address(ip)
        return any(addr in n for n in nets)

    return allowed


@app.command("enrich")
def enrich_(
    verify: bool = typer.Option(False, "--verify", help="run the safe checks (needs --scope)"),
    scope: Path | None = typer.Option(None, "--scope", help="addresses checks may contact"),
    checks: Path | None = typer.Option(None, "--checks", help="checks file (TOML)"),
) -> None:
    """Store, per survey finding, the CVEs that apply (inferred; verified by checks)."""
    from iotscope.store import open_store
    from iotscope.vulns import default_checks, enrich, load_checks

    if verify and scope is None:
        raise ConfigError("--verify needs --scope: checks contact only addresses in it")
    chosen = (load_checks(checks) if checks else default_checks()) if verify else ()
    counts = enrich(open_store(), checks=chosen, allowed=_scope(scope))
    console.print(counts)


@app.command("devices")
def devices_(out: Path | None = typer.Option(None, "--out", help="write JSON Lines here")) -> None:
    """The CVEs of every surveyed device (per survey, address and CVE)."""
    from iotscope.store import open_store
    from iotscope.vulns import device_vulns

    vulns = list(device_vulns(open_store()))
    with jsonl_sink(out) as sink:
        if sink is not None:
            write_jsonl(sink, vulns)
        else:
            rows = [
                (str(v.ip), v.vendor, v.version, v.cve, v.evidence, v.kev, v.cvss) for v in vulns
            ]
            console.print(
                table(
                    "device CVEs",
                    ["ip", "vendor", "version", "cve", "evidence", "kev", "cvss"],
                    rows,
                )
            )


@app.command("firmware")
def firmware_(out: Path | None = typer.Option(None, "--out", help="write JSON Lines here")) -> None:
    """Firmware not latest: each surveyed device's version against its vendor's release."""
    from iotscope.store import open_store
    from iotscope.vulns import firmware_status

    status = list(firmware_status(open_store()))
    with jsonl_sink(out) as sink:
        if sink is not None:
            write_jsonl(sink, status)
        else:
            rows = [(str(s.ip), s.vendor, s.model, s.version, s.latest, s.outdated) for s in status]
            console.print(
                table("firmware", ["ip", "vendor", "model", "version", "latest", "outdated"], rows)
            )
