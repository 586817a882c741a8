"""Store access for notices, their events, ISP profiles, contacts and protections.

Every function over ISP-owned rows takes the caller's :class:`Principal` and admits only the
centre and that ISP (a wrong tenant reads as "not found", so existence does not leak).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from iotscope.errors import IotscopeError, StoreError
from iotscope.notify._model import (
    EVENTS,
    Contact,
    Device,
    Notice,
    NoticeEvent,
    NoticeProfile,
    Protection,
)
from iotscope.store import Store
from iotscope.store._schema_notices import (
    notice_contacts,
    notice_events,
    notice_profiles,
    notices,
    protection_events,
    protections,
)
from iotscope.tenancy import Principal

_BATCH = 2000


class NotOwned(IotscopeError):
    """The caller is not the ISP that owns these rows (nor the centre)."""

    exit_code = 4


def token_hash(token: str) -> str:
    """SHA-256 of a landing token: 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_isp(principal: Principal, isp: str) -> None:
    if not principal.isp(isp):
        raise NotOwned("not this ISP's data", isp=isp)


# -- profiles and contacts ----------------------------------------------------------------------
def save_profile(store: Store, principal: Principal, profile: NoticeProfile) -> None:
    check_isp(principal, profile.isp)
    row = {
        "isp": profile.isp,
        "domain": profile.domain,
        "settings": profile.model_dump(mode="json"),
    }
    store._upsert(notice_profiles, [row])


def load_profile(store: Store, principal: Principal, isp: str) -> NoticeProfile | None:
    check_isp(principal, isp)
    rows = store._select(notice_profiles, isp=isp)
    return NoticeProfile.model_validate(rows[0]["settings"]) if rows else None


def effective_profile(store: Store, principal: Principal, isp: str) -> NoticeProfile | None:
    """The ISP's notice profile, else one made from its registry entry (its ``domain`` and
    ``language``), else None."""
    stored = load_profile(store, principal, isp)
    if stored is not None:
        return stored
    from iotscope.attribution import isps

    entry = next((e for e in isps(store) if e.name == isp), None)
    if entry is None or not entry.domain:
        return None
    return NoticeProfile(isp=isp, domain=entry.domain, language=entry.language)


def save_contacts(store: Store, principal: Principal, contacts: Sequence[Contact]) -> int:
    for isp in {c.isp for c in contacts}:
        check_isp(principal, isp)
    return store._upsert(notice_contacts, [c.model_dump() for c in contacts])


def load_contacts(store: Store, principal: Principal, isp: str) -> dict[str, Contact]:
    check_isp(principal, isp)
    return {
        r["subscriber_id"]: Contact.model_validate(r)
        for r in store._select(notice_contacts, isp=isp)
    }


# -- notices ------------------------------------------------------------------------------------
def notice_row(notice: Notice, token_digest: str) -> dict[str, Any]:
    # the fields as they are (no model_dump: 100,000 rows); ``token`` is never stored
    row = {k: v for k, v in notice.__dict__.items() if k != "token"}
    row.update(ip=str(notice.ip), kinds=list(notice.kinds), ports=list(notice.ports))
    row["device"] = dict(notice.device.__dict__)
    row["token_hash"] = token_digest
    return row


def to_notice(row: dict[str, Any]) -> Notice:
    data = {k: v for k, v in row.items() if k != "token_hash"}
    data["device"] = Device.model_validate(row["device"])
    data["kinds"], data["ports"] = tuple(row["kinds"]), tuple(row["ports"])
    return Notice.model_validate(data)


def insert_notices(store: Store, notices_: Sequence[Notice], now: datetime) -> list[Notice]:
    """Insert the notices not already stored (by natural key) with their ``created`` event, in
    one transaction (batched); returns those inserted."""
    with store._write(notices.name) as conn:
        have = _existing_ids(conn, [n.id for n in notices_])
        added = [n for n in notices_ if n.id not in have and n.token is not None]
        rows = [notice_row(n, token_hash(n.token or "")) for n in added]
        events = [
            {"notice_id": n.id, "event": "created", "time": now,
             "detail": {"channel": n.channel, "variant": n.variant}}
            for n in added
        ]  # fmt: skip
        for i in range(0, len(rows), _BATCH):
            conn.execute(insert(notices), rows[i : i + _BATCH])
            conn.execute(insert(notice_events), events[i : i + _BATCH])
    return added


def _existing_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out.update(conn.scalars(select(notices.c.id).where(notices.c.id.in_(chunk))))
    return out


def _event(
    conn: Connection, notice_id: str, event: NoticeEvent, when: datetime, detail: dict[str, Any]
) -> None:
    conn.execute(
        insert(notice_events).values(notice_id=notice_id, event=event, time=when, detail=detail)
    )


def record_event(
    store: Store,
    notice_id: str,
    event: NoticeEvent,
    when: datetime,
    detail: dict[str, Any] | None = None,
    **columns: Any,
) -> None:
    """Append ``event``; the notice's column of that name keeps its first time. ``columns``
    updates other notice columns in the same transaction (a message id, a new token hash)."""
    with store._write(notice_events.name) as conn:
        _event(conn, notice_id, event, when, detail or {})
        if event in EVENTS and event != "created":
            conn.execute(
                update(notices)
                .where(notices.c.id == notice_id, notices.c[event].is_(None))
                .values({event: when})
            )
        if columns:
            conn.execute(update(notices).where(notices.c.id == notice_id).values(**columns))


def mark_delivered(store: Store, principal: Principal, notice_id: str, when: datetime,
                   source: str) -> Notice:  # fmt: skip
    """Record that a notice reached its subscriber (a delivery report of the ISP's MTA or SMS
    gateway, a letter the post confirmed); only its ISP may."""
    get_notice(store, principal, notice_id)
    record_event(store, notice_id, "delivered", when, {"source": source[:200]})
    return get_notice(store, principal, notice_id)


def list_notices(
    store: Store, principal: Principal, isp: str, *, unsent: bool = False
) -> list[Notice]:
    check_isp(principal, isp)
    stmt = select(notices).where(notices.c.isp == isp)
    if unsent:
        stmt = stmt.where(notices.c.sent.is_(None))
    return [to_notice(r) for r in store._query(stmt.order_by(notices.c.id), notices.name)]


def get_notice(store: Store, principal: Principal, notice_id: str) -> Notice:
    rows = store._select(notices, id=notice_id)
    if not rows or not principal.isp(rows[0]["isp"]):
        raise NotOwned("no such notice", notice_id=notice_id)
    return to_notice(rows[0])


def notice_by_token(store: Store, token: str) -> Notice | None:
    """The notice a landing token opens (the token is its own credential)."""
    if not token or len(token) > 100:
        return None
    rows = store._select(notices, token_hash=token_hash(token))
    return to_notice(rows[0]) if rows else None


def events_of(store: Store, principal: Principal, notice_id: str) -> list[dict[str, Any]]:
    get_notice(store, principal, notice_id)
    stmt = select(notice_events).where(notice_events.c.notice_id == notice_id)
    return store._query(stmt.order_by(notice_events.c.id), notice_events.name)


# -- protections --------------------------------------------------------------------------------
def protection_row(p: Protection) -> dict[str, Any]:
    return {**p.__dict__, "ip": str(p.ip)}


def insert_protections(store: Store, items: Sequence[Protection], actor: str) -> list[Protection]:
    """Insert the proposals not already stored (batched, one transaction); returns those
    inserted."""
    with store._write(protections.name) as conn:
        ids = [p.id for p in items]
        have: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            have.update(conn.scalars(select(protections.c.id).where(protections.c.id.in_(chunk))))
        added = [p for p in items if p.id not in have]
        rows = [protection_row(p) for p in added]
        events = [
            {"protection_id": p.id, "state": "proposed", "time": p.proposed, "actor": actor,
             "reason": None}
            for p in added
        ]  # fmt: skip
        for i in range(0, len(rows), _BATCH):
            conn.execute(insert(protections), rows[i : i + _BATCH])
            conn.execute(insert(protection_events), events[i : i + _BATCH])
    return added


def list_protections(
    store: Store, principal: Principal, isp: str, state: str | None = None
) -> list[Protection]:
    check_isp(principal, isp)
    stmt = select(protections).where(protections.c.isp == isp)
    if state:
        stmt = stmt.where(protections.c.state == state)
    rows = store._query(stmt.order_by(protections.c.proposed, protections.c.id), protections.name)
    return [Protection.model_validate(r) for r in rows]


def get_protection(store: Store, principal: Principal, protection_id: str) -> Protection:
    rows = store._select(protections, id=protection_id)
    if not rows or not principal.isp(rows[0]["isp"]):
        raise NotOwned("no such protection", protection_id=protection_id)
    return Protection.model_validate(rows[0])


def move_protection(
    store: Store, p: Protection, state: str, when: datetime, actor: str, reason: str | None
) -> None:
    """Set ``p``'s state (guarded by its current state, so two racing moves cannot both win)."""
    values: dict[str, Any] = {"state": state}
    if state == "applied":
        values.update(applied=when, applied_by=actor, lifted=None, lifted_by=None)
    elif state == "lifted":
        values.update(lifted=when, lifted_by=actor)
    with store._write(protections.name) as conn:
        done = conn.execute(
            update(protections)
            .where(protections.c.id == p.id, protections.c.state == p.state)
            .values(**values)
        )
        if done.rowcount != 1:
            raise StoreError("protection changed meanwhile", protection_id=p.id)
        conn.execute(
            insert(protection_events).values(
                protection_id=p.id, state=state, time=when, actor=actor, reason=reason
            )
        )


def protection_history(
    store: Store, principal: Principal, protection_id: str
) -> list[dict[str, Any]]:
    get_protection(store, principal, protection_id)
    stmt = select(protection_events).where(protection_events.c.protection_id == protection_id)
    return store._query(stmt.order_by(protection_events.c.id), protection_events.name)
