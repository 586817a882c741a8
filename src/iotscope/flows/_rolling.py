"""The collector's side of the dataset: batches rolled into time buckets, closed buckets compacted.

Each batch of flows is cut by site, UTC day and bucket of ``start`` (``bucket_minutes``, a
divisor of a day) and written as one small part per bucket, ``part-c<HHMM>-<run>-<seq>.parquet``
(visible to readers at once, through the usual rename). A bucket is closed when the collector's
flow-time watermark (the latest flow end seen) has passed the bucket's end by ``grace_s``, or
when no batch has touched it for ``idle_s`` seconds of wall time; closed buckets are compacted
into ``bucket-<HHMM>.parquet`` (:mod:`iotscope.flows._compact`). Late flows for a compacted
bucket make a new part, merged at the next pass. On stop every touched bucket is compacted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iotscope.errors import ConfigError
from iotscope.flows._compact import Compaction, compact_bucket
from iotscope.flows._parquet import day_dir, partitions, write_atomic

__all__ = ["BucketWriter", "RollOptions"]

DAY_MIN = 24 * 60


@dataclass(frozen=True)
class RollOptions:
    """Bucket size and when a bucket counts as closed."""

    bucket_minutes: int = 60
    grace_s: float = 600.0
    idle_s: float = 300.0

    def __post_init__(self) -> None:
        if not 1 <= self.bucket_minutes <= DAY_MIN or DAY_MIN % self.bucket_minutes:
            raise ConfigError("bucket minutes must divide a day", minutes=self.bucket_minutes)


BucketKey = tuple[str, str, str]  # site, day, HHMM


@dataclass
class BucketWriter:
    """Writes the collector's batches as bucket parts and compacts buckets once closed."""

    root: Path
    options: RollOptions = field(default_factory=RollOptions)
    run: str = field(default_factory=lambda: f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    watermark_ms: int = 0
    parts: int = 0
    compacted: Compaction = field(default_factory=Compaction)
    _touched: dict[BucketKey, float] = field(default_factory=dict)

    def write(self, table: pa.Table) -> list[Path]:
        """Write one batch (FLOW_SCHEMA) as one part per (site, day, bucket)."""
        if table.num_rows == 0:
            return []
        ends = pc.max(pc.cast(table["end"], pa.int64())).as_py()
        self.watermark_ms = max(self.watermark_ms, int(ends or 0))
        out = []
        size_ms = self.options.bucket_minutes * 60_000
        for site, day, rows in partitions(table):
            start = pc.cast(rows["start"], pa.int64()).to_numpy()
            slot = (start % 86_400_000) // size_ms
            for b in np.unique(slot).tolist():
                minute = b * self.options.bucket_minutes
                hhmm = f"{minute // 60:02d}{minute % 60:02d}"
                self.parts += 1
                path = (
                    day_dir(self.root, site, day)
                    / f"part-c{hhmm}-{self.run}-{self.parts:06d}.parquet"
                )
                write_atomic(rows.filter(pa.array(slot == b)), path)
                self._touched[(site, day, hhmm)] = time.monotonic()
                out.append(path)
        return out

    def _closed(self, key: BucketKey, touched: float, now: float) -> bool:
        _, day, hhmm = key
        start = (
            np.datetime64(day, "ms").astype(np.int64)
            + (int(hhmm[:2]) * 60 + int(hhmm[2:])) * 60_000
        )
        end = int(start) + self.options.bucket_minutes * 60_000
        return (
            self.watermark_ms >= end + self.options.grace_s * 1000
            or now - touched >= self.options.idle_s
        )

    def compact(self, *, final: bool = False) -> Compaction:
        """Compact the buckets that are closed (every touched bucket when ``final``)."""
        now = time.monotonic()
        due = [k for k, t in self._touched.items() if final or self._closed(k, t, now)]
        done = Compaction()
        for key in due:
            site, day, hhmm = key
            result = compact_bucket(day_dir(self.root, site, day), hhmm)
            del self._touched[key]
            for name in ("buckets", "merged_parts", "recovered_parts", "rows"):
                value = getattr(result, name)
                setattr(done, name, getattr(done, name) + value)
                setattr(self.compacted, name, getattr(self.compacted, name) + value)
        return done
