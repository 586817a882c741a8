"""What a site publishes after a detection run: the diff between its candidates and what it
has already sent (pure: records in, a plan out; the store and the network are elsewhere).

Per C2 endpoint (ip, port, proto), keyed by its indicator's deterministic id:

- **new**: never sent; its objects go out as first versions (``created`` == ``modified``);
- **changed**: sent before and its indicator's content changed (score, confidence, family...),
  its validity was extended by at least ``refresh`` (seen again: ``valid_until`` moves on), or
  it had expired and is back; its changed objects go out as new versions (same id, same
  ``created``, later ``modified``: STIX 2.1 section 3.6);
- **expired**: sent, active, and absent from this run; its indicator goes out once more with
  ``valid_until`` = now, so consumers stop acting on it (4.7). One whose ``valid_until`` has
  already passed is only marked (**lapsed**): consumers have dropped it by themselves;
- **unchanged**: nothing to send (a revoked indicator stays revoked and counts here).

The refresh threshold keeps a C2 that is seen in every run from being re-versioned every few
minutes: its ``valid_until`` (last seen + TTL) creeps forward each run, and a new version is
worth sending only once consumers would otherwise drop it noticeably earlier. An object never
sent before (a new malware family, the ISP's identity) always goes out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from iotscope.isp import _content as content
from iotscope.records import C2Candidate

Endpoint = tuple[str, int, str]
Fetch = Callable[[str], dict[str, Any] | None]
Kind = Literal["new", "changed", "expired", "lapsed", "unchanged"]
Status = Literal["active", "expired", "revoked"]
DEFAULT_REFRESH = timedelta(hours=6)


@dataclass(frozen=True)
class Published:
    """The last version a site sent of one STIX object (a row of ``isp_published``)."""

    object_id: str
    type: str
    version: int
    modified: str | None
    content_hash: str
    status: Status
    object: dict[str, Any] | None  # None: not loaded (see ``fetch`` of :func:`plan`)
    endpoint: Endpoint | None = None


@dataclass(frozen=True)
class Action:
    """What the plan does with one endpoint."""

    endpoint: Endpoint
    kind: Kind
    indicator_id: str


@dataclass(frozen=True)
class Plan:
    """Objects to send (in order), what happened per endpoint, and the state rows to write."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    rows: list[Published] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("new", "changed", "expired", "lapsed", "unchanged"), 0)
        for a in self.actions:
            out[a.kind] += 1
        return out


def content_hash(obj: Mapping[str, Any]) -> str:
    """SHA-256 of the object's content without its version times (same content, same hash)."""
    body = {k: v for k, v in obj.items() if k not in ("created", "modified")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def best_per_endpoint(candidates: Sequence[C2Candidate]) -> dict[Endpoint, C2Candidate]:
    """One candidate per endpoint (the highest score), whatever the sites they came from."""
    best: dict[Endpoint, C2Candidate] = {}
    for c in candidates:
        ep = (str(c.ip), c.port, c.proto)
        if ep not in best or c.score > best[ep].score:
            best[ep] = c
    return best


def _row(
    obj: dict[str, Any], prev: Published | None, status: Status, ep: Endpoint | None
) -> Published:
    if obj.get("revoked"):
        status = "revoked"
    return Published(
        object_id=obj["id"],
        type=obj["type"],
        version=(prev.version + 1) if prev else 1,
        modified=obj.get("modified"),
        content_hash=content_hash(obj),
        status=status,
        object=obj,
        endpoint=ep if obj["type"] == "indicator" else (prev.endpoint if prev else None),
    )


def _only_extended(new: Mapping[str, Any], old: Mapping[str, Any], refresh: timedelta) -> bool:
    """True when ``new`` differs from ``old`` only by a ``valid_until`` less than ``refresh``
    later (the C2 was seen again; not yet worth a new version)."""
    skip = ("created", "modified", "valid_until")
    if {k: v for k, v in new.items() if k not in skip} != {
        k: v for k, v in old.items() if k not in skip
    }:
        return False
    if "valid_until" not in new or "valid_until" not in old:
        return new.get("valid_until") == old.get("valid_until")
    gain = content.parse_ts(new["valid_until"]) - content.parse_ts(old["valid_until"])
    return timedelta(0) <= gain < refresh


def _kind(ind: dict[str, Any] | None, prev: Published | None, refresh: timedelta) -> Kind:
    if prev is None:
        return "new"
    if prev.status == "revoked" or ind is None:
        return "unchanged"
    if prev.status == "expired":
        return "changed"
    return "unchanged" if _only_extended(ind, _obj(prev), refresh) else "changed"


def _obj(row: Published) -> dict[str, Any]:
    if row.object is None:  # indicator rows always carry their object
        raise ValueError(f"state row {row.object_id} has no object")
    return row.object


class _Previous(Mapping[str, Mapping[str, Any]]):
    """Object id -> the last version sent, each object read from ``fetch`` only when the
    content builder asks for it (a run holds every active C2: most are never asked for)."""

    def __init__(self, state: Mapping[str, Published], fetch: Fetch | None) -> None:
        self.state, self.fetch = state, fetch
        self.cache: dict[str, Mapping[str, Any]] = {}

    def __getitem__(self, oid: str) -> Mapping[str, Any]:
        row = self.state[oid]
        if row.object is not None:
            return row.object
        if oid not in self.cache:
            got = self.fetch(oid) if self.fetch is not None else None
            if got is None:
                raise KeyError(oid)
            self.cache[oid] = got
        return self.cache[oid]

    def __iter__(self) -> Iterator[str]:
        return iter(self.state)

    def __len__(self) -> int:
        return len(self.state)


def plan(
    candidates: Sequence[C2Candidate],
    site: str,
    state: Mapping[str, Published],
    now: datetime,
    *,
    refresh: timedelta = DEFAULT_REFRESH,
    fetch: Fetch | None = None,
) -> Plan:
    """The publication of ``site`` after a run that found ``candidates``, given ``state``
    (object id -> what was last sent). Indicator rows carry their object; other rows may
    leave it out (None) when ``fetch`` (object id -> object) can read it on demand."""
    previous = _Previous(state, fetch)
    best = best_per_endpoint(candidates)
    out = Plan()
    queued: set[str] = set()
    for ep in sorted(best):
        iid = content.indicator_id(*ep)
        prev = state.get(iid)
        if prev is not None and prev.status == "active":
            quick = content.indicator_for(best[ep], site, now)
            if _kind(quick, prev, refresh) == "unchanged":  # skip building the rest
                out.actions.append(Action(ep, "unchanged", iid))
                continue
        objs = [
            o for o in content.c2_objects([best[ep]], site, now, previous) if o["id"] not in queued
        ]
        ind = next((o for o in objs if o["id"] == iid), None)
        kind = _kind(ind, state.get(iid), refresh)
        out.actions.append(Action(ep, kind, iid))
        send = objs if kind in ("new", "changed") else [o for o in objs if o["id"] not in state]
        for obj in send:
            queued.add(obj["id"])
            out.objects.append(obj)
            out.rows.append(_row(obj, state.get(obj["id"]), "active", ep))
    for iid, prev in sorted(state.items()):
        if prev.type != "indicator" or prev.status != "active" or prev.endpoint in best:
            continue
        assert prev.endpoint is not None
        until = _obj(prev).get("valid_until")
        if until is not None and content.parse_ts(until) <= now:
            out.actions.append(Action(prev.endpoint, "lapsed", iid))
            out.rows.append(Published(**{**prev.__dict__, "status": "expired"}))
            continue
        obj = content.expire(_obj(prev), now)
        out.actions.append(Action(prev.endpoint, "expired", iid))
        out.objects.append(obj)
        out.rows.append(_row(obj, prev, "expired", prev.endpoint))
    return out
