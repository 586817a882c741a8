"""Store access for the sharing state (tables of ``_schema_share``): the last published
version of each STIX object per ISP, calibration answers and partner imports.

Every function takes the :class:`~iotscope.store.Store` and, for tenant-owned rows, the ISP
whose rows it reads or writes (the caller's tenant, never a guess).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from iotscope.store import _schema_share as t
from iotscope.store._store import Store


def published(store: Store, isp: str, *, kind: str | None = None) -> dict[str, dict[str, Any]]:
    """The last version ``isp`` published of each object (id -> object), optionally one type."""
    stmt = select(t.share_published.c.object).where(t.share_published.c.isp == isp)
    if kind is not None:
        stmt = stmt.where(t.share_published.c.type == kind)
    rows = store._query(stmt, t.share_published.name)
    return {r["object"]["id"]: r["object"] for r in rows}


def save_published(
    store: Store, isp: str, objects: Iterable[Mapping[str, Any]], now: datetime
) -> int:
    """Remember ``objects`` as the newest versions ``isp`` published (one transaction)."""
    rows = [
        {
            "isp": isp,
            "object_id": o["id"],
            "type": o["type"],
            "modified": o.get("modified"),
            "revoked": bool(o.get("revoked", False)),
            "object": dict(o),
            "updated": now,
        }
        for o in objects
    ]
    return store._upsert(t.share_published, rows)


def save_answer(store: Store, answer: Mapping[str, Any]) -> None:
    """One ISP's answer over a reference window (see :mod:`iotscope.share.agreement`)."""
    row = {k: answer[k] for k in ("window", "isp", "detector", "candidates")}
    row["created"] = datetime.fromisoformat(str(answer["created"]).replace("Z", "+00:00"))
    store._upsert(t.share_answers, [row])


def answers(store: Store, window: str) -> list[dict[str, Any]]:
    """Every ISP's answer over ``window`` (a reference set's digest), by ISP."""
    stmt = (
        select(t.share_answers)
        .where(t.share_answers.c.window == window)
        .order_by(t.share_answers.c.isp)
    )
    out = store._query(stmt, t.share_answers.name)
    for row in out:
        row["created"] = row["created"].isoformat()
    return out


def record_import(store: Store, row: Mapping[str, Any]) -> bool:
    """Log one partner import; False when the same bytes were imported before."""
    seen = store._select(t.share_partner_imports, id=row["id"])
    if seen:
        return False
    store._upsert(t.share_partner_imports, [dict(row)])
    return True


def imports(store: Store, source: str | None = None) -> list[dict[str, Any]]:
    return store._select(t.share_partner_imports, source=source)
