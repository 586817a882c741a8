"""A capture's identity and time range, for storing it once and merging it with the sensor's
other captures (see ``iotscope.store._sightings``)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iotscope.pcap import Frames, iter_frames
from iotscope.telescope._ingest import Ingest, IngestStats, Options, ingest_frames

_US = 1000


def capture_id(path: Path) -> str:
    """``sha256:<hex>`` of the file's bytes: the same file is the same capture, whatever its
    name; a file cut differently is another capture."""
    with path.open("rb") as fh:
        return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()


def covered_ns(spans: list[tuple[datetime, datetime]]) -> tuple[tuple[int, int], ...]:
    """Stored capture ranges (microsecond times) as inclusive nanosecond ranges (a stored
    time t covers every nanosecond that truncates to it)."""
    return tuple((_ns(first), _ns(last) + _US - 1) for first, last in spans)


def span_of(stats: IngestStats) -> tuple[datetime, datetime] | None:
    """The capture's packet-time range as UTC datetimes, None for an empty capture."""
    if stats.first_ns is None or stats.last_ns is None:
        return None
    return _time(stats.first_ns), _time(stats.last_ns)


def _ns(t: datetime) -> int:
    delta = t.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * _US


def _time(ns: int) -> datetime:
    sec, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(sec, UTC).replace(microsecond=rest // _US)


def ingest_stored(
    store: Any,
    capture: Path,
    options: Options,
    frames: Callable[[Path, int], Iterable[Frames]] | None = None,
) -> tuple[Ingest, str]:
    """Ingest ``capture`` into ``store`` once: skip the packets the sensor's stored captures
    cover, save what is new as this capture's contribution. A capture already stored is read
    whole and not saved again. Returns the ingest and ``stored``, ``already stored`` or
    ``empty`` (no packet: nothing to save)."""
    read = frames or (lambda path, batch: iter_frames(path, batch=batch))
    cid = capture_id(capture)
    if store.has_capture(options.sensor, cid):
        return ingest_frames(read(capture, options.batch), options), "already stored"
    skip = covered_ns(store.capture_spans(options.sensor))
    result = ingest_frames(read(capture, options.batch), dataclasses.replace(options, skip_ns=skip))
    span = span_of(result.stats)
    if span is None:
        return result, "empty"
    store.save_capture(options.sensor, cid, span, result.sightings)
    return result, "stored"
