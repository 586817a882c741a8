"""Per-lineage collections of the hub (issue 9 item 2, "per-lineage collections"): the shared
feed cut by C2 lineage, so an ISP can follow one botnet across its C2 changes.

The centre computes the lineages from every ISP's C2 contacts (:mod:`iotscope.centre._botnets`);
each lineage gets a read-only collection (id fixed by the lineage's own id, ``family/ip:port`` of
its first C2) holding the newest version of the shared feed's indicator for each member C2, with
the markings they reference. Re-running adds only new versions (TAXII adds are idempotent), so
a lineage that grows gains its new C2s and a C2 whose indicator changed gains its new version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from iotscope.share import stix
from iotscope.share._model import Collection, lineage_collection_id
from iotscope.store import Store
from iotscope.tenancy import CENTRE

StixObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LineagePublication:
    """One lineage's collection and what this run put in it."""

    lineage: str
    collection: str
    members: int  # member C2s
    indicators: int  # of them, with an indicator in the shared feed
    added: int  # object versions new to the collection


def _newest(objects: Iterable[StixObject]) -> dict[str, StixObject]:
    out: dict[str, StixObject] = {}
    for obj in objects:
        old = out.get(obj["id"])
        if old is None or str(obj.get("modified", "")) > str(old.get("modified", "")):
            out[obj["id"]] = obj
    return out


def publish_lineages(store: Store) -> list[LineagePublication]:
    """Create or update one collection per lineage from the shared feed (as the centre)."""
    from iotscope.centre._botnets import analysis
    from iotscope.share import add_objects
    from iotscope.share._hubstore import ensure_collection
    from iotscope.share._sources import hub_objects

    feed = _newest(hub_objects(store, shared=True, partners=False))
    markings = {k: v for k, v in feed.items() if v.get("type") == "marking-definition"}
    out = []
    for lin in analysis(store).lineages:
        coll = Collection(
            lineage_collection_id(lin.id), "lineage", None, f"C2 lineage {lin.id}"[:200],
            f"{lin.family}: {len(lin.members)} C2s, {lin.bots} bots, seen by "
            f"{len(lin.isps)} ISP(s)",
        )  # fmt: skip
        ensure_collection(store.engine, coll)
        ids = [stix.indicator_id(ip, port, "tcp") for ip, port in (m.c2 for m in lin.members)]
        found = [feed[i] for i in ids if i in feed]
        refs = {r for o in found for r in o.get("object_marking_refs", [])}
        objects = [markings[r] for r in sorted(refs) if r in markings] + found
        status = add_objects(store, CENTRE, coll.id, objects) if objects else {}
        new = [s for s in status.get("successes", []) if "message" not in s]  # not "present"
        out.append(LineagePublication(lin.id, coll.id, len(lin.members), len(found), len(new)))
    return out
