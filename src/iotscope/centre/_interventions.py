"""Interventions as one record, from what iotscope records and from the interventions table.

An intervention is something done on purpose at a time, whose effect the centre measures:
a C2 taken down, a blocklist or BGP blackhole put in place by an ISP, a campaign of subscriber
notices. Three sources:

- the ``interventions`` table (recorded by hand or by the lab: takedowns, campaigns...);
- ``block_actions`` (:mod:`iotscope.block`): one intervention per ISP, kind and UTC day on
  which targets were added to a list (``blocklist``) or announced as blackholes
  (``bgp_blackhole``);
- ``notices`` (:mod:`iotscope.notify`): one ``notice_campaign`` per ISP and UTC day of sending.

The derivations are pure functions over rows; :func:`visible` applies the tenancy rule
(an ISP sees its own and the national ones, the centre all, others the national ones).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from iotscope.tenancy import Principal

KINDS = ("c2_takedown", "blocklist", "bgp_blackhole", "notice_campaign")
SHOWN_TARGETS = 3


@dataclass(frozen=True, slots=True)
class Intervention:
    """One intervention. ``isp`` None: national (not one ISP's); ``size``: how many targets,
    routes or notices it holds (1 for a single recorded action)."""

    id: str
    kind: str
    isp: str | None
    target: str
    start: datetime
    end: datetime | None
    source: str  # interventions | block_actions | notices
    note: str = ""
    size: int = 1

    def row(self) -> tuple[str, str, str | None, str, str, str | None, str, int, str]:
        end = None if self.end is None else self.end.isoformat()
        return (self.id, self.kind, self.isp, self.target, self.start.isoformat(), end,
                self.source, self.size, self.note)  # fmt: skip


COLUMNS = ("id", "kind", "isp", "target", "start", "end", "source", "size", "note")


def aware(t: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns: they were written in UTC."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _targets_text(targets: Iterable[str]) -> str:
    items = sorted(set(targets))
    head = ", ".join(items[:SHOWN_TARGETS])
    return head if len(items) <= SHOWN_TARGETS else f"{head} (+{len(items) - SHOWN_TARGETS})"


def from_block_actions(rows: Iterable[Mapping[str, Any]]) -> list[Intervention]:
    """One intervention per (ISP, blocklist|bgp_blackhole, UTC day) with targets added or
    announced that day; channels of one kind are pooled (the same C2 in the plain and RPZ
    lists is one target)."""
    groups: dict[tuple[str, str, date], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["action"] not in ("added", "announced"):
            continue
        kind = "bgp_blackhole" if str(r["channel"]).startswith("bgp") else "blocklist"
        groups[(r["isp"], kind, aware(r["at"]).date())].append(r)
    out = []
    for (isp, kind, day), members in groups.items():
        targets = {str(m["target"]) for m in members}
        out.append(
            Intervention(
                id=_id("block", isp, kind, day), kind=kind, isp=isp,
                target=_targets_text(targets), start=min(aware(m["at"]) for m in members),
                end=None, source="block_actions", size=len(targets),
            )
        )  # fmt: skip
    return out


def from_notices(rows: Iterable[Mapping[str, Any]]) -> list[Intervention]:
    """One ``notice_campaign`` per (ISP, UTC day of sending); unsent notices do not count."""
    groups: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    for r in rows:
        if r.get("sent") is not None:
            sent = aware(r["sent"])
            groups[(r["isp"], sent.date())].append(sent)
    return [
        Intervention(
            id=_id("notices", isp, day), kind="notice_campaign", isp=isp,
            target=f"{len(times)} subscriber notices", start=min(times), end=max(times),
            source="notices", size=len(times),
        )
        for (isp, day), times in groups.items()
    ]  # fmt: skip


def from_table(rows: Iterable[Mapping[str, Any]]) -> list[Intervention]:
    """Rows of the ``interventions`` table as records."""
    return [
        Intervention(
            id=str(r["id"]), kind=str(r["kind"]), isp=r.get("isp"), target=str(r["target"]),
            start=aware(r["start"]), end=None if r.get("end") is None else aware(r["end"]),
            source=str(r.get("source") or "interventions"), note=str(r.get("note") or ""),
        )
        for r in rows
    ]  # fmt: skip


def may_see(principal: Principal, isp: str | None) -> bool:
    """National interventions are everyone's; an ISP's own are its own and the centre's."""
    own = principal.role == "isp" and principal.tenant == isp
    return isp is None or principal.is_centre or own


def visible(principal: Principal, items: Iterable[Intervention]) -> list[Intervention]:
    """Those ``principal`` may see, oldest first."""
    return sorted(
        (i for i in items if may_see(principal, i.isp)), key=lambda i: (i.start, i.kind, i.id)
    )
