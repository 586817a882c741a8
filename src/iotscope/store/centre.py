"""The centre's tables in the store (``_schema_centre``): typed rows, bulk writes, scoped reads.

Every read takes the caller's :class:`~iotscope.tenancy.Principal`: an ISP reads only its own
C2 contacts and region counts (and the national and its own interventions); the centre reads
everything; other roles get :class:`~iotscope.errors.ConfigError`. Writes are idempotent upserts
by natural key, in chunks, so a month of a lab world loads in seconds and a reload duplicates
nothing. For aggregates in SQL, :func:`scoped` gives a tenant-filtered ``SELECT`` to build on.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Table, or_, select

from iotscope._times import stored_utc
from iotscope.errors import ConfigError
from iotscope.store._schema_centre import (
    c2_contacts,
    interventions,
    isp_subscribers,
    region_counts,
)
from iotscope.store._store import Store
from iotscope.tenancy import Principal

__all__ = [
    "INTERVENTION_KINDS",
    "REGION_KINDS",
    "C2Contact",
    "Intervention",
    "RegionCount",
    "Subscribers",
    "c2_contacts",
    "interventions",
    "isp_subscribers",
    "list_c2_contacts",
    "list_interventions",
    "list_region_counts",
    "list_subscribers",
    "pseudonym",
    "region_counts",
    "save_c2_contacts",
    "save_interventions",
    "save_region_counts",
    "save_subscribers",
    "scoped",
    "upsert_rows",
]

INTERVENTION_KINDS = ("c2_takedown", "blocklist", "bgp_blackhole", "notice_campaign")
REGION_KINDS = ("weak", "vulnerable", "infected")
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class C2Contact:
    """One bot of ``isp`` contacting one C2 endpoint on one UTC ``day``."""

    isp: str
    c2_ip: str
    c2_port: int
    family: str | None
    bot: str
    day: date
    first_seen: datetime
    last_seen: datetime
    flows: int


@dataclass(frozen=True, slots=True)
class Intervention:
    """A countermeasure and its time span (``isp`` None: national; ``end`` None: ongoing).

    ``target_kind`` says what ``target`` names: ``c2`` (``ip:port``, comma-separated when
    several), ``lineage``, ``campaign`` or ``devices`` (e.g. ``weak`` for a notice campaign)."""

    id: str
    kind: str
    isp: str | None
    target_kind: str
    target: str
    start: datetime
    end: datetime | None
    source: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Subscribers:
    """An ISP's subscriber count from ``day`` on."""

    isp: str
    day: date
    subscribers: int


@dataclass(frozen=True, slots=True)
class RegionCount:
    """Devices of one ``kind`` (weak, vulnerable, infected) an ISP counts in one prefecture."""

    isp: str
    day: date
    pref_code: str
    prefecture: str
    kind: str
    count: int


def pseudonym(key: bytes, subject: str) -> str:
    """The bot name an ISP shares for its subscriber or device ``subject``: HMAC-SHA256 under
    the ISP's secret ``key``, 16 bytes in hex. Stable for the subject (across addresses and
    C2s), not reversible nor linkable across ISPs without the key."""
    if len(key) < 16:
        raise ConfigError("a pseudonym key needs at least 16 bytes", length=len(key))
    return hmac.new(key, subject.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


# -- writes -----------------------------------------------------------------------------------


def _may_write(principal: Principal, isp: str | None) -> None:
    if isp is None and not principal.is_centre:
        raise ConfigError("only the centre records national rows", role=principal.role)
    if isp is not None and not principal.isp(isp):
        raise ConfigError("not allowed to write another ISP's rows", isp=isp)


def upsert_rows(store: Store, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Bulk upsert of ready rows into any table by its primary key (loaders: the lab's month
    world writes survey rounds with it). No tenant check: callers that write tenant rows use
    the ``save_*`` functions."""
    return store._upsert(table, rows)


def _save(store: Store, principal: Principal, table: Table, items: Iterable[Any]) -> int:
    rows = [asdict(x) for x in items]
    for isp in {r["isp"] for r in rows}:
        _may_write(principal, isp)
    return store._upsert(table, rows)


def save_c2_contacts(store: Store, principal: Principal, contacts: Iterable[C2Contact]) -> int:
    """Upsert contacts (each of an ISP the caller is, or any for the centre); the count."""
    return _save(store, principal, c2_contacts, contacts)


def save_interventions(store: Store, principal: Principal, items: Iterable[Intervention]) -> int:
    """Upsert interventions by id (national ones only by the centre); the count."""
    rows = list(items)
    bad = [x.kind for x in rows if x.kind not in INTERVENTION_KINDS]
    if bad:
        raise ConfigError("unknown intervention kind", kinds=sorted(set(bad)))
    return _save(store, principal, interventions, rows)


def save_region_counts(store: Store, principal: Principal, counts: Iterable[RegionCount]) -> int:
    """Upsert region counts by (isp, day, prefecture, kind); the count."""
    rows = list(counts)
    bad = [x.kind for x in rows if x.kind not in REGION_KINDS]
    if bad:
        raise ConfigError("unknown region count kind", kinds=sorted(set(bad)))
    return _save(store, principal, region_counts, rows)


def save_subscribers(store: Store, principal: Principal, counts: Iterable[Subscribers]) -> int:
    """Upsert subscriber counts by (isp, day); the count."""
    return _save(store, principal, isp_subscribers, counts)


# -- reads ------------------------------------------------------------------------------------


def scoped(table: Table, principal: Principal, isp: str | None = None) -> Select[Any]:
    """``SELECT * FROM table`` limited to what ``principal`` may read (and to ``isp`` if given).

    ``c2_contacts``, ``region_counts``, ``isp_subscribers``: an ISP its own rows, the centre
    all. ``interventions``: the national ones (``isp`` NULL) and the caller's own; the centre
    all. Build aggregates on it (``.where``, ``.with_only_columns``, ``.group_by``)."""
    if table.name not in ("c2_contacts", "region_counts", "interventions", "isp_subscribers"):
        raise ConfigError("not a centre table", table=table.name)
    if isp is not None and not principal.isp(isp):
        raise ConfigError("not allowed to read another ISP's rows", isp=isp, table=table.name)
    stmt = select(table)
    if isp is not None:
        return stmt.where(table.c.isp == isp)
    if principal.is_centre:
        return stmt
    if principal.role != "isp":
        if table.name == "interventions":
            return stmt.where(table.c.isp.is_(None))
        raise ConfigError("only ISPs and the centre read this table", table=table.name,
                          role=principal.role)  # fmt: skip
    if table.name == "interventions":
        return stmt.where(or_(table.c.isp.is_(None), table.c.isp == principal.tenant))
    return stmt.where(table.c.isp == principal.tenant)


def _days(stmt: Select[Any], table: Table, since: date | None, until: date | None) -> Select[Any]:
    if since is not None:
        stmt = stmt.where(table.c.day >= since)
    if until is not None:
        stmt = stmt.where(table.c.day < until)
    return stmt


def list_c2_contacts(
    store: Store,
    principal: Principal,
    *,
    isp: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[C2Contact]:
    """Contacts the caller may read, days in ``[since, until)``, ordered by day, ISP, C2, bot."""
    t = c2_contacts
    stmt = _days(scoped(t, principal, isp), t, since, until)
    stmt = stmt.order_by(t.c.day, t.c.isp, t.c.c2_ip, t.c.c2_port, t.c.bot)
    out = []
    for r in store._query(stmt, t.name):
        r["first_seen"], r["last_seen"] = stored_utc(r["first_seen"]), stored_utc(r["last_seen"])
        out.append(C2Contact(**r))
    return out


def list_interventions(
    store: Store, principal: Principal, *, isp: str | None = None, kind: str | None = None
) -> list[Intervention]:
    """Interventions the caller may read (national and its own), oldest first."""
    t = interventions
    stmt = scoped(t, principal, isp)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    out = []
    for r in store._query(stmt.order_by(t.c.start, t.c.id), t.name):
        r["start"], r["end"] = stored_utc(r["start"]), stored_utc(r["end"])
        out.append(Intervention(**r))
    return out


def list_region_counts(
    store: Store,
    principal: Principal,
    *,
    isp: str | None = None,
    kind: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[RegionCount]:
    """Region counts the caller may read, by day, ISP, prefecture and kind."""
    t = region_counts
    stmt = _days(scoped(t, principal, isp), t, since, until)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    stmt = stmt.order_by(t.c.day, t.c.isp, t.c.pref_code, t.c.kind)
    return [RegionCount(**r) for r in store._query(stmt, t.name)]


def list_subscribers(
    store: Store, principal: Principal, *, isp: str | None = None
) -> list[Subscribers]:
    """Subscriber counts the caller may read, by ISP and day."""
    t = isp_subscribers
    stmt = scoped(t, principal, isp).order_by(t.c.isp, t.c.day)
    return [Subscribers(**r) for r in store._query(stmt, t.name)]
