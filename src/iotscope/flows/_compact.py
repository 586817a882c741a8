"""Compaction of a time bucket's small parts into one file, safe against a kill at any step.

A bucket ``B`` (``HHMM``, the start of its slice of the day) of one site and day holds the
collector's parts ``part-c<B>-<run>-<seq>.parquet`` and at most one compacted file
``bucket-<B>.parquet``. ``compact_bucket`` merges them all, streaming (memory holds one
output row group), in these steps:

1. recover: delete every part named in ``bucket-<B>.parquet``'s ``iotscope.sources`` metadata
   (a previous compaction renamed its output into place but was killed before unlinking them);
2. write the merge to a hidden ``.compact-<pid>-<B>.tmp``, its metadata naming the parts it
   holds, and fsync it;
3. rename it over ``bucket-<B>.parquet`` (atomic: the old compacted file, one of the inputs, is
   replaced by its superset) and fsync the directory;
4. unlink the parts.

Killed before 3, the temporary file is garbage (swept later) and the parts are intact; killed
after 3, step 1 of the next run deletes the parts already inside. Nothing is lost, and once the
next compaction (or ``iotscope flows compact``) has run, nothing is counted twice. Compactions of
one site are serialised by an exclusive ``flock`` on ``site=<S>/.compact.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from iotscope.flows._parquet import COMPRESSION
from iotscope.flows._schema import FLOW_SCHEMA

__all__ = ["Compaction", "bucket_files", "compact_bucket", "compact_site"]

SOURCES_KEY = b"iotscope.sources"
ROW_GROUP = 256_000
_PART = re.compile(r"^part-c(\d{4})-[A-Za-z0-9._-]+\.parquet$")
_BUCKET = re.compile(r"^bucket-(\d{4})\.parquet$")

# Called with the name of each step as it completes (tests kill the process there).
StepHook = Callable[[str], None]


@dataclass
class Compaction:
    """What one compaction pass did."""

    buckets: int = 0
    merged_parts: int = 0
    recovered_parts: int = 0
    rows: int = 0


@contextlib.contextmanager
def _site_lock(site_dir: Path) -> Iterator[None]:
    site_dir.mkdir(parents=True, exist_ok=True)
    with (site_dir / ".compact.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def bucket_files(folder: Path) -> dict[str, tuple[list[Path], Path | None]]:
    """Per bucket of a day directory: its collector parts and its compacted file (or None)."""
    out: dict[str, tuple[list[Path], Path | None]] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            part, done = _PART.match(entry.name), _BUCKET.match(entry.name)
            if part:
                out.setdefault(part.group(1), ([], None))[0].append(Path(entry.path))
            elif done:
                parts = out.get(done.group(1), ([], None))[0]
                out[done.group(1)] = (parts, Path(entry.path))
    return out


def _sources(target: Path) -> list[str]:
    try:
        meta = pq.read_schema(target).metadata or {}
        return list(json.loads(meta.get(SOURCES_KEY, b"[]")))
    except (OSError, ValueError, pa.ArrowException):
        return []


def _recover(folder: Path, target: Path) -> int:
    n = 0
    for name in _sources(target):
        if _PART.match(name):
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
                n += 1
    return n


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _merge(inputs: list[Path], tmp: Path, names: list[str]) -> int:
    schema = FLOW_SCHEMA.with_metadata({SOURCES_KEY: json.dumps(names).encode()})
    rows, pending, buffered = 0, [], 0
    with pq.ParquetWriter(tmp, schema, compression=COMPRESSION) as writer:
        for path in inputs:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP):
                pending.append(batch)
                buffered += batch.num_rows
                if buffered >= ROW_GROUP:
                    writer.write_table(_cast(pending))
                    rows, pending, buffered = rows + buffered, [], 0
        if pending:
            writer.write_table(_cast(pending))
            rows += buffered
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    return rows


def _cast(batches: list[pa.RecordBatch]) -> pa.Table:
    return pa.Table.from_batches(batches).select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)


def compact_bucket(folder: Path, bucket: str, step: StepHook | None = None) -> Compaction:
    """Merge bucket ``bucket`` of the day directory ``folder`` into ``bucket-<bucket>.parquet``."""
    result = Compaction()
    with _site_lock(folder.parent):
        parts, target = bucket_files(folder).get(bucket, ([], None))
        if target is not None:
            result.recovered_parts = _recover(folder, target)
            parts = [p for p in parts if p.exists()]
        if not parts:
            return result
        final = folder / f"bucket-{bucket}.parquet"
        tmp = folder / f".compact-{os.getpid()}-{bucket}.tmp"
        inputs = [*([target] if target is not None else []), *parts]
        result.rows = _merge(inputs, tmp, [p.name for p in parts])
        _step(step, "written")
        os.replace(tmp, final)
        _fsync_dir(folder)
        _step(step, "renamed")
        for i, part in enumerate(parts):
            part.unlink()
            _step(step, f"unlinked-{i}")
        result.buckets, result.merged_parts = 1, len(parts)
    return result


def _step(hook: StepHook | None, name: str) -> None:
    if hook is not None:
        hook(name)


def compact_site(
    root: Path, site: str, *, keep: Callable[[str, str], bool] | None = None
) -> Compaction:
    """Compact every bucket of ``site`` that has collector parts, except those ``keep(day,
    bucket)`` says are still open; also recovers half-done compactions."""
    total = Compaction()
    for folder in sorted((root / f"site={site}").glob("day=*")):
        day = folder.name.removeprefix("day=")
        for bucket, (parts, _) in bucket_files(folder).items():
            if not parts or (keep is not None and keep(day, bucket)):
                continue
            done = compact_bucket(folder, bucket)
            total.buckets += done.buckets
            total.merged_parts += done.merged_parts
            total.recovered_parts += done.recovered_parts
            total.rows += done.rows
    return total
