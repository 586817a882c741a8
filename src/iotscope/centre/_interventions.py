"""Interventions from every source as one record, and which a caller may see.

An intervention is something done on purpose at a time, whose effect the centre measures:
a C2 taken down, a blocklist or BGP blackhole put in place by an ISP, a campaign of subscriber
notices. Three sources, one record (:class:`iotscope.store.centre.Intervention`):

- the ``interventions`` table (recorded by hand or by the lab: takedowns, campaigns...);
- ``block_actions`` (:mod:`iotscope.block`): one intervention per ISP, kind and UTC day on
  which targets were added to a list (``blocklist``) or announced as blackholes
  (``bgp_blackhole``), naming every target;
- ``notices`` (:mod:`iotscope.notify`): one ``notice_campaign`` per ISP and UTC day of sending.

The derivations are pure functions over rows; :func:`collect` reads the three sources as a
caller may see them (one recorded in the table and derived from the others is kept once:
:func:`not_recorded`) (an ISP its own and the national ones, the centre all, others the
national ones).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from iotscope._times import stored_utc
from iotscope.store import Store
from iotscope.store._schema_block import block_actions
from iotscope.store._schema_notices import notices
from iotscope.store.centre import Intervention, list_interventions
from iotscope.tenancy import Principal

COLUMNS = ("id", "kind", "isp", "target_kind", "target", "start", "end", "source", "note")


def row(iv: Intervention) -> tuple[str | None, ...]:
    """A table row (times as ISO 8601 text)."""
    end = None if iv.end is None else iv.end.isoformat()
    return (iv.id, iv.kind, iv.isp, iv.target_kind, iv.target, iv.start.isoformat(), end,
            iv.source, iv.note)  # fmt: skip


def _id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def from_block_actions(rows: Iterable[Mapping[str, Any]]) -> list[Intervention]:
    """One intervention per (ISP, blocklist|bgp_blackhole, UTC day) with targets added or
    announced that day; channels of one kind are pooled (the same C2 in the plain and RPZ
    lists is one target)."""
    groups: dict[tuple[str, str, date], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["action"] not in ("added", "announced"):
            continue
        kind = "bgp_blackhole" if str(r["channel"]).startswith("bgp") else "blocklist"
        groups[(r["isp"], kind, stored_utc(r["at"]).date())].append(r)
    out = []
    for (isp, kind, day), members in groups.items():
        targets = sorted({str(m["target"]) for m in members})
        out.append(
            Intervention(
                id=_id("block", isp, kind, day), kind=kind, isp=isp, target_kind="c2",
                target=",".join(targets), start=min(stored_utc(m["at"]) for m in members),
                end=None, source="block_actions", note=f"{len(targets)} targets",
            )
        )  # fmt: skip
    return out


def from_notices(rows: Iterable[Mapping[str, Any]]) -> list[Intervention]:
    """One ``notice_campaign`` per (ISP, UTC day of sending); unsent notices do not count."""
    groups: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    for r in rows:
        if r.get("sent") is not None:
            sent = stored_utc(r["sent"])
            groups[(r["isp"], sent.date())].append(sent)
    return [
        Intervention(
            id=_id("notices", isp, day), kind="notice_campaign", isp=isp,
            target_kind="devices", target="notified subscribers", start=min(times), end=None,
            source="notices", note=f"{len(times)} notices sent",
        )
        for (isp, day), times in groups.items()
    ]  # fmt: skip


def not_recorded(
    derived: Iterable[Intervention], recorded: Iterable[Intervention]
) -> list[Intervention]:
    """``derived`` less those a recorded intervention already names: the same kind at the
    same ISP on the same UTC day (a campaign entered by hand, or by the lab, whose notices
    are in ``notices`` too, is one intervention, not two)."""
    have = {(r.kind, r.isp, r.start.astimezone(UTC).date()) for r in recorded}
    return [d for d in derived if (d.kind, d.isp, d.start.astimezone(UTC).date()) not in have]


def may_see(principal: Principal, isp: str | None) -> bool:
    """National interventions are everyone's; an ISP's own are its own and the centre's."""
    own = principal.role == "isp" and principal.tenant == isp
    return isp is None or principal.is_centre or own


def visible(principal: Principal, items: Iterable[Intervention]) -> list[Intervention]:
    """Those ``principal`` may see, oldest first."""
    return sorted(
        (i for i in items if may_see(principal, i.isp)), key=lambda i: (i.start, i.kind, i.id)
    )


def collect(store: Store, principal: Principal) -> list[Intervention]:
    """Every intervention ``principal`` may see, from the three sources, oldest first."""
    items = list(list_interventions(store, principal))
    if principal.is_centre or principal.role == "isp":
        b, n = block_actions.c, notices.c
        acts = select(b.isp, b.channel, b.target, b.action, b.at)
        sent = select(n.isp, n.sent).where(n.sent.is_not(None))
        if not principal.is_centre:
            acts = acts.where(b.isp == principal.tenant)
            sent = sent.where(n.isp == principal.tenant)
        with store.engine.connect() as conn:
            derived = from_block_actions(dict(r._mapping) for r in conn.execute(acts))
            derived += from_notices(dict(r._mapping) for r in conn.execute(sent))
        items += not_recorded(derived, items)
    return visible(principal, items)
