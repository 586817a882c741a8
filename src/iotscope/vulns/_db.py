"""Vulnerability knowledge in the store: import files, load the in-memory :class:`VulnDb`.

One transaction per file: a file that is not JSON (or not a known shape) fails as a whole
with an error naming it and where; inside a readable file a bad record is reported (file,
line, record, reason), counted and skipped, and the good ones go in together. Incremental by
``lastModified``: a record goes in when it is new or newer than the stored one; an older or
equal one leaves the stored row alone (counted ``unchanged``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import ConfigError, StoreError
from iotscope.records import utc
from iotscope.store import Store
from iotscope.store import _schema_vulns as t
from iotscope.vulns._match import VulnDb
from iotscope.vulns._nvd import (
    CveRecord,
    Item,
    KevEntry,
    RecordError,
    _configuration,
    document_kind,
    items,
    parse_cve,
    parse_kev,
)

_CHUNK = 500


@dataclass
class ImportReport:
    """What one file did to the store."""

    path: str
    kind: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.path,
            "kind": self.kind,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "bad": len(self.bad),
            "errors": self.bad,
        }


def read_document(path: Path) -> tuple[str, Any]:
    """The text and decoded JSON of ``path``; :class:`ConfigError` naming file and line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError("cannot read file", file=str(path), reason=exc.strerror) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", file=str(path), byte=exc.start) from exc
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            "not JSON", file=str(path), line=exc.lineno, column=exc.colno, reason=exc.msg
        ) from exc
    except RecursionError as exc:
        raise ConfigError("JSON nested too deeply", file=str(path)) from exc


def _parsed(path: Path, text: str, doc: Any, parse: Any) -> tuple[list[Any], list[str]]:
    good, bad = [], []
    for it in _items(text, doc):
        try:
            good.append(parse(it.value))
        except RecordError as exc:
            bad.append(f"{path}:{it.line}: record {it.index}: {exc}")
    return good, bad


def _items(text: str, doc: Any) -> list[Item]:
    found = list(items(text, doc))
    listed = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if isinstance(listed, list) and len(found) != len(listed):  # could not place them
        found = [Item(i, 0, v) for i, v in enumerate(doc["vulnerabilities"])]
    return found


def import_file(store: Store, path: Path) -> ImportReport:
    """Import one NVD CVE API 2.0 or CISA KEV JSON file in one transaction."""
    text, doc = read_document(path)
    kind = document_kind(doc)
    if kind == "unknown":
        raise ConfigError(
            "neither an NVD CVE API 2.0 document nor a CISA KEV catalog", file=str(path)
        )
    report = ImportReport(str(path), kind)
    try:
        with store.engine.begin() as conn:
            if kind == "kev":
                entries, report.bad = _parsed(path, text, doc, parse_kev)
                _store_kev(conn, entries, str(doc.get("catalogVersion") or ""), report)
            else:
                records, report.bad = _parsed(path, text, doc, parse_cve)
                _store_cves(conn, _newest(records), str(path), report)
    except SQLAlchemyError as exc:
        raise StoreError(
            "import failed; nothing of this file was kept", file=str(path), reason=str(exc)[:300]
        ) from exc
    return report


def _newest(records: Iterable[CveRecord]) -> list[CveRecord]:
    """One record per CVE id: the latest ``lastModified`` (a page may repeat one)."""
    best: dict[str, CveRecord] = {}
    for r in records:
        if r.id not in best or r.last_modified > best[r.id].last_modified:
            best[r.id] = r
    return list(best.values())


def _chunks(seq: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(seq), _CHUNK):
        yield seq[i : i + _CHUNK]


def _store_cves(conn: Connection, records: list[CveRecord], source: str, r: ImportReport) -> None:
    stored: dict[str, datetime] = {}
    for ids in _chunks([x.id for x in records]):
        q = select(t.vuln_cves.c.cve, t.vuln_cves.c.last_modified)
        for cve, mod in conn.execute(q.where(t.vuln_cves.c.cve.in_(ids))):
            stored[cve] = utc(mod)
    fresh = [x for x in records if x.id not in stored or x.last_modified > stored[x.id]]
    r.new = sum(1 for x in fresh if x.id not in stored)
    r.updated = len(fresh) - r.new
    r.unchanged = len(records) - len(fresh)
    for ids in _chunks([x.id for x in fresh if x.id in stored]):
        conn.execute(delete(t.vuln_cpe_matches).where(t.vuln_cpe_matches.c.cve.in_(ids)))
        conn.execute(delete(t.vuln_cves).where(t.vuln_cves.c.cve.in_(ids)))
    if fresh:
        conn.execute(insert(t.vuln_cves), [_cve_row(x, source) for x in fresh])
        rows = [m for x in fresh for m in _match_rows(x)]
        for i in range(0, len(rows), 5000):
            conn.execute(insert(t.vuln_cpe_matches), rows[i : i + 5000])


def _cve_row(x: CveRecord, source: str) -> dict[str, Any]:
    c = x.cvss
    return {
        "cve": x.id,
        "published": x.published,
        "last_modified": x.last_modified,
        "status": x.status,
        "description": x.description,
        "cvss": c.score if c else None,
        "cvss_version": c.version if c else None,
        "cvss_vector": c.vector[:200] if c and c.vector else None,
        "severity": c.severity if c else None,
        "configurations": x.raw_configurations,
        "source": source[-500:],
    }


def _match_rows(x: CveRecord) -> Iterator[dict[str, Any]]:
    for ci, config in enumerate(x.configurations):
        for ni, node in enumerate(config.nodes):
            for ei, e in enumerate(node.matches):
                v, p = e.cpe.vendor, e.cpe.product
                yield {
                    "cve": x.id,
                    "config": ci,
                    "node": ni,
                    "entry": ei,
                    "part": e.cpe.values[0].to_fs()[:1],
                    "vendor": (v.to_fs() if v.wild or v.kind != "value" else v.text)[:200],
                    "product": (p.to_fs() if p.wild or p.kind != "value" else p.text)[:200],
                    "criteria": e.criteria[:1000],
                    "vulnerable": e.vulnerable,
                    "start_incl": e.start_incl,
                    "start_excl": e.start_excl,
                    "end_incl": e.end_incl,
                    "end_excl": e.end_excl,
                }


def _kev_row(e: KevEntry, catalog: str) -> dict[str, Any]:
    return {
        "cve": e.cve,
        "vendor": e.vendor,
        "product": e.product,
        "name": e.name,
        "date_added": e.date_added,
        "due_date": e.due_date,
        "ransomware": e.ransomware,
        "catalog_version": catalog,
    }


def _store_kev(conn: Connection, entries: list[KevEntry], catalog: str, r: ImportReport) -> None:
    rows = {e.cve: _kev_row(e, catalog) for e in entries}
    stored: dict[str, dict[str, Any]] = {}
    for ids in _chunks(sorted(rows)):
        for row in conn.execute(select(t.vuln_kev).where(t.vuln_kev.c.cve.in_(ids))):
            stored[row.cve] = dict(row._mapping)
    keep = ("vendor", "product", "name", "date_added", "due_date", "ransomware")
    same = {
        c for c, row in rows.items() if c in stored and all(stored[c][k] == row[k] for k in keep)
    }
    changed = [c for c in rows if c not in same]
    r.new = sum(1 for c in changed if c not in stored)
    r.updated = len(changed) - r.new
    r.unchanged = len(same)
    for ids in _chunks([c for c in changed if c in stored]):
        conn.execute(delete(t.vuln_kev).where(t.vuln_kev.c.cve.in_(ids)))
    if changed:
        conn.execute(insert(t.vuln_kev), [rows[c] for c in changed])


def load_db(store: Store) -> VulnDb:
    """Every stored CVE and KEV id as a :class:`VulnDb` ready for :func:`match`."""
    cols = t.vuln_cves.c
    q = select(
        cols.cve,
        cols.published,
        cols.last_modified,
        cols.status,
        cols.cvss,
        cols.cvss_version,
        cols.cvss_vector,
        cols.severity,
        cols.configurations,
    )
    try:
        with store.engine.connect() as conn:
            kev = {row.cve for row in conn.execute(select(t.vuln_kev.c.cve))}
            rows = list(conn.execute(q))
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table="vuln_cves", reason=str(exc)[:300]) from exc
    return VulnDb.build((_record(r) for r in rows), kev)


def _record(r: Any) -> CveRecord:
    from iotscope.vulns._nvd import Cvss

    cvss = None
    if r.cvss is not None:
        cvss = Cvss(r.cvss, r.cvss_version or "", r.cvss_vector, r.severity, None, True)
    configs = tuple(
        _configuration(c, f"configurations[{i}]") for i, c in enumerate(r.configurations or [])
    )
    return CveRecord(
        r.cve,
        utc(r.published) if r.published else None,
        utc(r.last_modified),
        r.status,
        None,
        cvss,
        configs,
        r.configurations or [],
    )
