"""Sightings merged across captures of one sensor.

Each capture is stored once (``captures``: sensor, identity, packet-time range) with what it
contributed per source (``sighting_parts``). A merged sighting (``sightings``) is one source
over one stretch of continuous coverage: the captures whose ranges overlap or lie within
:data:`ADJACENT` of each other form one stretch, and a source's parts in captures of one
stretch combine as

* ``first_seen``/``last_seen``: min/max; ``packets`` and ``ports``: sums (``ports`` cut back
  to the most-hit :data:`PORTS_KEPT`, or as many as the longest part kept if more);
* ``targets``: the largest part's distinct count (distinct counts cannot be added: a lower
  bound, exact when one capture saw every target);
* ``mirai_fingerprint``: the packet-weighted mean; ``classification``: the larger side's
  (a new capture's part is folded into the merged row of its stretch, so that is the larger
  of the row so far and the part; a stretch re-merged from its parts takes the largest part).

Sums are exact only when parts hold disjoint packets. The telescope ensures it: an ingest
into the store skips packets inside the time range of a capture the sensor already stored
(captures of one sensor are cut from one stream, so those packets are already counted), and
a capture whose identity is already stored is not ingested again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from iotscope.records import Sighting, utc
from iotscope.store import _schema as s

Row = dict[str, Any]
Span = tuple[datetime, datetime]
#: Captures this close are one stretch of coverage (a sensor's files cut back to back).
ADJACENT = timedelta(seconds=60)
#: Ports a merged sighting keeps at least (the telescope's default ``--top-ports``).
PORTS_KEPT = 20
_CHUNK = 500


def part_row(x: Sighting, capture_id: str) -> Row:
    row = x.model_dump(mode="json")
    row.update(first_seen=x.first_seen, last_seen=x.last_seen, capture_id=capture_id)
    return row


def content_id(rows: Sequence[Sighting]) -> str:
    """An identity for sightings saved without a capture id: a digest of their content."""
    text = "\n".join(sorted(x.to_json() for x in rows))
    return "rows:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def stretches(spans: Iterable[tuple[str, Span]]) -> dict[str, int]:
    """Capture id -> stretch number, grouping captures that overlap or are adjacent."""
    out: dict[str, int] = {}
    stretch, end = -1, None
    for cid, (first, last) in sorted(spans, key=lambda x: x[1]):
        if end is None or first > end + ADJACENT:
            stretch += 1
            end = last
        end = max(end, last)
        out[cid] = stretch
    return out


def capture_spans(conn: Connection, sensor: str) -> dict[str, Span]:
    t = s.captures
    stmt = select(t.c.id, t.c.first_seen, t.c.last_seen).where(t.c.sensor == sensor)
    return {r.id: (utc(r.first_seen), utc(r.last_seen)) for r in conn.execute(stmt)}


def has_capture(conn: Connection, sensor: str, capture_id: str) -> bool:
    t = s.captures
    stmt = select(t.c.id).where(t.c.sensor == sensor, t.c.id == capture_id)
    return conn.execute(stmt).first() is not None


def add_capture(
    conn: Connection, sensor: str, capture_id: str, span: Span, parts: list[Row]
) -> None:
    """Store one new capture and its parts and merge them in. A capture that joins stretches
    which were apart re-merges every source of them from their parts; otherwise each part is
    folded into its source's merged row of the stretch (one row read per source)."""
    before = stretches(capture_spans(conn, sensor).items())
    conn.execute(
        insert(s.captures),
        [{"sensor": sensor, "id": capture_id, "first_seen": span[0], "last_seen": span[1],
          "sources": len(parts)}],
    )  # fmt: skip
    for i in range(0, len(parts), _CHUNK):
        conn.execute(insert(s.sighting_parts), parts[i : i + _CHUNK])
    spans = capture_spans(conn, sensor)
    groups = stretches(spans.items())
    group = [cid for cid, g in groups.items() if g == groups[capture_id]]
    if len({before[cid] for cid in group if cid in before}) > 1:
        _remerge(conn, sensor, _sources(conn, sensor, group), groups)
        return
    lo = min(spans[cid][0] for cid in group)
    hi = max(spans[cid][1] for cid in group)
    for i in range(0, len(parts), _CHUNK):
        _fold(conn, sensor, parts[i : i + _CHUNK], (lo, hi))


def _fold(conn: Connection, sensor: str, parts: list[Row], stretch: Span) -> None:
    """Merge ``parts`` into their sources' rows that start within ``stretch``."""
    m = s.sightings
    srcs = [r["src"] for r in parts]
    where = (
        m.c.sensor == sensor,
        m.c.src.in_(srcs),
        m.c.first_seen >= stretch[0],
        m.c.first_seen <= stretch[1],
    )
    old = {r["src"]: r for r in map(_row, conn.execute(select(m).where(*where)))}
    conn.execute(delete(m).where(*where))
    merged = [merge_parts([old[r["src"]], r] if r["src"] in old else [r]) for r in parts]
    if merged:
        conn.execute(insert(m), merged)


def _row(r: Any) -> Row:
    """A stored row as a dict with aware UTC times (SQLite returns naive ones)."""
    row = dict(r._mapping)
    row.update(first_seen=utc(row["first_seen"]), last_seen=utc(row["last_seen"]))
    return row


def _sources(conn: Connection, sensor: str, capture_ids: list[str]) -> list[str]:
    t = s.sighting_parts
    out: set[str] = set()
    for i in range(0, len(capture_ids), _CHUNK):
        stmt = select(t.c.src).where(
            t.c.sensor == sensor, t.c.capture_id.in_(capture_ids[i : i + _CHUNK])
        )
        out |= {r.src for r in conn.execute(stmt)}
    return sorted(out)


def _remerge(conn: Connection, sensor: str, srcs: list[str], groups: dict[str, int]) -> None:
    """Replace the merged rows of ``srcs`` with the merge of all their parts."""
    p, m = s.sighting_parts, s.sightings
    for i in range(0, len(srcs), _CHUNK):
        chunk = srcs[i : i + _CHUNK]
        parts = conn.execute(select(p).where(p.c.sensor == sensor, p.c.src.in_(chunk)))
        by_key: dict[tuple[str, int], list[Row]] = defaultdict(list)
        for row in map(_row, parts):
            by_key[(row["src"], groups[row["capture_id"]])].append(row)
        conn.execute(delete(m).where(m.c.sensor == sensor, m.c.src.in_(chunk)))
        merged = [merge_parts(rows) for rows in by_key.values()]
        if merged:
            conn.execute(insert(m), merged)


def merge_parts(parts: list[Row]) -> Row:
    """One source's parts within one stretch as one sightings row (rules: module docstring)."""
    big = max(parts, key=lambda r: (r["packets"], r["targets"]))
    packets = sum(r["packets"] for r in parts)
    ports: dict[int, int] = defaultdict(int)
    for r in parts:
        for port, n in r["ports"].items():
            ports[int(port)] += int(n)
    keep = max(PORTS_KEPT, *(len(r["ports"]) for r in parts))
    top = sorted(ports.items(), key=lambda x: (-x[1], x[0]))[:keep]
    share = big["mirai_fingerprint"]
    if len(parts) > 1 and packets:
        share = min(1.0, sum(r["mirai_fingerprint"] * r["packets"] for r in parts) / packets)
    return {
        "sensor": big["sensor"],
        "src": big["src"],
        "first_seen": min(r["first_seen"] for r in parts),
        "last_seen": max(r["last_seen"] for r in parts),
        "packets": packets,
        "targets": max(r["targets"] for r in parts),
        "ports": {str(k): v for k, v in top},
        "mirai_fingerprint": share,
        "classification": big["classification"],
    }
