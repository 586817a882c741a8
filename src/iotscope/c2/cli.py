"""`iotscope c2` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import typer

from iotscope._output import console, jsonl_sink, stdout_is_terminal, table, write_jsonl
from iotscope.errors import ConfigError

app = typer.Typer(help="C2 candidates scored from flow data.", no_args_is_help=True)

THRESHOLD_HELP = "report endpoints scoring at least this (0-1; default 0.5)"
KNOWN_C2_HELP = (
    "known C2 endpoints whose clients count as infected (C2 contact): history (every site's "
    "newest stored run), hub (the local hub's shared and partner indicators) or a file of "
    "ip:port[/proto] lines; repeatable"
)


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
    no_store: bool = typer.Option(False, "--no-store", help="do not save the run"),
    run_id: str | None = typer.Option(None, "--run-id", help="store under this run id"),
    weak_login: bool = typer.Option(
        False,
        "--weak-login-as-infected",
        help="count devices the survey logged into as infected (default: only telescope/list)",
    ),
    known_c2: list[str] = typer.Option([], "--known-c2", help=KNOWN_C2_HELP),
) -> None:
    """Score remote endpoints in the site's flows as C2 servers, with reasons; store the run."""
    from iotscope.c2 import Params, Window
    from iotscope.c2 import detect as run_detect
    from iotscope.c2._history import (
        check_run_id,
        new_run_id,
        params_json,
        record_run,
        run_sites,
    )
    from iotscope.c2._known import INFECTED, WITH_WEAK_LOGIN, counted, known_hosts, tally
    from iotscope.c2._knownc2 import known_c2 as known_c2_of
    from iotscope.flows import flows_root
    from iotscope.records import C2Run
    from iotscope.store import open_store

    if engine not in ("duckdb", "spark"):
        raise ConfigError("--engine must be duckdb or spark", engine=engine)
    kind: Literal["duckdb", "spark"] = "spark" if engine == "spark" else "duckdb"
    store = open_store()
    window = Window(site, _time(since, "--since"), _time(until, "--until"))
    params = dataclasses.replace(Params(), threshold=threshold)
    rid = check_run_id(run_id) if run_id else None
    known = known_hosts(store, infected)
    endpoints = known_c2_of(store, known_c2, before=window.since)
    kinds = WITH_WEAK_LOGIN if weak_login else INFECTED
    started = datetime.now(UTC)
    source = flows or flows_root()
    found = run_detect(
        source,
        infected=counted(known, kinds),
        window=window,
        params=params,
        engine=kind,
        infected_kinds=kinds,
        known_c2=endpoints,
    )
    if not no_store:
        template = C2Run(
            id=rid or new_run_id(started), site=site or "", since=window.since,
            until=window.until, engine=kind, params=params_json(params), started=started,
            finished=datetime.now(UTC), counts={**tally(known), "known_c2": len(endpoints)},
        )  # fmt: skip
        runs = record_run(store, found, template, run_sites(source, window))
        console.print(f"stored run {template.id} ({len(runs)} site(s), {len(found)} candidates)")
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


def _telescope_infected(darknet: Path) -> set[str]:
    """The telescope's infected IoT scanners (mirai, iot) in a darknet capture."""
    from iotscope.telescope import Options, ingest

    result = ingest(darknet, Options(sensor="c2-evaluate"))
    return {str(s.src) for s in result.sightings if s.classification in ("mirai", "iot")}


def _evaluate_infected(source: str, darknet: Path, weak_login: bool) -> set[str]:
    """The known-infected list of an evaluation, as ``c2 detect`` would count it: the
    telescope's scanners (from ``darknet`` or the store) and, when asked, the survey's logins."""
    from iotscope.c2._known import INFECTED, WITH_WEAK_LOGIN, counted, known_hosts
    from iotscope.store import open_store

    if source not in ("telescope", "store", "none"):
        raise ConfigError("--infected-from must be telescope, store or none", value=source)
    if source == "none":
        return set()
    known = known_hosts(open_store())
    if source == "telescope":
        if not darknet.is_file():
            raise ConfigError("no darknet capture for the telescope", path=str(darknet))
        known = [(ip, k) for ip, k in known if k != "infected"]
        known += [(ip, "infected") for ip in _telescope_infected(darknet)]
    return set(counted(known, WITH_WEAK_LOGIN if weak_login else INFECTED))


EVAL_KEYS = ("precision", "recall", "tp", "fp", "fn", "new_c2", "ttd_median_s", "ttd_max_s",
             "ttd_missed")  # fmt: skip


def _short(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


@app.command()
def history(
    ip: str = typer.Argument(..., help="the endpoint's address"),
    port: int | None = typer.Option(None, "--port", help="one port (default: every port)"),
    site: str | None = typer.Option(None, "--site", help="one site (default: every site)"),
    out: Path | None = typer.Option(None, "--out", help="write JSON Lines here"),
) -> None:
    """An endpoint over time: every stored run that reported it, and a summary per endpoint."""
    from iotscope.c2._history import endpoint_history
    from iotscope.store import open_store

    entries, summaries = endpoint_history(open_store(), ip, port=port, site=site)
    with jsonl_sink(out) as sink:
        if sink is not None:
            write_jsonl(sink, [*entries, *summaries])
            return
    runs = [
        (e.run_id, e.site, f"{e.port}/{e.proto}", f"{e.score:.2f}",
         f"{e.infected_clients}/{e.clients}", _short(e.first_seen), _short(e.last_seen),
         "; ".join(e.reasons))
        for e in entries
    ]  # fmt: skip
    columns = ["run", "site", "port", "score", "infected/clients", "first seen", "last seen",
               "reasons"]  # fmt: skip
    console.print(table(f"runs that reported {ip}", columns, runs))
    rows = [
        (s.site, f"{s.port}/{s.proto}", _short(s.first_seen), _short(s.last_seen),
         f"{s.runs_flagged}/{s.runs_total}", f"{s.max_score:.2f}", s.last_run)
        for s in summaries
    ]  # fmt: skip
    columns = ["site", "port", "first seen", "last seen", "runs flagged/total", "max score",
               "last run"]  # fmt: skip
    console.print(table(f"{ip} over time", columns, rows))


@app.command()
def evaluate(
    truth: Path = typer.Option(..., "--truth", help="truth.json of `iotscope lab traffic`"),
    site: str | None = typer.Option(None, "--site", help="one site (default: every site)"),
    flows: Path | None = typer.Option(None, "--flows", help="Parquet root (default: home)"),
    threshold: float = typer.Option(0.5, "--threshold", help=THRESHOLD_HELP),
    infected_from: str = typer.Option(
        "telescope",
        "--infected-from",
        help="telescope (the darknet capture through the telescope), store (the store's "
        "telescope sightings), none",
    ),
    weak_login: bool = typer.Option(
        False,
        "--weak-login-as-infected",
        help="also count devices the survey logged into (the store's findings) as infected",
    ),
    darknet: Path | None = typer.Option(
        None, "--darknet", help="darknet capture (default: darknet.pcap beside --truth)"
    ),
    oracle: bool = typer.Option(
        False, "--oracle", help="add a labelled column with the truth's bots as the list"
    ),
    out: Path | None = typer.Option(None, "--out", help="write the figures as JSON here"),
    known_c2: list[str] = typer.Option([], "--known-c2", help=KNOWN_C2_HELP),
) -> None:
    """Precision, recall and time-to-detect of the detection against lab ground truth.

    The known-infected list comes from the sensors (never from the truth); ``--oracle`` adds
    the figures with the truth's own bots as the list, labelled as such.
    """
    from iotscope.c2 import Params, fp_by_family, load_truth, oracle_infected
    from iotscope.c2 import evaluate as run_evaluate
    from iotscope.c2._knownc2 import known_c2 as known_c2_of
    from iotscope.flows import flows_root
    from iotscope.store import open_store

    data = load_truth(truth)
    known = _evaluate_infected(infected_from, darknet or truth.parent / "darknet.pcap", weak_login)
    endpoints = known_c2_of(open_store(), known_c2) if known_c2 else set()
    params = dataclasses.replace(Params(), threshold=threshold)
    root = flows or flows_root()
    result = run_evaluate(root, data, infected=known, site=site, params=params, known_c2=endpoints)
    summary = {"infected_from": infected_from, "infected_listed": len(known),
               "known_c2": len(endpoints),
               **result.summary(), "fp_by_family": fp_by_family(result.fp, data)}  # fmt: skip
    given = f" + {len(endpoints)} known C2 (found again, they count)" if endpoints else ""
    columns = ["measure", f"infected list: {infected_from}{given}"]
    values = [[summary[k]] for k in EVAL_KEYS]
    if oracle:
        extra = run_evaluate(root, data, infected=oracle_infected(data), site=site, params=params)
        summary["oracle_truth_infected"] = extra.summary()
        columns.append("ORACLE: truth's bots as the list (not a field figure)")
        for row, k in zip(values, EVAL_KEYS, strict=True):
            row.append(summary["oracle_truth_infected"][k])
    if out is not None:
        out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    rows = [(k, *v) for k, v in zip(EVAL_KEYS, values, strict=True)]
    console.print(table("C2 detection vs truth", columns, rows))
    if out is None and not stdout_is_terminal():
        typer.echo(json.dumps(summary))
