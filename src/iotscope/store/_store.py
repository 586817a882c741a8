"""The store: thin, typed functions over the schema, one implementation for SQLite and
PostgreSQL (the contract suite in ``tests/store`` runs against both)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import StoreError
from iotscope.records import C2Candidate, C2Run, Finding, Identity, Login, Sighting, Survey
from iotscope.store import _c2 as c2
from iotscope.store import _hosts as hosts
from iotscope.store import _schema as s
from iotscope.store import _sightings as sg
from iotscope.store._hosts import INFECTED_CLASSES

_CHUNK = 2000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Store:
    """Operational records over SQLAlchemy Core. Build with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- generic upsert ---------------------------------------------------------------------
    def _upsert(self, table: Table, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        with self._write(table.name) as conn:
            self._upsert_in(conn, table, rows)
        return len(rows)

    def _upsert_in(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        keys = [c.name for c in table.primary_key.columns]
        for i in range(0, len(rows), _CHUNK):
            stmt = insert(table)
            update = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys}
            conn.execute(
                stmt.on_conflict_do_update(index_elements=keys, set_=update),
                list(rows[i : i + _CHUNK]),
            )

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        """One transaction; database errors become :class:`StoreError`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError("write failed", table=what, reason=str(exc)[:300]) from exc

    def _query(self, stmt: Any, what: str) -> list[dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(stmt)]
        except SQLAlchemyError as exc:
            raise StoreError("read failed", table=what, reason=str(exc)[:300]) from exc

    def _select(self, table: Table, **where: Any) -> list[dict[str, Any]]:
        stmt = select(table)
        for col, value in where.items():
            if value is not None:
                stmt = stmt.where(table.c[col] == value)
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(stmt)]
        except SQLAlchemyError as exc:
            raise StoreError("read failed", table=table.name, reason=str(exc)[:300]) from exc

    # -- surveys and findings ---------------------------------------------------------------
    def save_survey(self, survey: Survey) -> None:
        row = survey.model_dump()
        row.update(scope=list(survey.scope), exclude=list(survey.exclude), ports=list(survey.ports))
        self._upsert(s.surveys, [row])

    def surveys(self) -> list[Survey]:
        return [Survey.model_validate(r) for r in self._select(s.surveys)]

    def save_findings(self, findings: Iterable[Finding]) -> int:
        return self._upsert(s.findings, finding_rows(findings))

    def findings(self, survey_id: str | None = None) -> list[Finding]:
        out = []
        for r in self._select(s.findings, survey_id=survey_id):
            r["identity"] = Identity.model_validate(r["identity"]) if r["identity"] else None
            r["login"] = Login.model_validate(r["login"])
            r["cves"] = tuple(r["cves"])
            out.append(Finding.model_validate(r))
        return out

    # -- darknet sightings ------------------------------------------------------------------
    def save_sightings(
        self,
        sightings: Iterable[Sighting],
        *,
        capture_id: str | None = None,
        span: tuple[datetime, datetime] | None = None,
    ) -> int:
        """Store one capture's sightings (per sensor) and re-merge the sources it touches.

        ``capture_id`` names the capture (default: a digest of the sightings), ``span`` its
        packet-time range (default: the sightings' own). A capture already stored is a no-op;
        returns how many sightings were added.
        """
        by_sensor: dict[str, list[Sighting]] = {}
        for x in sightings:
            by_sensor.setdefault(x.sensor, []).append(x)
        added = 0
        for sensor, rows in by_sensor.items():
            cid = capture_id or sg.content_id(rows)
            whole = span or (min(x.first_seen for x in rows), max(x.last_seen for x in rows))
            added += self.save_capture(sensor, cid, whole, rows)
        return added

    def save_capture(
        self,
        sensor: str,
        capture_id: str,
        span: tuple[datetime, datetime],
        sightings: Sequence[Sighting],
    ) -> int:
        """Store capture ``capture_id`` of ``sensor`` (its packet-time ``span``, its sightings,
        which may be none) and re-merge the sources it touches, in one transaction. A capture
        already stored is a no-op; returns how many sightings were added."""
        if any(x.sensor != sensor for x in sightings):
            raise StoreError("a capture's sightings must be of its sensor", sensor=sensor)
        with self._write(s.sighting_parts.name) as conn:
            if sg.has_capture(conn, sensor, capture_id):
                return 0
            parts = [sg.part_row(x, capture_id) for x in sightings]
            sg.add_capture(conn, sensor, capture_id, span, parts)
        return len(parts)

    def has_capture(self, sensor: str, capture_id: str) -> bool:
        """Whether the capture ``capture_id`` of ``sensor`` is already stored."""
        with self.engine.connect() as conn:
            return sg.has_capture(conn, sensor, capture_id)

    def capture_spans(self, sensor: str) -> list[tuple[datetime, datetime]]:
        """Packet-time ranges of the captures stored for ``sensor``, in time order."""
        with self.engine.connect() as conn:
            return sorted(sg.capture_spans(conn, sensor).values())

    def sightings(self, sensor: str | None = None) -> list[Sighting]:
        """Merged sightings (one per source and stretch of continuous coverage)."""
        out = []
        for r in self._select(s.sightings, sensor=sensor):
            r["ports"] = {int(k): int(v) for k, v in r["ports"].items()}
            out.append(Sighting.model_validate(r))
        return out

    def infected_ips(self, classes: tuple[str, ...] = INFECTED_CLASSES) -> set[str]:
        """Addresses the telescope classified as infected IoT scanners."""
        t = s.sightings
        stmt = select(t.c.src).where(t.c.classification.in_(classes)).distinct()
        return {r["src"] for r in self._query(stmt, t.name)}

    def known_hosts(self, kinds: Collection[str] = ("infected",)) -> list[tuple[str, str]]:
        """``(ip, kind)`` rows, one per address and kind, selected in SQL: kind ``infected``
        (telescope sightings classed mirai/iot) and ``weak_login`` (survey findings whose
        login was accepted or needed none). Unknown kinds are an error."""
        return [(r["ip"], r["kind"]) for r in self._query(hosts.known_query(kinds), "known")]

    # -- C2 detection runs ------------------------------------------------------------------
    def save_c2_run(self, run: C2Run, candidates: Iterable[C2Candidate]) -> int:
        """Store one run (of one site) with its candidates in one transaction. Saving a run
        id again replaces its candidate set: a no-op when it is the same."""
        rows = [c2.candidate_row(run, c) for c in candidates]
        with self._write(s.c2_candidates.name) as conn:
            self._upsert_in(conn, s.c2_runs, [c2.run_row(run)])
            c2.delete_keys(conn, run, c2.stale_keys(conn, run, rows))
            if rows:
                self._upsert_in(conn, s.c2_candidates, rows)
        return len(rows)

    def c2_runs(self, site: str | None, *, limit: int | None = None) -> list[C2Run]:
        """Runs of ``site`` (``None``: every site, the centre's view), newest first."""
        return [c2.as_run(r) for r in self._query(c2.runs_query(site, limit), "c2_runs")]

    def c2_run_candidates(self, run_id: str, site: str | None) -> list[C2Candidate]:
        """The candidates one run found at ``site`` (``None``: at every site)."""
        rows = self._query(c2.candidates_query(run_id, site), "c2_candidates")
        return [c2.as_candidate(r) for r in rows]

    def c2_candidates(self, site: str | None = None) -> list[C2Candidate]:
        """The current candidates: those of each site's newest run."""
        return [c2.as_candidate(r) for r in self._query(c2.latest_query(site), "c2_candidates")]

    def c2_history(
        self, ip: str, *, site: str | None, port: int | None = None, proto: str | None = None
    ) -> list[tuple[C2Run, C2Candidate]]:
        """Every run that reported the endpoint, oldest first, with what it reported."""
        stmt = c2.history_query(ip, site, port, proto)
        return [c2.split_history_row(r) for r in self._query(stmt, "c2_candidates")]

    def c2_runs_since(self, first_seen: dict[str, datetime]) -> dict[str, int]:
        """Per site, its runs whose window reaches past the given time (``until`` unset or
        later): the runs that could have reported an endpoint first seen then."""
        try:
            with self.engine.connect() as conn:
                return c2.runs_after(conn, first_seen)
        except SQLAlchemyError as exc:
            raise StoreError("read failed", table="c2_runs", reason=str(exc)[:300]) from exc

    def save_c2_candidates(
        self, candidates: Iterable[C2Candidate], run_id: str | None = None
    ) -> int:
        """Candidates of an ad-hoc run (no window or parameters known), one run per site."""
        found = list(candidates)
        now = datetime.now(UTC)
        rid = run_id or f"adhoc-{now:%Y%m%dT%H%M%S%fZ}"
        for site in sorted({c.site for c in found}):
            mine = [c for c in found if c.site == site]
            run = C2Run(id=rid, site=site, engine="unknown", started=now, finished=now,
                        counts={"candidates": len(mine)})  # fmt: skip
            self.save_c2_run(run, mine)
        return len(found)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder and WAL mode."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError("bad database URL", url=url, reason=str(exc)) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


NUL_SYMBOL = "\u2400"
"""PostgreSQL's text type cannot hold NUL, which real banners contain (telnet option bytes,
binary services): the store keeps each NUL of a banner as U+2400 SYMBOL FOR NULL, on every
backend alike, so a finding is never refused or silently cut for it."""


def finding_rows(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """The findings table's rows (every stored finding names its survey)."""
    rows = []
    for f in findings:
        if f.survey_id is None:
            raise StoreError("a stored finding needs its survey_id", ip=str(f.ip))
        row = f.model_dump(mode="json")
        row["time"] = f.time
        if row["banner"] is not None:
            row["banner"] = row["banner"].replace("\x00", NUL_SYMBOL)
        rows.append(row)
    return rows
