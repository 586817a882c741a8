"""The hub's Python API: tenancy-checked operations over the store, used by the TAXII routes,
by ``share publish`` and the partner importers in-process, and by the tests.

Each function takes the caller's :class:`~iotscope.tenancy.Principal`; a collection the caller
may not see is reported exactly like a missing one (404), so its existence does not leak.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from iotscope.errors import IotscopeError
from iotscope.share import _hubstore as hs
from iotscope.share._model import (
    Collection,
    Entry,
    access,
    check_object,
    format_us,
    private_collection_id,
    visible,
)
from iotscope.store import Store
from iotscope.tenancy import Principal

_BATCH = 5_000


class TaxiiError(IotscopeError):
    """An error the hub answers with a TAXII error message (section 3.4.1)."""

    def __init__(self, status: int, title: str, description: str | None = None) -> None:
        super().__init__(title, status=status)
        self.status = status
        self.title = title
        self.description = description


def dumps(obj: Any) -> str:
    """The stored text of an object: compact JSON, UTF-8 kept as is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# -- collections ---------------------------------------------------------------------------
def ensure_shared(store: Store) -> None:
    hs.ensure_collection(store.engine, hs.SHARED)


def ensure_private(store: Store, isp: str) -> Collection:
    """ISP ``isp``'s private collection (its own network's C2 view), created on first use."""
    coll = Collection(
        private_collection_id(isp),
        "private",
        isp,
        f"{isp}: private C2 view",
        f"C2 servers seen in {isp}'s own network; visible to {isp} and the centre only.",
    )
    hs.ensure_collection(store.engine, coll)
    return coll


def ensure_source(
    store: Store, coll_id: str, title: str, description: str | None = None
) -> Collection:
    """A read-only partner-source collection (MISP/STIX imports write to it as the centre)."""
    coll = Collection(coll_id, "source", None, title, description)
    hs.ensure_collection(store.engine, coll)
    return coll


def collections_for(store: Store, principal: Principal) -> list[Collection]:
    """The collections ``principal`` may see (the shared feed and, for an ISP, its own)."""
    ensure_shared(store)
    if principal.role == "isp" and principal.tenant:
        ensure_private(store, principal.tenant)
    return [c for c in hs.all_collections(store.engine) if visible(principal, c)]


def collection_for(store: Store, principal: Principal, collection_id: str) -> Collection:
    """The collection, if ``principal`` may see it; else 404 (as if it did not exist)."""
    if (
        principal.role == "isp"
        and principal.tenant
        and collection_id == private_collection_id(principal.tenant)
    ):
        ensure_private(store, principal.tenant)
    if collection_id == hs.SHARED.id:
        ensure_shared(store)
    coll = hs.get_collection(store.engine, collection_id)
    if coll is None or not visible(principal, coll):
        raise TaxiiError(404, "collection not found")
    return coll


def readable(store: Store, principal: Principal, collection_id: str) -> Collection:
    coll = collection_for(store, principal, collection_id)
    if not access(principal, coll)[0]:
        raise TaxiiError(403, "not allowed to read this collection")
    return coll


def writable(store: Store, principal: Principal, collection_id: str) -> Collection:
    coll = collection_for(store, principal, collection_id)
    if not access(principal, coll)[1]:
        raise TaxiiError(403, "not allowed to write to this collection")
    return coll


# -- adding objects ---------------------------------------------------------------------------
def add_objects(
    store: Store, principal: Principal, collection_id: str, objects: Iterable[Any]
) -> dict[str, Any]:
    """Add STIX 2.1 objects to a collection; returns the TAXII status resource (section 4.3.1).

    Every object is accounted for: added or already present (both successes; re-posting a
    version changes nothing), or a failure with the reason (bad id, type, timestamp, spec
    version). Processing is synchronous, so the status is ``complete`` with no pendings.
    Waiters of the collection (SSE streams, the webhook worker) are woken on commit.
    """
    from iotscope.share._notify import notifier_for

    writable(store, principal, collection_id)
    requested = datetime.now(UTC)
    successes: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []
    entries: list[Entry] = []
    total = 0
    for obj in objects:
        total += 1
        try:
            entries.append(check_object(obj, dumps))
        except ValueError as exc:
            oid = obj.get("id") if isinstance(obj, dict) else None
            failures.append({"id": str(oid)[:200], "message": str(exc)[:300]})
    added_any = False
    owner = principal.tenant
    for i in range(0, len(entries), _BATCH):
        done = hs.insert_entries(store.engine, collection_id, entries[i : i + _BATCH], owner)
        added_any = added_any or bool(done.added)
        successes.extend({"id": oid, "version": v} for oid, v in done.added)
        successes.extend(
            {"id": oid, "version": v, "message": "already present"} for oid, v in done.present
        )
    status = _status(collection_id, principal, requested, total, successes, failures)
    hs.save_status(store.engine, status["_row"])
    if added_any:
        notifier_for(store.engine).publish(collection_id)
    return status["resource"]


def _status(
    collection_id: str,
    principal: Principal,
    requested: datetime,
    total: int,
    successes: list[dict[str, str]],
    failures: list[dict[str, str]],
) -> dict[str, Any]:
    sid = str(uuid.uuid4())
    details = {"successes": successes, "failures": failures, "pendings": []}
    row = {
        "id": sid,
        "collection_id": collection_id,
        "role": principal.role,
        "tenant": principal.tenant,
        "request_timestamp": requested,
        "total_count": total,
        "success_count": len(successes),
        "failure_count": len(failures),
        "pending_count": 0,
        "details": details,
    }
    return {"_row": row, "resource": status_resource(row)}


def status_resource(row: dict[str, Any]) -> dict[str, Any]:
    """A stored status row -> the TAXII status resource."""
    ts = row["request_timestamp"]
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    us = int(ts.timestamp()) * 1_000_000 + ts.microsecond
    d = row["details"]
    out: dict[str, Any] = {
        "id": row["id"],
        "status": "complete" if row["pending_count"] == 0 else "pending",
        "request_timestamp": format_us(us),
        "total_count": row["total_count"],
        "success_count": row["success_count"],
        "failure_count": row["failure_count"],
        "pending_count": row["pending_count"],
    }
    for key in ("successes", "failures", "pendings"):
        if d.get(key):
            out[key] = d[key]
    return out


def get_status(store: Store, principal: Principal, status_id: str) -> dict[str, Any]:
    """A status resource, for the principal that caused it (or the centre); else 404."""
    row = hs.get_status(store.engine, status_id)
    mine = row is not None and (
        principal.is_centre or (row["role"] == principal.role and row["tenant"] == principal.tenant)
    )
    if row is None or not mine:
        raise TaxiiError(404, "status not found")
    return status_resource(row)


# -- reading (thin wrappers so every read goes through the tenancy check) ----------------------
def get_page(
    store: Store,
    principal: Principal,
    collection_id: str,
    q: hs.Query,
    columns: Sequence[str] = ("body",),
    object_id: str | None = None,
) -> tuple[list[Any], bool]:
    readable(store, principal, collection_id)
    return hs.page(store.engine, collection_id, q, columns, object_id)


def delete_object(
    store: Store, principal: Principal, collection_id: str, object_id: str, q: hs.Query
) -> int:
    """Delete versions of an object (needs write access: TAXII 2.1 section 5.7)."""
    coll = collection_for(store, principal, collection_id)
    can_read, can_write = access(principal, coll)
    if not (can_read and can_write):
        raise TaxiiError(403, "not allowed to delete from this collection")
    if not hs.object_exists(store.engine, collection_id, object_id):
        raise TaxiiError(404, "object not found")
    return hs.delete_versions(store.engine, collection_id, object_id, q)
