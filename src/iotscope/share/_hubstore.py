"""The hub's store access: collections, object versions, status resources (SQLAlchemy Core,
one implementation for SQLite and PostgreSQL).

Every function takes the engine and returns plain values; the tenancy decision is made by the
caller (:mod:`iotscope.share._api`) with :func:`iotscope.share._model.access`. Nothing here
keeps state between calls, so several servers may run over one PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    case,
    delete,
    false,
    insert,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from iotscope.share._model import (
    SHARED_COLLECTION_ID,
    Collection,
    Entry,
    format_us,
    now_us,
    parse_ts,
)
from iotscope.store._schema_hub import hub_clock, hub_collections, hub_objects, hub_status

o = hub_objects
_IN_CHUNK = 900  # ids per IN (...) list (SQLite's default variable limit is 32766)
PG_CHANNEL = "iotscope_hub"

SHARED = Collection(
    SHARED_COLLECTION_ID,
    "shared",
    None,
    "Shared C2 feed",
    "C2 servers detected by the ISPs, shared at once (STIX 2.1 indicators, sightings).",
)


# -- collections ----------------------------------------------------------------------------
def _as_collection(row: Any) -> Collection:
    return Collection(row.id, row.kind, row.owner, row.title, row.description)


def ensure_collection(engine: Engine, coll: Collection) -> None:
    """Create ``coll`` unless a collection with its id exists (idempotent, race-safe)."""
    if get_collection(engine, coll.id) is not None:
        return
    row = {
        "id": coll.id,
        "kind": coll.kind,
        "owner": coll.owner,
        "title": coll.title,
        "description": coll.description,
        "created": datetime.now(UTC),
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(hub_collections).values(**row))
    except IntegrityError:
        pass  # created by a concurrent caller


def get_collection(engine: Engine, collection_id: str) -> Collection | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(hub_collections).where(hub_collections.c.id == collection_id)
        ).first()
    return None if row is None else _as_collection(row)


def all_collections(engine: Engine) -> list[Collection]:
    with engine.connect() as conn:
        rows = conn.execute(select(hub_collections).order_by(hub_collections.c.created))
        return [_as_collection(r) for r in rows]


# -- adding objects ---------------------------------------------------------------------------
@dataclass
class Added:
    """What one insert did: ``(id, version)`` added, already present, and the date_added range."""

    added: list[tuple[str, str]] = field(default_factory=list)
    present: list[tuple[str, str]] = field(default_factory=list)
    first_us: int | None = None
    last_us: int | None = None


def _lock_clock(conn: Connection) -> None:
    """Take the writers' lock (the clock row) before reading what exists."""
    done = conn.execute(
        update(hub_clock).where(hub_clock.c.id == 1).values(last_us=hub_clock.c.last_us)
    )
    if not done.rowcount:
        conn.execute(insert(hub_clock).values(id=1, last_us=0))


def _take_dates(conn: Connection, n: int) -> int:
    """Reserve ``n`` increasing date_added values (> every earlier one); returns the first."""
    now = now_us()
    c = hub_clock.c
    new_last = case((c.last_us + n > now + n - 1, c.last_us + n), else_=now + n - 1)
    conn.execute(update(hub_clock).where(c.id == 1).values(last_us=new_last))
    last: int = conn.execute(select(c.last_us).where(c.id == 1)).scalar_one()
    return last - n + 1


def _existing(conn: Connection, collection_id: str, ids: Sequence[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for i in range(0, len(ids), _IN_CHUNK):
        stmt = select(o.c.id, o.c.version_us).where(
            o.c.collection_id == collection_id, o.c.id.in_(ids[i : i + _IN_CHUNK])
        )
        for oid, v in conn.execute(stmt):
            out.setdefault(oid, set()).add(v)
    return out


def insert_entries(
    engine: Engine, collection_id: str, entries: Sequence[Entry], owner: str | None
) -> Added:
    """Add the versions of ``entries`` not yet in the collection, in one transaction.

    An (id, version) already stored is reported as present and left alone (idempotent
    re-publication). ``is_last``/``is_first`` flags are kept so ``match[version]=last|first``
    is an index range, not a GROUP BY over every version.
    """
    out = Added()
    with engine.begin() as conn:
        _lock_clock(conn)
        have = _existing(conn, collection_id, sorted({e.id for e in entries}))
        fresh: list[Entry] = []
        for e in entries:
            seen = have.setdefault(e.id, set())
            if e.version_us is not None and e.version_us in seen:
                out.present.append((e.id, e.version or ""))
                continue
            if e.version_us is not None:
                seen.add(e.version_us)
            fresh.append(e)
        if not fresh:
            return out
        first = _take_dates(conn, len(fresh))
        rows = _rows(collection_id, fresh, first, owner)
        _flip_flags(conn, collection_id, rows, have)
        conn.execute(insert(o), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT pg_notify(:ch, :coll)"), {"ch": PG_CHANNEL, "coll": collection_id}
            )
        out.added = [(r["id"], r["version"]) for r in rows]
        out.first_us, out.last_us = first, first + len(rows) - 1
    return out


def _rows(
    collection_id: str, fresh: Sequence[Entry], first: int, owner: str | None
) -> list[dict[str, Any]]:
    rows = []
    for i, e in enumerate(fresh):
        added = first + i
        rows.append(
            {
                "collection_id": collection_id,
                "id": e.id,
                "type": e.type,
                "spec_version": e.spec_version,
                "version": e.version if e.version is not None else format_us(added),
                "version_us": e.version_us if e.version_us is not None else added,
                "added_us": added,
                "is_last": False,
                "is_first": False,
                "owner": owner,
                "body": e.body,
            }
        )
    return rows


def _flip_flags(
    conn: Connection, collection_id: str, rows: list[dict[str, Any]], have: dict[str, set[int]]
) -> None:
    """Set the new rows' is_last/is_first and clear them on stored rows that lost them."""
    new_by_id: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        new_by_id.setdefault(r["id"], []).append(r)
    lost_last: list[str] = []
    lost_first: list[str] = []
    for oid, new in new_by_id.items():
        new_vs = [r["version_us"] for r in new]
        stored = have.get(oid, set()) - set(new_vs)
        top, bottom = max(new_vs), min(new_vs)
        if not stored or top > max(stored):
            next(r for r in new if r["version_us"] == top)["is_last"] = True
            if stored:
                lost_last.append(oid)
        if not stored or bottom < min(stored):
            next(r for r in new if r["version_us"] == bottom)["is_first"] = True
            if stored:
                lost_first.append(oid)
    for ids, col in ((lost_last, o.c.is_last), (lost_first, o.c.is_first)):
        for i in range(0, len(ids), _IN_CHUNK):
            conn.execute(
                update(o)
                .where(o.c.collection_id == collection_id, o.c.id.in_(ids[i : i + _IN_CHUNK]))
                .where(col == true())
                .values({col.name: False})
            )


# -- reading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """The TAXII filters of one request (section 3.5), parsed."""

    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    after: tuple[int, int] | None = None  # the ``next`` cursor
    limit: int = 1000


def _version_clause(versions: Iterable[str]) -> Any:
    parts = []
    for v in versions:
        if v == "all":
            return true()
        if v == "last":
            parts.append(o.c.is_last == true())
        elif v == "first":
            parts.append(o.c.is_first == true())
        else:
            parts.append(o.c.version_us == parse_ts(v))
    return or_(*parts) if parts else false()


def _where(collection_id: str, q: Query, object_id: str | None = None) -> list[Any]:
    w: list[Any] = [o.c.collection_id == collection_id]
    if object_id is not None:
        w.append(o.c.id == object_id)
    if q.ids:
        w.append(o.c.id.in_(q.ids))
    if q.types:
        w.append(o.c.type.in_(q.types))
    if q.spec_versions:
        w.append(o.c.spec_version.in_(q.spec_versions))
    if q.added_after is not None:
        w.append(o.c.added_us > q.added_after)
    if q.after is not None:
        w.append(tuple_(o.c.added_us, o.c.rid) > tuple_(*q.after))
    w.append(_version_clause(q.versions))
    return w


def page(
    engine: Engine,
    collection_id: str,
    q: Query,
    columns: Sequence[str],
    object_id: str | None = None,
) -> tuple[list[Any], bool]:
    """One page of versions in date_added order (keyset) and whether more follow."""
    cols = [o.c.rid, o.c.added_us, *(o.c[c] for c in columns)]
    stmt = (
        select(*cols)
        .where(and_(*_where(collection_id, q, object_id)))
        .order_by(o.c.added_us, o.c.rid)
        .limit(q.limit + 1)
    )
    with engine.connect() as conn:
        rows = list(conn.execute(stmt).all())
    return rows[: q.limit], len(rows) > q.limit


def object_exists(engine: Engine, collection_id: str, object_id: str) -> bool:
    stmt = select(o.c.rid).where(o.c.collection_id == collection_id, o.c.id == object_id).limit(1)
    with engine.connect() as conn:
        return conn.execute(stmt).first() is not None


def delete_versions(engine: Engine, collection_id: str, object_id: str, q: Query) -> int:
    """Delete the matching versions of one object and re-flag what remains."""
    with engine.begin() as conn:
        _lock_clock(conn)
        done = conn.execute(delete(o).where(and_(*_where(collection_id, q, object_id))))
        left = select(o.c.version_us).where(o.c.collection_id == collection_id, o.c.id == object_id)
        vs = [v for (v,) in conn.execute(left)]
        if vs:
            key = (o.c.collection_id == collection_id, o.c.id == object_id)
            conn.execute(
                update(o)
                .where(*key)
                .values(is_last=o.c.version_us == max(vs), is_first=o.c.version_us == min(vs))
            )
    return int(done.rowcount or 0)


# -- status resources --------------------------------------------------------------------------
def save_status(engine: Engine, row: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(hub_status).values(**row))


def get_status(engine: Engine, status_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(hub_status).where(hub_status.c.id == status_id)).first()
    return None if row is None else dict(row._mapping)
