"""The shared C2 feed as a MISP feed: ``<uuid>.json`` events, ``manifest.json``, ``hashes.csv``.

The layout is the one MISP's feed fetcher reads for a feed of source format "MISP Feed": it
fetches ``manifest.json`` (event uuid -> Orgc, Tag, info, date, analysis, threat_level_id,
timestamp), then each ``<uuid>.json`` whose timestamp is newer than what it holds;
``hashes.csv`` holds one ``<md5 of a value>,<event uuid>`` line per value (each part of a
composite ``a|b`` value apart), which MISP uses to cache and correlate a feed without
reading every event. PyMISP's ``MISPEvent.manifest`` and ``attributes_hashes('md5')`` compute
the same two from an event; the tests hold our files to them.

One event per day (the day a C2 was first seen), so a day's event changes only while its C2s
gain evidence. Each C2 is one ``ip-dst|port`` attribute (category Network activity) with
``to_ids`` while its indicator is valid (an expired C2 stays for history without IDS use), a
revoked one is kept with ``deleted: true`` so a MISP that pulled it before removes it. Tags:
TLP (``tlp:amber`` ...), the family as the Malpedia galaxy (``misp-galaxy:malpedia="Mirai"``),
and the admiralty-scale credibility (``1`` confirmed by other sources; ``2`` probably true at
confidence 70+; ``3`` possibly true).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from iotscope.share import stix
from iotscope.share.agreement import EndpointView, newest, views

MispEvent = dict[str, Any]

TLP_COLOURS = {
    "clear": "#ffffff",
    "green": "#339900",
    "amber": "#ffc000",
    "amber+strict": "#ffc000",
    "red": "#cc0033",
}


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(stix.NAMESPACE, "|".join(["misp", *(str(p) for p in parts)])))


def _epoch(text: str) -> int:
    return int(stix.parse_ts(text).timestamp())


def _tag(name: str, colour: str = "#0088cc") -> dict[str, Any]:
    return {"name": name, "colour": colour, "local": False, "relationship_type": ""}


def credibility(view: EndpointView | None, confidence: int) -> str:
    """The admiralty-scale information-credibility value for a C2."""
    if view is not None and view.confirmed:
        return "1"
    return "2" if confidence >= 70 else "3"


def attribute(ind: Mapping[str, Any], view: EndpointView | None, now: datetime) -> dict[str, Any]:
    """One C2 indicator as a MISP ``ip-dst|port`` attribute."""
    ep = stix.pattern_endpoint(ind["pattern"])
    assert ep is not None  # callers pass community indicators only
    ip, port, proto = ep
    conf = int(ind.get("confidence", 0))
    tlp = stix.tlp_of(ind) or "amber"
    tags = [_tag(f"tlp:{tlp}", TLP_COLOURS[tlp])]
    fam = stix.family(view.family if view else None)
    if fam is not None:
        tags.append(_tag(f'misp-galaxy:malpedia="{fam.malpedia}"'))
    tags.append(_tag(f'admiralty-scale:information-credibility="{credibility(view, conf)}"'))
    last = ind["valid_from"]
    if view is not None:
        last = max([last, *(s["last_seen"] for s in view.sightings.values())])
    revoked = bool(ind.get("revoked"))
    valid = not revoked and stix.parse_ts(ind["valid_until"]) > now
    return {
        "uuid": _uuid("attribute", ind["id"]),
        "type": "ip-dst|port",
        "category": "Network activity",
        "value": f"{ip}|{port}",
        "to_ids": valid,
        "deleted": revoked,
        "disable_correlation": False,
        "comment": (
            f"{proto} C2; confidence {conf}; valid until {ind['valid_until']}; STIX {ind['id']}"
        ),
        "timestamp": str(_epoch(ind["modified"])),
        "first_seen": ind["valid_from"],
        "last_seen": last,
        "Tag": tags,
    }


def _day(ind: Mapping[str, Any]) -> str:
    return stix.parse_ts(ind["valid_from"]).date().isoformat()


def feed_events(
    objects: Iterable[Mapping[str, Any]], now: datetime, *, org: str = "iotscope centre"
) -> list[MispEvent]:
    """The MISP events (one per day of first sighting) of the community C2 indicators in
    ``objects`` (a STIX feed, any versions): newest versions only, sorted by day."""
    objs = list(objects)
    latest = newest(objs)
    seen = views(objs)
    days: dict[str, list[dict[str, Any]]] = {}
    for o in latest.values():
        ep = stix.pattern_endpoint(o.get("pattern", "")) if o["type"] == "indicator" else None
        if ep is None or o["id"] != stix.indicator_id(*ep):
            continue  # not a community C2 indicator (a partner's is theirs to publish)
        days.setdefault(_day(o), []).append(attribute(o, seen.get(ep), now))
    return [_event(day, attrs, org) for day, attrs in sorted(days.items())]


def _event(day: str, attrs: list[dict[str, Any]], org: str) -> MispEvent:
    attrs.sort(key=lambda a: a["value"])
    stamp = max(int(a["timestamp"]) for a in attrs)
    names = {t["name"] for a in attrs if not a["deleted"] for t in a["Tag"]}
    tlps = [lvl for lvl in stix.TLP2_IDS if f"tlp:{lvl}" in names]
    tlp = tlps[-1] if tlps else "amber"  # the strictest of its attributes
    fams = sorted(n for n in names if n.startswith("misp-galaxy:"))
    return {
        "Event": {
            "uuid": _uuid("event", org, day),
            "info": f"iotscope shared C2 feed: C2 endpoints first seen {day}",
            "date": day,
            "threat_level_id": "2",
            "analysis": "2",
            "timestamp": str(stamp),
            "publish_timestamp": str(stamp),
            "published": True,
            "Orgc": {"name": org, "uuid": _uuid("org", org)},
            "Tag": [_tag(f"tlp:{tlp}", TLP_COLOURS[tlp]), *(_tag(f) for f in fams)],
            "Attribute": attrs,
        }
    }


def manifest_entry(event: MispEvent) -> dict[str, Any]:
    """The event's entry in ``manifest.json`` (what MISP compares before fetching it); numbers
    as numbers, as PyMISP's ``MISPEvent.manifest`` writes them (the event file has strings)."""
    e = event["Event"]
    return {
        "Orgc": e["Orgc"],
        "Tag": e["Tag"],
        "info": e["info"],
        "date": e["date"],
        "analysis": int(e["analysis"]),
        "threat_level_id": int(e["threat_level_id"]),
        "timestamp": int(e["timestamp"]),
    }


def value_hashes(event: MispEvent) -> list[str]:
    """MD5 of each value (each part of a composite value) of the event's live attributes."""
    out = []
    for a in event["Event"]["Attribute"]:
        if a.get("deleted"):
            continue
        parts = a["value"].split("|") if "|" in a["type"] else [a["value"]]
        out += [hashlib.md5(p.encode("utf-8"), usedforsecurity=False).hexdigest() for p in parts]
    return out


@dataclass(frozen=True)
class FeedSummary:
    out: Path
    events: int
    attributes: int
    to_ids: int


def _write(path: Path, data: bytes) -> None:
    """Write-then-rename, so a fetcher never reads half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_feed(out: Path, events: list[MispEvent]) -> FeedSummary:
    """Write the events, then ``hashes.csv`` and last ``manifest.json`` (the fetcher's entry
    point) into ``out``. Events of days no longer in the feed are left for MISPs that still
    hold them, but leave the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {}
    lines: list[str] = []
    for ev in events:
        uid = ev["Event"]["uuid"]
        _write(out / f"{uid}.json", json.dumps(ev, indent=1, sort_keys=True).encode())
        manifest[uid] = manifest_entry(ev)
        lines += [f"{h},{uid}" for h in value_hashes(ev)]
    _write(out / "hashes.csv", ("\n".join(lines) + "\n" if lines else "").encode())
    _write(out / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode())
    attrs = [a for ev in events for a in ev["Event"]["Attribute"]]
    return FeedSummary(out, len(events), len(attrs), sum(1 for a in attrs if a["to_ids"]))
