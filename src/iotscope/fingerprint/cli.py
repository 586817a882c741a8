"""`iotscope fingerprint` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import typer

from iotscope._output import console
from iotscope.fingerprint._engine import (
    Match,
    RuleSet,
    default_databases,
    identify,
    load_rules,
)
from iotscope.fingerprint._recog import bytes_to_text
from iotscope.fingerprint._verify import VerifyReport, verify_file

app = typer.Typer(help="Banner identification with Recog-format rules.", no_args_is_help=True)


def read_banners(stream: BinaryIO, counts: Counter[str]) -> Iterator[str]:
    """Banners from stdin lines: a JSON string literal each, else the raw line's text.

    A line that is not a JSON string (bad JSON, a number, an object) is taken as raw text and
    counted as ``raw``; blank raw lines are counted as ``blank`` and skipped.
    """
    for raw in stream:
        line = bytes_to_text(raw).rstrip("\r\n")
        try:
            value: Any = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, str):
            counts["json"] += 1
            yield value
        elif line.strip():
            counts["raw"] += 1
            yield line
        else:
            counts["blank"] += 1


def match_record(text: str, match: Match | None) -> dict[str, Any]:
    """One JSON Lines record of ``fingerprint match`` (ARCHITECTURE.md's contract)."""
    if match is None:
        return {"input": text, "identity": None, "params": None, "rule": None, "database": None}
    identity = match.identity.model_dump() if match.identity is not None else None
    return {
        "input": text,
        "identity": identity,
        "params": match.params,
        "rule": match.rule,
        "database": match.database,
    }


def run_match(service: str, banners: Iterable[str], rules: RuleSet, counts: Counter[str]) -> None:
    out = sys.stdout
    for text in banners:
        match = identify(service, text, rules)
        counts["matched" if match is not None else "unmatched"] += 1
        out.write(json.dumps(match_record(text, match)) + "\n")
    out.flush()


@app.command("match")
def match_cmd(
    service: str = typer.Option(..., "--service", help="telnet, ssh, http, http_title, ..."),
    db: list[Path] = typer.Option(
        [],
        "--db",
        help="extra Recog XML or nmap-service-probes file, tried after the shipped rules",
    ),
    nmap: bool = typer.Option(
        True, "--nmap/--no-nmap", help="then nmap-service-probes (setting nmap_probes: auto)"
    ),
) -> None:
    """Identify banners read from stdin (one JSON string literal or raw text per line)."""
    extra = [*db, *(d for d in default_databases() if d not in db)] if nmap else list(db)
    rules = load_rules(extra, fallback_service=service)
    for error in rules.errors[:20]:
        console.print(f"[yellow]skipped rule:[/] {error}")
    if not rules.databases(service):
        console.print(f"[yellow]warning:[/] no rules for service {service!r}")
    counts: Counter[str] = Counter()
    stdin = typer.get_binary_stream("stdin")
    run_match(service, read_banners(stdin, counts), rules, counts)
    summary = ", ".join(f"{k} {counts[k]}" for k in ("matched", "unmatched", "raw", "blank"))
    console.print(f"{service}: {summary}; rules skipped (bad regex) {rules.skipped}")


@app.command("verify")
def verify_cmd(
    path: Path = typer.Argument(..., help="a Recog XML file, or a folder of them"),
) -> None:
    """Replay every <example> of a Recog file; exit 1 when any fails (Recog's semantics)."""
    files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
    ok = True
    for file in files:
        report = verify_file(file)
        print_report(report)
        ok = ok and report.ok
    raise typer.Exit(0 if ok else 1)


def print_report(report: VerifyReport) -> None:
    for f in report.failures:
        typer.echo(
            f"FAIL {f.fingerprint!r}: example {f.example}: expected {f.expected}; got {f.got}"
        )
    for w in report.warnings:
        typer.echo(f"WARN {w}")
    typer.echo(
        f"{report.path}: {report.fingerprints} fingerprints, {report.checked} examples checked, "
        f"{len(report.failures)} failures, {len(report.warnings)} warnings"
    )
