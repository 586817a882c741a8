"""`iotscope survey` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from iotscope._output import console, jsonl_sink, table, write_jsonl
from iotscope.records import Finding, Survey
from iotscope.store import Store, open_store
from iotscope.survey._login import LoginPolicy
from iotscope.survey._main import Prepared, SurveyConfig, prepare, run_survey
from iotscope.survey._net import Timeouts
from iotscope.survey._targets import DEFAULT_PORTS

app = typer.Typer(
    help="The NOTICE-style survey: scoped discovery, identification, login checks.",
    no_args_is_help=True,
)

_BATCH = 500


class _Sink:
    """Where each host's findings go: JSON Lines, the store (in batches), the summary."""

    def __init__(self, store: Store, jsonl: IO[str] | None, advance: Callable[[], None]) -> None:
        self.store, self.jsonl, self.advance = store, jsonl, advance
        self.batch: list[Finding] = []
        self.by_service: Counter[str] = Counter()
        self.identified: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()

    def __call__(self, findings: list[Finding]) -> None:
        self.advance()
        if not findings:
            return
        if self.jsonl is not None:
            write_jsonl(self.jsonl, findings)
        for f in findings:
            self.by_service[f.service] += 1
            self.identified[f.service] += f.identity is not None
            self.outcomes[f.login.outcome] += 1
        self.batch.extend(findings)
        if len(self.batch) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        self.store.save_findings(self.batch)
        self.batch = []


def _summary(sink: _Sink, survey: Survey) -> None:
    rows = [
        (svc, n, f"{100 * sink.identified[svc] / n:.0f}%")
        for svc, n in sorted(sink.by_service.items())
    ]
    console.print(table(f"survey {survey.id}", ["service", "findings", "identified"], rows))
    console.print(table("login outcomes", ["outcome", "services"], sorted(sink.outcomes.items())))
    c = survey.counts
    took = (survey.finished - survey.started).total_seconds() if survey.finished else 0.0
    console.print(
        f"hosts {c.get('hosts', 0)}, up {c.get('hosts_up', 0)}, "
        f"weak {c.get('hosts_weak', 0)}, {took:.1f} s"
    )


def _execute(prepared: Prepared, store: Store, jsonl: IO[str] | None, show: bool) -> Survey:
    store.save_survey(prepared.survey)
    total = max(1, prepared.total // prepared.shard.count)
    with Progress(
        TextColumn("[bold]survey"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=not show, transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task("hosts", total=total)
        sink = _Sink(store, jsonl, lambda: progress.advance(task))
        survey = asyncio.run(run_survey(prepared, sink))
    sink.flush()
    store.save_survey(survey)
    if show:
        _summary(sink, survey)
    return survey


@app.command("run")
def run(
    scope: Path = typer.Option(..., "--scope", help="file of CIDRs/addresses to survey"),
    exclude: Path | None = typer.Option(None, "--exclude", help="file of CIDRs never contacted"),
    ports: str = typer.Option(DEFAULT_PORTS, "--ports", help="TCP ports; U:1900 for SSDP"),
    credentials: Path | None = typer.Option(
        None, "--credentials", help="extra credential list (CSV: id,protocols,username,...)"
    ),
    no_login: bool = typer.Option(False, "--no-login", help="skip the login check"),
    concurrency: int = typer.Option(1000, "--concurrency", min=1, help="sockets in flight"),
    per_subnet: int = typer.Option(
        256, "--per-subnet-concurrency", min=1, help="sockets in flight per /24"
    ),
    rate: float | None = typer.Option(None, "--rate", min=0.1, help="new connections per s"),
    shard: str | None = typer.Option(None, "--shard", help="I/N (0-based, as ZMap)"),
    zmap_csv: Path | None = typer.Option(None, "--zmap-csv", help="ZMap CSV output as targets"),
    out: Path | None = typer.Option(None, "--out", help="JSON Lines output file"),
    timeout: float = typer.Option(2.5, "--timeout", min=0.1, help="seconds per read step"),
    db: list[Path] = typer.Option([], "--db", help="extra fingerprint rule files"),
    survey_id: str | None = typer.Option(None, "--survey-id", help="re-use an id to overwrite"),
    max_attempts: int = typer.Option(
        1000, "--max-attempts", min=1, help="logins per service (default: the whole list)"
    ),
    login_delay: float = typer.Option(0.05, "--login-delay", min=0.0, help="s between logins"),
    login_budget: float = typer.Option(
        120.0, "--login-budget", min=1.0, help="s of login checks per host (all its services)"
    ),
    login_parallel: int = typer.Option(
        4, "--login-parallel", min=1, help="most connections at once to one service (fail delays)"
    ),
) -> None:
    """Survey the scope: discovery, banners, identification and (unless --no-login) logins."""
    config = SurveyConfig(
        scope=scope, exclude=exclude, ports=ports, credentials=credentials, login=not no_login,
        concurrency=concurrency, per_subnet=per_subnet, rate=rate, shard=shard,
        zmap_csv=zmap_csv, timeouts=Timeouts(read=timeout), survey_id=survey_id,
        rules=tuple(db), policy=LoginPolicy(max_attempts=max_attempts, delay=login_delay,
                                           budget=login_budget, max_parallel=login_parallel),
    )  # fmt: skip
    prepared = prepare(config)
    store = open_store()
    try:
        with jsonl_sink(out) as jsonl:
            show = jsonl is None or out is not None
            _execute(prepared, store, jsonl, show and console.is_terminal)
    finally:
        store.engine.dispose()
