"""`iotscope c2` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

import typer

from iotscope._output import console, jsonl_sink, stdout_is_terminal, table, write_jsonl
from iotscope.errors import ConfigError

app = typer.Typer(help="C2 candidates scored from flow data.", no_args_is_help=True)

THRESHOLD_HELP = "report endpoints scoring at least this (0-1; default 0.5)"


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{name} must be an ISO 8601 time", value=value) from exc


@app.command()
def detect(
    site: str | None = typer.Option(None, "--site", help="one site (default: every site)"),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark"),
    out: Path | None = typer.Option(None, "--out", help="write JSON Lines here"),
    threshold: float = typer.Option(0.5, "--threshold", help=THRESHOLD_HELP),
    since: str | None = typer.Option(None, "--since", help="flow time from (ISO 8601, UTC)"),
    until: str | None = typer.Option(None, "--until", help="flow time before (ISO 8601, UTC)"),
    infected: Path | None = typer.Option(None, "--infected", help="known-infected IPs file"),
    flows: Path | None = typer.Option(None, "--flows", help="Parquet root (default: home)"),
    no_store: bool = typer.Option(False, "--no-store", help="do not save the candidates"),
) -> None:
    """Score remote endpoints in the site's flows as C2 servers, with reasons."""
    from iotscope.c2 import Params, Window, known_infected
    from iotscope.c2 import detect as run_detect
    from iotscope.flows import flows_root
    from iotscope.store import open_store

    if engine not in ("duckdb", "spark"):
        raise ConfigError("--engine must be duckdb or spark", engine=engine)
    kind: Literal["duckdb", "spark"] = "spark" if engine == "spark" else "duckdb"
    store = open_store()
    window = Window(site, _time(since, "--since"), _time(until, "--until"))
    params = dataclasses.replace(Params(), threshold=threshold)
    found = run_detect(
        flows or flows_root(),
        infected=known_infected(store, infected),
        window=window,
        params=params,
        engine=kind,
    )
    if not no_store:
        store.save_c2_candidates(found)
    with jsonl_sink(out) as sink:
        if sink is not None:
            write_jsonl(sink, found)
            return
    rows = [
        (
            c.site,
            c.ip,
            c.port,
            c.proto,
            f"{c.score:.2f}",
            c.clients,
            c.infected_clients,
            c.first_seen,
            "; ".join(c.reasons),
        )
        for c in found
    ]
    console.print(
        table(
            "C2 candidates",
            [
                "site",
                "ip",
                "port",
                "proto",
                "score",
                "clients",
                "infected",
                "first seen",
                "reasons",
            ],
            rows,
        )
    )


@app.command()
def evaluate(
    truth: Path = typer.Option(..., "--truth", help="truth.json of `iotscope lab traffic`"),
    site: str | None = typer.Option(None, "--site", help="one site (default: every site)"),
    flows: Path | None = typer.Option(None, "--flows", help="Parquet root (default: home)"),
    threshold: float = typer.Option(0.5, "--threshold", help=THRESHOLD_HELP),
    infected_from: str = typer.Option(
        "truth",
        "--infected-from",
        help="truth (the truth's mirai/iot scanners, as the telescope reports them), store, none",
    ),
    out: Path | None = typer.Option(None, "--out", help="write the figures as JSON here"),
) -> None:
    """Precision, recall and time-to-detect of the detection against lab ground truth."""
    from iotscope.c2 import Params, known_infected, load_truth, truth_infected
    from iotscope.c2 import evaluate as run_evaluate
    from iotscope.flows import flows_root
    from iotscope.store import open_store

    data = load_truth(truth)
    if infected_from == "truth":
        known = truth_infected(data)
    elif infected_from == "store":
        known = known_infected(open_store())
    elif infected_from == "none":
        known = set()
    else:
        raise ConfigError("--infected-from must be truth, store or none", value=infected_from)
    params = dataclasses.replace(Params(), threshold=threshold)
    result = run_evaluate(flows or flows_root(), data, infected=known, site=site, params=params)
    summary = result.summary()
    if out is not None:
        out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    keys = [
        "precision",
        "recall",
        "tp",
        "fp",
        "fn",
        "new_c2",
        "ttd_median_s",
        "ttd_max_s",
        "ttd_missed",
    ]
    console.print(
        table("C2 detection vs truth", ["measure", "value"], [(k, summary[k]) for k in keys])
    )
    if out is None and not stdout_is_terminal():
        typer.echo(json.dumps(summary))
