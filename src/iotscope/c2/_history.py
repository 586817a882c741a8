"""Detection history: each run kept in the store, and an endpoint's record over the runs.

A run is stored per site it read (:class:`~iotscope.records.C2Run`: window, engine, the
scoring parameters, times, counts) with the candidates it reported. Their ``first_seen`` and
``last_seen`` are the first flow start and the last flow end of the endpoint in the run's
flows (the detection SQL's ``first_ms``/``last_ms``), never the window's bounds.

:func:`endpoint_history` gives one :class:`HistoryEntry` per run that reported the endpoint
and one :class:`HistorySummary` per endpoint (site, ip, port, proto): first ever seen, last
seen, and runs flagged out of the site's runs that read flows after it was first seen.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from iotscope.c2._engines import Window
from iotscope.c2._sql import Params
from iotscope.errors import ConfigError
from iotscope.records import C2Candidate, C2Run, Proto, Record, UtcTime


def new_run_id(started: datetime) -> str:
    """A fresh run id: the start time and 6 random hex digits (``c2-20261101T030000Z-1a2b3c``)."""
    return f"c2-{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    """A run id given by hand: 1-64 characters of ``[A-Za-z0-9._:-]``, else ConfigError."""
    plain = run_id.replace(".", "").replace("_", "").replace(":", "").replace("-", "")
    if not 0 < len(run_id) <= 64 or not (plain.isascii() and (plain.isalnum() or not plain)):
        raise ConfigError("a run id is 1-64 characters of [A-Za-z0-9._:-]", run_id=run_id)
    return run_id


def run_sites(source: Path | pa.Table, window: Window) -> list[str]:
    """The sites a run reads: the window's, else every ``site=`` folder (or table value)."""
    if window.site is not None:
        return [window.site]
    if isinstance(source, pa.Table):
        return sorted(str(s) for s in pc.unique(source.column("site")).to_pylist())
    return sorted(p.name.removeprefix("site=") for p in source.glob("site=*") if p.is_dir())


def params_json(params: Params) -> dict[str, Any]:
    """The scoring parameters as JSON values (what a stored run records)."""
    out = dataclasses.asdict(params)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def record_run(
    store: Any,
    found: Sequence[C2Candidate],
    template: C2Run,
    sites: Sequence[str],
) -> list[C2Run]:
    """Store ``found`` as run ``template.id``: one C2Run per site (``template`` with the site
    and its candidate count), each with that site's candidates."""
    runs = []
    for site in sorted(set(sites) | {c.site for c in found}):
        mine = [c for c in found if c.site == site]
        counts = {**template.counts, "candidates": len(mine)}
        run = template.model_copy(update={"site": site, "counts": counts})
        store.save_c2_run(run, mine)
        runs.append(run)
    return runs


class HistoryEntry(Record):
    """One run's report of an endpoint (a ``c2 history`` JSON Lines row, ``kind`` "run")."""

    kind: Literal["run"] = "run"
    run_id: str
    run_started: UtcTime
    since: UtcTime | None
    until: UtcTime | None
    engine: str
    site: str
    ip: str
    port: int
    proto: Proto
    score: float
    clients: int
    infected_clients: int
    first_seen: UtcTime
    last_seen: UtcTime
    reasons: tuple[str, ...]


class HistorySummary(Record):
    """An endpoint over all runs (a ``c2 history`` JSON Lines row, ``kind`` "summary")."""

    kind: Literal["summary"] = "summary"
    site: str
    ip: str
    port: int
    proto: Proto
    first_seen: UtcTime
    last_seen: UtcTime
    runs_flagged: int
    runs_total: int
    max_score: float
    last_run: str


def entry(run: C2Run, c: C2Candidate) -> HistoryEntry:
    return HistoryEntry(
        run_id=run.id, run_started=run.started, since=run.since, until=run.until,
        engine=run.engine, site=c.site, ip=str(c.ip), port=c.port, proto=c.proto,
        score=c.score, clients=c.clients, infected_clients=c.infected_clients,
        first_seen=c.first_seen, last_seen=c.last_seen, reasons=c.reasons,
    )  # fmt: skip


def summarise(entries: Sequence[HistoryEntry], totals: Mapping[str, int]) -> HistorySummary:
    """One endpoint's entries (oldest run first) summed up; ``totals``: runs per site."""
    last = entries[-1]
    return HistorySummary(
        site=last.site, ip=last.ip, port=last.port, proto=last.proto,
        first_seen=min(e.first_seen for e in entries),
        last_seen=max(e.last_seen for e in entries),
        runs_flagged=len({e.run_id for e in entries}),
        runs_total=max(totals.get(last.site, 0), len(entries)),
        max_score=max(e.score for e in entries), last_run=last.run_id,
    )  # fmt: skip


def endpoint_history(
    store: Any, ip: str, *, port: int | None = None, site: str | None = None
) -> tuple[list[HistoryEntry], list[HistorySummary]]:
    """Every run that reported ``ip`` (optionally one port, one site), and a summary per
    endpoint (site, ip, port, proto)."""
    try:
        addr = str(ipaddress.ip_address(ip))
    except ValueError as exc:
        raise ConfigError("not an IP address", ip=ip) from exc
    entries = [entry(r, c) for r, c in store.c2_history(addr, site=site, port=port)]
    groups: dict[tuple[str, int, str], list[HistoryEntry]] = {}
    for e in entries:
        groups.setdefault((e.site, e.port, e.proto), []).append(e)
    summaries = []
    for es in groups.values():
        first = min(e.first_seen for e in es)
        totals = store.c2_runs_since({es[0].site: first})
        summaries.append(summarise(es, totals))
    return entries, sorted(summaries, key=lambda s: (s.site, s.port, s.proto))
