"""Ingest: a capture in, one :class:`~iotscope.records.Sighting` per source out.

The capture is memory-mapped and read in batches of ``Options.batch`` packets
(:func:`iotscope.pcap.iter_frames`); each batch is decoded and reduced to per-source partials
at once. Memory is therefore: the pages of the mapping being read (file-backed: the OS drops
them under pressure, they are never copied), one batch of columns (~70 MB at 512k packets),
and the partials, which grow with what must be exact: 8 bytes per distinct (source,
destination) pair and 16 per distinct (source, port); the final merge needs about three times
the pairs. A multi-gigabyte capture thus never needs the file's size in RAM, let alone 3x.
Measured (benchmarks/bench_telescope.py): 5M packets, 346 MiB file, peak RSS ~0.8 GB of which
the touched file pages are ~0.35 GB.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from iotscope.errors import ConfigError
from iotscope.pcap import Frames, iter_frames
from iotscope.records import Sighting
from iotscope.telescope._aggregate import Partial, merge, reduce_rows, targets, top_ports
from iotscope.telescope._classify import classify, columns, mirai_share
from iotscope.telescope._decode import V6_BASE, Decoded, Prefix, V6Registry, decode

__all__ = ["Ingest", "IngestStats", "Options", "ingest", "ingest_frames"]


@dataclass(frozen=True)
class Options:
    """What an ingest counts and how it reports.

    ``prefixes``: count only packets to these darknet prefixes (CIDR; empty = all).
    ``research_prefixes``: sources known to be research scanners. ``top_ports``: ports kept per
    source (the most-hit ones). ``batch``: packets decoded at once (memory vs. overhead).
    ``skip_ns``: packet-time ranges ``(first, last)`` in ns, inclusive, that the sensor's
    stored captures already cover; packets inside are counted as ``already_stored`` and
    skipped (captures of one sensor are cut from one stream, so they are counted already).
    """

    sensor: str = "telescope"
    prefixes: tuple[str, ...] = ()
    research_prefixes: tuple[str, ...] = ()
    top_ports: int = 20
    batch: int = 1 << 19
    skip_ns: tuple[tuple[int, int], ...] = ()

    def networks(self, which: tuple[str, ...]) -> tuple[Prefix, ...]:
        try:
            return tuple(Prefix(ipaddress.ip_network(c, strict=False)) for c in which)
        except ValueError as exc:
            raise ConfigError("bad CIDR prefix", reason=str(exc)) from exc


@dataclass(frozen=True)
class IngestStats:
    """Counts of one ingest; every packet read is in exactly one of ``counted``, ``not_ip``,
    ``malformed``, ``outside_prefix`` or ``already_stored``; ``capture_errors`` are broken
    capture records. ``first_ns``/``last_ns``: the capture's packet-time range (every record
    read), None when it has none."""

    frames: int = 0
    counted: int = 0
    not_ip: int = 0
    malformed: int = 0
    outside_prefix: int = 0
    capture_errors: int = 0
    sources: int = 0
    already_stored: int = 0
    first_ns: int | None = None
    last_ns: int | None = None

    def add(self, frames: Frames, rows: Decoded, stored: int) -> IngestStats:
        """These counts plus one batch's (``stored``: its rows inside ``skip_ns``)."""
        first, last = self.first_ns, self.last_ns
        if len(frames):
            lo, hi = int(frames.ts_ns.min()), int(frames.ts_ns.max())
            first = lo if first is None else min(first, lo)
            last = hi if last is None else max(last, hi)
        return IngestStats(
            self.frames + len(frames),
            self.counted + rows.src.shape[0] - stored,
            self.not_ip + rows.not_ip,
            self.malformed + rows.malformed,
            self.outside_prefix + rows.outside,
            self.capture_errors + frames.errors,
            self.sources,
            self.already_stored + stored,
            first,
            last,
        )


@dataclass(frozen=True)
class Ingest:
    sightings: list[Sighting]
    stats: IngestStats


def ingest(path: str | os.PathLike[str], options: Options | None = None) -> Ingest:
    """Read a pcap/pcapng file and summarise it per source (see :func:`ingest_frames`)."""
    opts = options or Options()
    return ingest_frames(iter_frames(path, batch=opts.batch), opts)


def ingest_frames(batches: Iterable[Frames], options: Options | None = None) -> Ingest:
    """Decode, reduce and classify batches of frames; bad packets are counted, never raised."""
    opts = options or Options()
    prefixes = opts.networks(opts.prefixes)
    research = opts.networks(opts.research_prefixes)
    registry = V6Registry()
    stats = IngestStats()
    families: tuple[list[Partial], list[Partial]] = ([], [])  # IPv4, IPv6
    for frames in batches:
        rows = decode(frames, registry, prefixes)
        fresh = outside_ranges(rows.ts_ns, opts.skip_ns)
        stats = stats.add(frames, rows, int(rows.src.shape[0] - fresh.sum()))
        for parts, family in zip(families, rows.by_family(), strict=True):
            sel = family & fresh
            if sel.any():
                parts.append(reduce_rows(*rows.local(sel)))
    sightings: list[Sighting] = []
    for base, parts in zip((0, V6_BASE), families, strict=True):
        if parts:
            sightings += _sightings(merge(parts), base, registry, research, opts)
    return Ingest(sightings, IngestStats(**{**stats.__dict__, "sources": len(sightings)}))


def outside_ranges(ts_ns: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Mask of the times outside every inclusive ``(first, last)`` range."""
    keep = np.ones(ts_ns.shape[0], dtype=bool)
    for first, last in ranges:
        keep &= (ts_ns < first) | (ts_ns > last)
    return keep


def _addresses(
    keys: np.ndarray, registry: V6Registry
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.IPv4Address(k) if k < V6_BASE else registry.address(k) for k in keys.tolist()]


def _known(
    keys: np.ndarray,
    addrs: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
    research: tuple[Prefix, ...],
) -> np.ndarray:
    if not research:
        return np.zeros(keys.shape[0], dtype=bool)
    v4 = keys < V6_BASE
    known = np.logical_or.reduce([p.contains_v4(keys) for p in research]) & v4
    for i in np.flatnonzero(~v4).tolist():
        known[i] = any(addrs[i] in p.network for p in research)
    return known


def _port_maps(part: Partial, n: int) -> list[dict[int, int]]:
    maps: list[dict[int, int]] = [{} for _ in range(part.src.shape[0])]
    idx, port, count = top_ports(part, n)
    for i, p, c in zip(idx.tolist(), port.tolist(), count.tolist(), strict=True):
        maps[i][p] = c
    return maps


def _datetimes(ts_ns: np.ndarray) -> list[datetime]:
    """Aware UTC datetimes (microseconds) of nanosecond stamps; the one int64 value numpy
    reads as "not a time" (a corrupt pcapng stamp can produce it) is moved off it."""
    safe = np.maximum(ts_ns, np.iinfo(np.int64).min + 1)
    naive = safe.astype("datetime64[ns]").astype("datetime64[us]").tolist()
    return [t.replace(tzinfo=UTC) for t in naive]


def _sightings(
    part: Partial, base: int, registry: V6Registry, research: tuple[Prefix, ...], opts: Options
) -> list[Sighting]:
    keys = part.src.astype(np.int64) + base
    addrs = _addresses(keys, registry)
    cols = columns(part.packets, part.traits, _known(keys, addrs, research))
    kinds = classify(cols).tolist()
    share = mirai_share(cols).tolist()
    first, last = _datetimes(part.first), _datetimes(part.last)
    ports = _port_maps(part, opts.top_ports)
    return [
        Sighting(
            src=addrs[i],
            first_seen=first[i],
            last_seen=last[i],
            packets=n,
            targets=t,
            ports=ports[i],
            mirai_fingerprint=share[i],
            classification=kinds[i],
            sensor=opts.sensor,
        )
        for i, (n, t) in enumerate(zip(part.packets.tolist(), targets(part).tolist(), strict=True))
    ]
