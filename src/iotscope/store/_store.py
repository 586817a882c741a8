"""The store: thin, typed functions over the schema, one implementation for SQLite and
PostgreSQL (the contract suite in ``tests/store`` runs against both)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import StoreError
from iotscope.records import C2Candidate, Finding, Identity, Login, Sighting, Survey
from iotscope.store import _schema as s

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
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        keys = [c.name for c in table.primary_key.columns]
        try:
            with self.engine.begin() as conn:
                for i in range(0, len(rows), _CHUNK):
                    stmt = insert(table)
                    update = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys}
                    conn.execute(
                        stmt.on_conflict_do_update(index_elements=keys, set_=update),
                        list(rows[i : i + _CHUNK]),
                    )
        except SQLAlchemyError as exc:
            raise StoreError("write failed", table=table.name, reason=str(exc)[:300]) from exc
        return len(rows)

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
        rows = []
        for f in findings:
            if f.survey_id is None:
                raise StoreError("a stored finding needs its survey_id", ip=str(f.ip))
            row = f.model_dump(mode="json")
            row["time"] = f.time
            rows.append(row)
        return self._upsert(s.findings, rows)

    def findings(self, survey_id: str | None = None) -> list[Finding]:
        out = []
        for r in self._select(s.findings, survey_id=survey_id):
            r["identity"] = Identity.model_validate(r["identity"]) if r["identity"] else None
            r["login"] = Login.model_validate(r["login"])
            r["cves"] = tuple(r["cves"])
            out.append(Finding.model_validate(r))
        return out

    # -- darknet sightings ------------------------------------------------------------------
    def save_sightings(self, sightings: Iterable[Sighting]) -> int:
        rows = []
        for x in sightings:
            row = x.model_dump(mode="json")
            row.update(first_seen=x.first_seen, last_seen=x.last_seen)
            rows.append(row)
        return self._upsert(s.sightings, rows)

    def sightings(self, sensor: str | None = None) -> list[Sighting]:
        out = []
        for r in self._select(s.sightings, sensor=sensor):
            r["ports"] = {int(k): int(v) for k, v in r["ports"].items()}
            out.append(Sighting.model_validate(r))
        return out

    def infected_ips(self, classes: tuple[str, ...] = ("mirai", "iot")) -> set[str]:
        """Addresses the telescope classified as infected IoT scanners."""
        stmt = select(s.sightings.c.src).where(s.sightings.c.classification.in_(classes))
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(stmt)}

    # -- C2 candidates ----------------------------------------------------------------------
    def save_c2_candidates(self, candidates: Iterable[C2Candidate]) -> int:
        rows = []
        for c in candidates:
            row = c.model_dump(mode="json")
            row.update(first_seen=c.first_seen, last_seen=c.last_seen, reasons=list(c.reasons))
            rows.append(row)
        return self._upsert(s.c2_candidates, rows)

    def c2_candidates(self, site: str | None = None) -> list[C2Candidate]:
        return [C2Candidate.model_validate(r) for r in self._select(s.c2_candidates, site=site)]


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
