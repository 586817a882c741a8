"""Publish state and outbox of an ISP site (the tables of ``store/_schema_isp.py``).

:func:`commit_plan` writes a plan's state rows and its envelopes in one transaction: after it
returns, the decision is durable and the envelopes wait in the outbox until the hub accepts
them (:func:`mark_sent`); a failed attempt is rescheduled (:func:`mark_failed`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, text, update

from iotscope._times import stored_utc
from iotscope.isp._plan import Plan, Published
from iotscope.store._schema_isp import isp_outbox, isp_published
from iotscope.store._store import Store

__all__ = [
    "OutboxEntry",
    "StaleState",
    "StateCache",
    "commit_plan",
    "fetch_object",
    "load_published",
    "mark_failed",
    "mark_sent",
    "next_attempt",
    "outbox",
    "pending",
]

ENVELOPE_OBJECTS = 500  # objects per envelope (a hub limits its request size)


@dataclass(frozen=True)
class OutboxEntry:
    """One envelope waiting for (or sent to) the hub."""

    id: int
    site: str
    run_id: str | None
    created: datetime
    objects: list[dict[str, Any]]
    counts: dict[str, int]
    attempts: int
    outcome: str
    sent: datetime | None
    status_id: str | None
    last_error: str | None


def load_published(store: Store, site: str, *, lazy: bool = False) -> dict[str, Published]:
    """What ``site`` has last sent, per object id. ``lazy``: only indicators carry their
    object (the others are read on demand with :func:`fetch_object`)."""
    t = isp_published
    if lazy:
        cols = [c for c in t.c if c.name != "object"]
        rows = store._query(
            select(*cols, case((t.c.type == "indicator", t.c.object)).label("object")).where(
                t.c.site == site
            ),
            "isp_published",
        )
    else:
        rows = store._query(select(t).where(t.c.site == site), "isp_published")
    return {
        r["object_id"]: Published(
            object_id=r["object_id"],
            type=r["type"],
            version=r["version"],
            modified=r["modified"],
            content_hash=r["content_hash"],
            status=r["status"],
            object=r["object"],
            endpoint=(r["ip"], r["port"], r["proto"]) if r["ip"] is not None else None,
        )
        for r in rows
    }


def last_outbox_id(store: Store, site: str) -> int:
    """The newest outbox id of ``site`` (0: none): moves whenever anyone queues objects."""
    t = isp_outbox
    rows = store._query(
        select(func.max(t.c.id).label("last")).where(t.c.site == site), "isp_outbox"
    )
    return int(rows[0]["last"] or 0) if rows else 0


class StateCache:
    """A long-running publisher's copy of its site's publish state, so a round does not read
    every row again. It is reloaded when the outbox moved under it (another process, such as
    ``share publish``, queued objects for the site); a status change made elsewhere without
    objects (a lapse) can only make this copy lapse the same indicator again, which sends
    nothing."""

    def __init__(self) -> None:
        self.state: dict[str, Published] | None = None
        self.marker = -1

    def load(self, store: Store, site: str) -> dict[str, Published]:
        marker = last_outbox_id(store, site)
        if self.state is None or marker != self.marker:
            self.state = load_published(store, site, lazy=True)
            self.marker = marker
        return self.state

    def committed(self, plan: Plan, ids: list[int]) -> None:
        """Fold a plan this process committed into the copy."""
        if self.state is None:
            return
        for row in plan.rows:
            self.state[row.object_id] = row
        if ids:
            self.marker = max(ids)


def fetch_object(store: Store, site: str, object_id: str) -> dict[str, Any] | None:
    """The last version ``site`` sent of one object (None: never sent)."""
    t = isp_published
    stmt = select(t.c.object).where(t.c.site == site, t.c.object_id == object_id)
    rows = store._query(stmt, "isp_published")
    return dict(rows[0]["object"]) if rows else None


def _state_row(site: str, p: Published, run_id: str | None, now: datetime) -> dict[str, Any]:
    ip, port, proto = p.endpoint if p.endpoint is not None else (None, None, None)
    return {
        "site": site,
        "object_id": p.object_id,
        "type": p.type,
        "ip": ip,
        "port": port,
        "proto": proto,
        "version": p.version,
        "modified": p.modified,
        "content_hash": p.content_hash,
        "status": p.status,
        "object": p.object,
        "run_id": run_id,
        "updated": now,
    }


class StaleState(Exception):
    """Another publisher of the same site queued objects after this plan's state was read."""


def _lock_site(conn: Connection, site: str) -> None:
    """Serialise the site's publishers for the rest of ``conn``'s transaction: PostgreSQL's
    transaction-level advisory lock; on SQLite, a (no-op) write takes the database's write lock."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"isp_published:{site}".encode()).digest()[:8], "big")
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key - (1 << 63)})
    else:
        conn.execute(update(isp_outbox).where(isp_outbox.c.id == -1).values(site=site))


def commit_plan(
    store: Store,
    site: str,
    plan: Plan,
    run_id: str | None,
    now: datetime | None = None,
    *,
    expect_marker: int | None = None,
) -> list[int]:
    """Write ``plan``'s state rows and queue its objects (in envelopes of at most
    ENVELOPE_OBJECTS), in one transaction; return the outbox ids. The envelopes are due at
    once (wall-clock time; ``now`` is the plan's time, kept as the rows' ``updated``).

    With ``expect_marker`` (the site's :func:`last_outbox_id` when the plan's state was read),
    the site's publishers are serialised and :class:`StaleState` is raised, nothing written,
    when another one queued objects since: two publishers of one site (``isp run`` and a
    ``share publish``) never both send a C2 as new."""
    now = now or datetime.now(UTC)
    queued = datetime.now(UTC)
    rows = [_state_row(site, p, run_id, now) for p in plan.rows]
    counts = plan.counts()
    ids: list[int] = []
    with store._write("isp_published") as conn:
        if expect_marker is not None:
            _lock_site(conn, site)
            last = conn.execute(
                select(func.max(isp_outbox.c.id)).where(isp_outbox.c.site == site)
            ).scalar()
            if int(last or 0) != expect_marker:
                raise StaleState(site)
        if rows:
            store._upsert_in(conn, isp_published, rows)
        for i in range(0, len(plan.objects), ENVELOPE_OBJECTS):
            res = conn.execute(
                insert(isp_outbox).values(
                    site=site,
                    run_id=run_id,
                    created=queued,
                    objects=plan.objects[i : i + ENVELOPE_OBJECTS],
                    counts=counts,
                    attempts=0,
                    next_attempt=queued,
                    outcome="pending",
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            ids.append(int(key[0]))
    return ids


def _entry(r: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        id=r["id"],
        site=r["site"],
        run_id=r["run_id"],
        created=stored_utc(r["created"]) or r["created"],
        objects=r["objects"],
        counts=r["counts"],
        attempts=r["attempts"],
        outcome=r["outcome"],
        sent=stored_utc(r["sent"]),
        status_id=r["status_id"],
        last_error=r["last_error"],
    )


def pending(store: Store, site: str, now: datetime | None = None) -> list[OutboxEntry]:
    """Envelopes not yet accepted whose next attempt is due, oldest first."""
    t = isp_outbox
    stmt = select(t).where(t.c.site == site, t.c.outcome == "pending")
    if now is not None:
        stmt = stmt.where(t.c.next_attempt <= now)
    return [_entry(r) for r in store._query(stmt.order_by(t.c.id), "isp_outbox")]


def outbox(store: Store, site: str) -> list[OutboxEntry]:
    """Every envelope of ``site``, oldest first."""
    t = isp_outbox
    stmt = select(t).where(t.c.site == site).order_by(t.c.id)
    return [_entry(r) for r in store._query(stmt, "isp_outbox")]


def next_attempt(store: Store, site: str) -> datetime | None:
    """When the earliest unsent envelope is due (None: nothing waits)."""
    t = isp_outbox
    stmt = select(func.min(t.c.next_attempt).label("due")).where(
        t.c.site == site, t.c.outcome == "pending"
    )
    rows = store._query(stmt, "isp_outbox")
    return stored_utc(rows[0]["due"]) if rows else None


def mark_sent(
    store: Store, entry_id: int, status_id: str | None, now: datetime, error: str | None = None
) -> None:
    """The hub answered for good: accepted (``error`` None) or rejected (dead-lettered with
    the hub's reason in ``last_error``)."""
    with store._write("isp_outbox") as conn:
        conn.execute(
            update(isp_outbox)
            .where(isp_outbox.c.id == entry_id)
            .values(
                sent=now,
                status_id=status_id,
                attempts=isp_outbox.c.attempts + 1,
                outcome="dead" if error else "sent",
                last_error=error,
            )
        )


def mark_failed(store: Store, entry_id: int, error: str, retry_at: datetime) -> None:
    with store._write("isp_outbox") as conn:
        conn.execute(
            update(isp_outbox)
            .where(isp_outbox.c.id == entry_id)
            .values(
                attempts=isp_outbox.c.attempts + 1, last_error=error[:2000], next_attempt=retry_at
            )
        )
