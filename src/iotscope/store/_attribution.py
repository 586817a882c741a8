"""Store access for routing tables, the ISP registry, lease logs and ISP reports.

Lease rows are subscriber data: the functions that read them take the ISP's name and are only
called by ``iotscope.attribution`` after it checked the caller's Principal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, desc, or_, select
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import StoreError
from iotscope.store import Store
from iotscope.store import _schema_attribution as t


def save_route_table(store: Store, source: str, fmt: str, prefixes: int, data: bytes) -> str:
    """Store one whole routing table (idempotent: the id is the data's digest)."""
    digest = hashlib.sha256(data).hexdigest()
    row = {
        "id": digest,
        "source": source[:500],
        "format": fmt,
        "prefixes": prefixes,
        "imported": datetime.now(UTC),
        "data": data,
    }
    store._upsert(t.route_tables, [row])
    return digest


def latest_route_table(store: Store) -> dict[str, Any] | None:
    """The newest imported routing table's row (with its data), or None."""
    stmt = select(t.route_tables).order_by(desc(t.route_tables.c.imported)).limit(1)
    rows = store._query(stmt, t.route_tables.name)
    return rows[0] if rows else None


def route_table_stamp(store: Store) -> tuple[str | None, datetime | None]:
    """(id of the table in use, newest registry change): what a cached compile depends on."""
    r = t.route_tables
    rows = store._query(select(r.c.id).order_by(desc(r.c.imported)).limit(1), r.name)
    i = t.isps
    upd = store._query(select(i.c.updated).order_by(desc(i.c.updated)).limit(1), i.name)
    return (rows[0]["id"] if rows else None, upd[0]["updated"] if upd else None)


def save_isps(store: Store, rows: Sequence[dict[str, Any]]) -> int:
    """Upsert registry entries in one transaction."""
    now = datetime.now(UTC)
    return store._upsert(t.isps, [{**r, "updated": now} for r in rows])


def isp_rows(store: Store, name: str | None = None) -> list[dict[str, Any]]:
    """Registry entries (all, or the one named), by name."""
    stmt = select(t.isps).order_by(t.isps.c.name)
    if name is not None:
        stmt = stmt.where(t.isps.c.name == name)
    return store._query(stmt, t.isps.name)


def replace_leases(
    store: Store, isp: str, rows: Sequence[dict[str, Any]], replace: bool = False
) -> int:
    """Add (or, with ``replace``, swap in) one ISP's lease rows, in one transaction."""
    with store._write(t.leases.name) as conn:
        if replace:
            conn.execute(delete(t.leases).where(t.leases.c.isp == isp))
        if rows:
            store._upsert_in(conn, t.leases, [{**r, "isp": isp} for r in rows])
    return len(rows)


def lease_at(store: Store, isp: str, address: str, when: datetime) -> list[dict[str, Any]]:
    """The ISP's leases of ``address`` that cover ``when`` (newest start first)."""
    c = t.leases.c
    stmt = (
        select(t.leases)
        .where(c.isp == isp, c.address == address, c.start <= when)
        .where(or_(c.end.is_(None), c.end > when))
        .order_by(desc(c.start))
    )
    return store._query(stmt, t.leases.name)


def leases_covering(
    store: Store, isp: str, addresses: Sequence[str], since: datetime, until: datetime
) -> list[tuple[str, datetime, datetime | None, str]]:
    """The ISP's leases of ``addresses`` that overlap ``[since, until]``, one query:
    ``(address, start, end, subscriber_id)`` by address, newest start first."""
    c = t.leases.c
    stmt = (
        select(c.address, c.start, c.end, c.subscriber_id)
        .where(c.isp == isp, c.address.in_(addresses), c.start <= until)
        .where(or_(c.end.is_(None), c.end > since))
        .order_by(c.address, desc(c.start))
    )
    try:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table=t.leases.name, reason=str(exc)[:300]) from exc


def leases_of(
    store: Store, isp: str, subscriber: str, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """The ISP's leases held by ``subscriber`` overlapping ``[since, until)``, oldest first."""
    c = t.leases.c
    stmt = select(t.leases).where(c.isp == isp, c.subscriber_id == subscriber)
    if until is not None:
        stmt = stmt.where(c.start < until)
    if since is not None:
        stmt = stmt.where(or_(c.end.is_(None), c.end > since))
    return store._query(stmt.order_by(c.start, c.address), t.leases.name)


def save_reports(store: Store, rows: Sequence[dict[str, Any]]) -> int:
    return store._upsert(t.isp_reports, rows)


def report_rows(
    store: Store, isp: str, filename: str | None = None, with_content: bool = False
) -> list[dict[str, Any]]:
    """One ISP's stored report files (newest period first)."""
    r = t.isp_reports
    cols = list(r.c) if with_content else [c for c in r.c if c.name != "content"]
    stmt = select(*cols).where(r.c.isp == isp)
    if filename is not None:
        stmt = stmt.where(r.c.filename == filename)
    return store._query(stmt.order_by(desc(r.c.period), r.c.filename), r.name)


def save_delivery(
    store: Store, isp: str, filenames: Sequence[str], channel: str, destination: str,
    detail: str | None = None,
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    rows = [
        {"isp": isp, "filename": f, "channel": channel, "destination": destination[:500],
         "delivered": now, "detail": detail}
        for f in filenames
    ]  # fmt: skip
    store._upsert(t.report_deliveries, rows)


def deliveries(store: Store, isp: str) -> list[dict[str, Any]]:
    d = t.report_deliveries
    stmt = select(d).where(d.c.isp == isp).order_by(d.c.delivered, d.c.filename)
    return store._query(stmt, d.name)
