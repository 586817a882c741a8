"""Store access for blocking actions: one idempotent "this channel now holds X" write that
records the differences as timed actions, and a tenant-checked read of the log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from iotscope._times import stored_utc
from iotscope.errors import ConfigError, StoreError
from iotscope.store._schema_block import block_actions, block_entries
from iotscope.store._store import Store
from iotscope.tenancy import Principal

VERBS = {"list": ("added", "removed"), "bgp": ("announced", "withdrawn")}


@dataclass(frozen=True, slots=True)
class Held:
    """One thing a channel holds: which indicator asked for it and until when."""

    indicator_id: str | None
    expires: datetime | None


def record_channel(
    store: Store,
    isp: str,
    channel: str,
    held: Mapping[str, Held],
    now: datetime,
    kind: str = "list",
    reason: str | None = None,
    reasons: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Set what ``channel`` of ``isp`` holds to ``held`` and log what changed at ``now``.

    Returns (added, removed) targets. Writing the same set again changes and logs nothing, so
    re-running an export or restarting the speaker does not fake new actions. A removal's
    reason is ``expired`` when its entry had run out by ``now``, else ``reason`` (the session
    closed), else ``reasons[indicator_id]`` (revoked, tlp, low_confidence...), else
    ``dropped`` (no longer in the feed).
    """
    add_verb, remove_verb = VERBS[kind]
    try:
        with store.engine.begin() as conn:
            old = _held(conn, isp, channel)
            added = sorted(set(held) - set(old))
            removed = sorted(set(old) - set(held))
            rows = [
                _action(isp, channel, t, add_verb, now, held[t].indicator_id, None) for t in added
            ]
            for t in removed:
                exp = stored_utc(old[t].expires)
                why = reason or (reasons or {}).get(old[t].indicator_id or "", "dropped")
                if exp is not None and exp <= now:
                    why = "expired"
                rows.append(_action(isp, channel, t, remove_verb, now, old[t].indicator_id, why))
            _insert_ignore(conn, rows)
            if removed:
                conn.execute(
                    delete(block_entries).where(
                        block_entries.c.isp == isp,
                        block_entries.c.channel == channel,
                        block_entries.c.target.in_(removed),
                    )
                )
            _upsert_entries(conn, isp, channel, held, now)
    except SQLAlchemyError as exc:
        raise StoreError("write failed", table="block_entries", reason=str(exc)[:300]) from exc
    return added, removed


def _held(conn: Connection, isp: str, channel: str) -> dict[str, Held]:
    rows = conn.execute(
        select(block_entries).where(block_entries.c.isp == isp, block_entries.c.channel == channel)
    )
    return {r.target: Held(r.indicator_id, r.expires) for r in rows}


def _action(
    isp: str,
    channel: str,
    target: str,
    action: str,
    at: datetime,
    indicator_id: str | None,
    reason: str | None,
) -> dict[str, Any]:
    return {
        "isp": isp,
        "channel": channel,
        "target": target,
        "action": action,
        "at": at,
        "indicator_id": indicator_id,
        "reason": reason,
    }


def _dialect_insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _insert_ignore(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_dialect_insert(conn)(block_actions).on_conflict_do_nothing(), rows)


def _upsert_entries(
    conn: Connection, isp: str, channel: str, held: Mapping[str, Held], now: datetime
) -> None:
    """New targets start ``since`` now; held ones keep their start but take the new expiry."""
    if not held:
        return
    rows = [
        {
            "isp": isp,
            "channel": channel,
            "target": t,
            "indicator_id": h.indicator_id,
            "since": now,
            "expires": h.expires,
        }
        for t, h in held.items()
    ]
    stmt = _dialect_insert(conn)(block_entries)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["isp", "channel", "target"],
            set_={"indicator_id": stmt.excluded.indicator_id, "expires": stmt.excluded.expires},
        ),
        rows,
    )


def block_log(
    store: Store, principal: Principal, isp: str, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The actions of ``isp`` (oldest first); only that ISP and the centre may read them."""
    if not principal.isp(isp):
        raise ConfigError("not allowed to read another ISP's blocking actions", isp=isp)
    stmt = select(block_actions).where(block_actions.c.isp == isp)
    if since is not None:
        stmt = stmt.where(block_actions.c.at >= since)
    stmt = stmt.order_by(block_actions.c.at, block_actions.c.channel, block_actions.c.target)
    try:
        with store.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table="block_actions", reason=str(exc)[:300]) from exc
    for r in rows:
        r["at"] = stored_utc(r["at"])
    return rows


def block_held(store: Store, principal: Principal, isp: str) -> list[dict[str, Any]]:
    """What each channel of ``isp`` holds now."""
    if not principal.isp(isp):
        raise ConfigError("not allowed to read another ISP's blocklists", isp=isp)
    stmt = (
        select(block_entries)
        .where(block_entries.c.isp == isp)
        .order_by(block_entries.c.channel, block_entries.c.target)
    )
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
