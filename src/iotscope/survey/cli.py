"""`iotscope survey` commands (thin: parse options, call the part, print)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from iotscope._output import console, jsonl_sink, table, write_jsonl
from iotscope.errors import ConfigError
from iotscope.records import Finding, Survey
from iotscope.store import Store, SurveyProgress, load_survey_progress, open_store
from iotscope.survey._login import LoginPolicy
from iotscope.survey._main import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PER_SUBNET,
    DEFAULT_RATE,
    Prepared,
    Recorded,
    SurveyConfig,
    prepare,
    resume_config,
    run_recorded,
)
from iotscope.survey._net import Timeouts
from iotscope.survey._targets import DEFAULT_PORTS

app = typer.Typer(
    help="The NOTICE-style survey: scoped discovery, identification, login checks.",
    no_args_is_help=True,
)


class _Sink:
    """Each host's findings for the operator: JSON Lines, the summary, the progress bar
    (the store gets them from the run's recorder, off the event loop)."""

    def __init__(self, jsonl: IO[str] | None, advance: Callable[[], None]) -> None:
        self.jsonl, self.advance = jsonl, advance
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
        f"weak {c.get('hosts_weak', 0)}, errors {c.get('host_errors', 0)}, {took:.1f} s"
    )


def _execute(
    prepared: Prepared,
    store: Store,
    jsonl: IO[str] | None,
    show: bool,
    progress: SurveyProgress | None = None,
    flush_every: float = 2.0,
) -> Recorded:
    if progress is None:
        store.save_survey(prepared.survey)
    for line in prepared.start_message():
        console.print(line, highlight=False)
    before = progress.watermark + len(progress.done) if progress else 0
    total = max(1, prepared.total // prepared.shard.count)
    with Progress(
        TextColumn("[bold]survey"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=not show, transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task("hosts", total=total, completed=min(before, total))
        sink = _Sink(jsonl, lambda: bar.advance(task))
        result = asyncio.run(run_recorded(prepared, store, sink, progress, flush_every))
    store.save_survey(result.survey)
    if result.stopped_by is not None:
        name = signal.Signals(result.stopped_by).name
        console.print(f"stopped by {name}; findings so far are stored. Resume with: "
                      f"iotscope survey run --resume {result.survey.id}")  # fmt: skip
    elif show:
        _summary(sink, result.survey)
    return result


def _resume(store: Store, survey_id: str) -> tuple[Prepared, SurveyProgress] | None:
    """The prepared run and its progress, or None when that survey already finished."""
    progress = load_survey_progress(store, survey_id)
    if progress is None:
        raise ConfigError("no recorded progress for this survey id", survey_id=survey_id)
    record = next((s for s in store.surveys() if s.id == survey_id), None)
    if record is not None and record.finished is not None:
        return None
    prepared = prepare(resume_config(progress), now=record.started if record else None)
    return prepared, progress


@app.command("run")
def run(
    scope: Path | None = typer.Option(None, "--scope", help="file of CIDRs/addresses to survey"),
    exclude: Path | None = typer.Option(None, "--exclude", help="file of CIDRs never contacted"),
    ports: str = typer.Option(DEFAULT_PORTS, "--ports", help="TCP ports; U:1900 for SSDP"),
    credentials: Path | None = typer.Option(
        None, "--credentials", help="extra credential list (CSV: id,protocols,username,...)"
    ),
    no_login: bool = typer.Option(False, "--no-login", help="skip the login check"),
    concurrency: int = typer.Option(
        DEFAULT_CONCURRENCY, "--concurrency", min=1, help="sockets in flight"
    ),
    per_subnet: int = typer.Option(
        DEFAULT_PER_SUBNET, "--per-subnet-concurrency", min=1, help="sockets in flight per /24"
    ),
    rate: float = typer.Option(
        DEFAULT_RATE, "--rate", min=0.0, help="new connections per s (0: unlimited, labs only)"
    ),
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
    seed: int | None = typer.Option(
        None, "--seed", min=0, help="visiting-order seed (default: a fresh one, recorded)"
    ),
    resume: str | None = typer.Option(
        None, "--resume", help="continue the interrupted survey with this id"
    ),
    flush_every: float = typer.Option(
        2.0, "--flush-every", min=0.01, help="seconds between store writes"
    ),
    login_budget: float = typer.Option(
        120.0, "--login-budget", min=1.0, help="s of login checks per host (all its services)"
    ),
    login_parallel: int = typer.Option(
        4, "--login-parallel", min=1, help="most connections at once to one service (fail delays)"
    ),
) -> None:
    """Survey the scope: discovery, banners, identification and (unless --no-login) logins."""
    store = open_store()
    try:
        if resume is not None:
            resumed = _resume(store, resume)
            if resumed is None:
                console.print(f"survey {resume} already finished: nothing to resume")
                return
            prepared, progress = resumed
        else:
            if scope is None:
                raise ConfigError("--scope is required (or --resume ID)")
            config = SurveyConfig(
                scope=scope, exclude=exclude, ports=ports, credentials=credentials,
                login=not no_login, concurrency=concurrency, per_subnet=per_subnet,
                rate=rate or None, shard=shard, zmap_csv=zmap_csv,
                timeouts=Timeouts(read=timeout), survey_id=survey_id, rules=tuple(db),
                policy=LoginPolicy(max_attempts=max_attempts, delay=login_delay,
                                   budget=login_budget, max_parallel=login_parallel),
                seed=seed,
            )  # fmt: skip
            prepared, progress = prepare(config), None
        with jsonl_sink(out) as jsonl:
            show = (jsonl is None or out is not None) and console.is_terminal
            result = _execute(prepared, store, jsonl, show, progress, flush_every)
    finally:
        store.engine.dispose()
    if result.stopped_by is not None:
        raise typer.Exit(128 + result.stopped_by)
