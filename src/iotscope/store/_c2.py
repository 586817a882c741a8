"""C2 detection runs and their candidates: rows, queries and the history of an endpoint.

Functions take an open connection (the :class:`~iotscope.store.Store` methods own the
transactions). A run is stored per site it read; its candidates are keyed by
(run_id, site, ip, port, proto), so every run is kept and re-saving a run replaces its
candidate set (a no-op when nothing changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, func, select

from iotscope.errors import StoreError
from iotscope.records import C2Candidate, C2Run
from iotscope.store import _schema as s

Row = dict[str, Any]
_KEY = ("ip", "port", "proto")


def run_row(run: C2Run) -> Row:
    return {
        **run.model_dump(mode="json"),
        "since": run.since,
        "until": run.until,
        "started": run.started,
        "finished": run.finished,
    }


def candidate_row(run: C2Run, c: C2Candidate) -> Row:
    if c.site != run.site:
        raise StoreError("a run's candidate must be of the run's site", run=run.id, site=c.site)
    row = c.model_dump(mode="json")
    row.update(
        run_id=run.id, first_seen=c.first_seen, last_seen=c.last_seen, reasons=list(c.reasons)
    )
    return row


def stale_keys(conn: Connection, run: C2Run, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """Keys stored for ``run`` that ``rows`` no longer hold (to delete on a re-save)."""
    t = s.c2_candidates
    stmt = select(t.c.ip, t.c.port, t.c.proto).where(t.c.run_id == run.id, t.c.site == run.site)
    new = {tuple(r[k] for k in _KEY) for r in rows}
    return [tuple(k) for k in conn.execute(stmt) if tuple(k) not in new]


def delete_keys(conn: Connection, run: C2Run, keys: Sequence[tuple[Any, ...]]) -> None:
    t = s.c2_candidates
    for key in keys:
        conn.execute(
            delete(t).where(
                t.c.run_id == run.id,
                t.c.site == run.site,
                *(t.c[k] == v for k, v in zip(_KEY, key, strict=True)),
            )
        )


def as_run(row: Row) -> C2Run:
    return C2Run.model_validate({k: row[k] for k in C2Run.model_fields})


def as_candidate(row: Row) -> C2Candidate:
    return C2Candidate.model_validate({k: row[k] for k in C2Candidate.model_fields})


def runs_query(site: str | None, limit: int | None) -> Select[Any]:
    """Runs newest first (by start, then id), of one site or every site (``None``)."""
    t = s.c2_runs
    stmt = select(t).order_by(t.c.started.desc(), t.c.id.desc(), t.c.site)
    if site is not None:
        stmt = stmt.where(t.c.site == site)
    return stmt.limit(limit) if limit is not None else stmt


def candidates_query(run_id: str, site: str | None) -> Select[Any]:
    t = s.c2_candidates
    stmt = select(t).where(t.c.run_id == run_id)
    if site is not None:
        stmt = stmt.where(t.c.site == site)
    return stmt.order_by(t.c.site, t.c.score.desc(), t.c.ip, t.c.port, t.c.proto)


def latest_query(site: str | None) -> Select[Any]:
    """Candidates of each site's newest run (a site whose newest run found none has none)."""
    r, c = s.c2_runs, s.c2_candidates
    rank = (
        func.row_number()
        .over(partition_by=r.c.site, order_by=(r.c.started.desc(), r.c.id.desc()))
        .label("rank")
    )
    ranked = select(r.c.id, r.c.site, rank)
    if site is not None:
        ranked = ranked.where(r.c.site == site)
    newest = ranked.subquery()
    return (
        select(c)
        .join(newest, and_(c.c.run_id == newest.c.id, c.c.site == newest.c.site))
        .where(newest.c.rank == 1)
        .order_by(c.c.site, c.c.score.desc(), c.c.ip, c.c.port, c.c.proto)
    )


def history_query(ip: str, site: str | None, port: int | None, proto: str | None) -> Select[Any]:
    """Every (run, candidate) row of the endpoint, oldest run first."""
    r, c = s.c2_runs, s.c2_candidates
    cols = [*r.c, *(col.label(f"c_{col.name}") for col in c.c)]
    stmt = (
        select(*cols)
        .join(c, and_(c.c.run_id == r.c.id, c.c.site == r.c.site))
        .where(c.c.ip == ip)
        .order_by(r.c.started, r.c.id, c.c.site, c.c.port, c.c.proto)
    )
    for col, value in (("site", site), ("port", port), ("proto", proto)):
        if value is not None:
            stmt = stmt.where(c.c[col] == value)
    return stmt


def split_history_row(row: Row) -> tuple[C2Run, C2Candidate]:
    cand = {k.removeprefix("c_"): v for k, v in row.items() if k.startswith("c_")}
    return as_run(row), as_candidate(cand)


def runs_after(conn: Connection, first_seen: dict[str, datetime]) -> dict[str, int]:
    """Per site, how many of its runs read flows after the given time (``until`` unset or
    later): the runs that could have seen an endpoint first seen then."""
    r = s.c2_runs
    out: dict[str, int] = {}
    for site, start in first_seen.items():
        stmt = (
            select(func.count())
            .select_from(r)
            .where(r.c.site == site, (r.c.until.is_(None)) | (r.c.until > start))
        )
        out[site] = int(conn.execute(stmt).scalar_one())
    return out


__all__ = [
    "as_candidate",
    "as_run",
    "candidate_row",
    "candidates_query",
    "delete_keys",
    "history_query",
    "latest_query",
    "run_row",
    "runs_after",
    "runs_query",
    "split_history_row",
    "stale_keys",
]
