"""The store reads behind :mod:`iotscope.makers._frame`, as plain tuples (SQLAlchemy Core,
one query for SQLite and PostgreSQL). Identity fields are extracted from the findings' JSON
in SQL and grouped per survey and address there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import StoreError
from iotscope.store import Store
from iotscope.store import _schema as s
from iotscope.store._hosts import INFECTED_CLASSES, WEAK_OUTCOMES

IDENTITY = ("vendor", "model", "version", "cpe")


def fetch(store: Store, stmt: Any, what: str) -> list[tuple[Any, ...]]:
    """Every row of ``stmt`` as a tuple; database errors as :class:`StoreError`."""
    try:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt).all()]
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table=what, reason=str(exc)[:300]) from exc


def utc(t: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime (naive values are UTC)."""
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def device_rows(store: Store) -> list[tuple[Any, ...]]:
    """Per survey and address: survey_id, ip, vendor, model, version, cpe (greatest
    non-null over its findings), weak (0/1)."""
    f = s.findings
    weak = f.c.login["outcome"].as_string().in_(WEAK_OUTCOMES)
    idents = [func.max(f.c.identity[k].as_string()).label(k) for k in IDENTITY]
    stmt = select(
        f.c.survey_id, f.c.ip, *idents,
        func.max(case((weak, 1), else_=0)).label("weak"),
    ).group_by(f.c.survey_id, f.c.ip)  # fmt: skip
    return fetch(store, stmt, "findings")


def round_starts(store: Store) -> list[tuple[str, datetime]]:
    """Per survey: the time of its first finding."""
    f = s.findings
    stmt = select(f.c.survey_id, func.min(f.c.time)).group_by(f.c.survey_id)
    return [(r[0], utc(r[1])) for r in fetch(store, stmt, "findings")]


def cve_rows(store: Store) -> list[tuple[Any, ...]]:
    """survey_id, ip, cve, evidence, in KEV (0/1), cvss, severity of each device CVE."""
    v, k = s.metadata.tables["vuln_finding_cves"], s.metadata.tables["vuln_kev"]
    c = s.metadata.tables["vuln_cves"]
    kev = case((k.c.cve.is_(None), 0), else_=1).label("kev")
    stmt = (
        select(v.c.survey_id, v.c.ip, v.c.cve, v.c.evidence, kev, c.c.cvss, c.c.severity)
        .select_from(v.outerjoin(k, k.c.cve == v.c.cve).outerjoin(c, c.c.cve == v.c.cve))
        .distinct()
    )
    return fetch(store, stmt, "vuln_finding_cves")


def finding_cves(store: Store) -> list[tuple[str, str, str]]:
    """survey_id, ip, cve: the CVEs findings carry themselves (the survey's version table),
    one row per finding and CVE, the JSON arrays unnested in SQL (SQLite ``json_each``,
    PostgreSQL ``json_array_elements_text``)."""
    f = s.findings
    if store.engine.dialect.name == "postgresql":
        each = func.json_array_elements_text(f.c.cves).table_valued("value").render_derived()
    else:
        each = func.json_each(f.c.cves).table_valued("value")
    stmt = select(f.c.survey_id, f.c.ip, each.c.value).select_from(f).join(each, literal(True))
    return [(r[0], r[1], str(r[2])) for r in fetch(store, stmt, "findings")]


def kev_ids(store: Store) -> set[str]:
    k = s.metadata.tables["vuln_kev"]
    return {r[0] for r in fetch(store, select(k.c.cve), "vuln_kev")}


def bot_spans(store: Store) -> list[tuple[str, datetime | str, datetime | str]]:
    """(address, first seen, last seen) of every telescope sighting of a bot."""
    t = s.sightings
    stmt = select(t.c.src, t.c.first_seen, t.c.last_seen).where(
        t.c.classification.in_(INFECTED_CLASSES)
    )
    return [(r[0], r[1], r[2]) for r in fetch(store, stmt, t.name)]


def stamp(store: Store) -> tuple[Any, ...]:
    """What the device table depends on: row counts and newest times of its sources (a new
    survey round, sighting, CVE match or KEV entry changes it)."""
    f, t = s.findings, s.sightings
    v, k = s.metadata.tables["vuln_finding_cves"], s.metadata.tables["vuln_kev"]
    out: list[Any] = []
    for stmt in (
        select(func.count(), func.max(f.c.time)),
        select(func.count(), func.max(t.c.last_seen)),
        select(func.count(), func.max(v.c.checked)),
        select(func.count()).select_from(k),
    ):
        out += fetch(store, stmt, "stamp")[0]
    return tuple(out)
