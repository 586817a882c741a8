"""Flows at rest: a Parquet dataset partitioned by site and day, queried with DuckDB.

Layout (hive partitioning)::

    <root>/site=<site>/day=<YYYY-MM-DD>/part-<source key>[-<n>].parquet   ingested files
    <root>/site=<site>/day=<YYYY-MM-DD>/part-c<HHMM>-<run>-<seq>.parquet  collector batches
    <root>/site=<site>/day=<YYYY-MM-DD>/bucket-<HHMM>.parquet             compacted buckets
    <root>/_state/<site>.json                                             exporter state

``day`` is the UTC day of the flow's ``start``; every file also carries the FLOW_SCHEMA
columns (``site`` included). Files are written to a hidden temporary name and renamed, so a
reader never sees half a file; readers take the glob ``site=*/day=*/*.parquet`` (names
starting with ``.`` or ``_`` are not data). Queries go through :func:`register_flows`, which
hands DuckDB the glob as a value (never pasted into SQL) with partition filters on site and
day. Raw flows stay here, inside the site: only C2 candidates ever leave it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iotscope.config import Settings, settings
from iotscope.errors import ConfigError
from iotscope.flows._schema import FLOW_SCHEMA, empty_flows

__all__ = [
    "check_site",
    "dataset_glob",
    "flows_root",
    "partitions",
    "read_flows",
    "register_flows",
    "spark_dataset",
    "write_atomic",
    "write_parquet",
]

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
COMPRESSION = "zstd"


def flows_root(config: Settings | None = None) -> Path:
    """Where the flows live: ``IOTSCOPE_HOME/flows``."""
    return (config or settings()).flows_dir


def _safe(value: str, what: str) -> str:
    if not value or _SAFE.sub("_", value) != value or value in {".", ".."}:
        raise ConfigError(f"{what} must be non-empty [A-Za-z0-9._-]", value=value)
    return value


def check_site(site: str) -> str:
    """A site name usable as a directory name, else ConfigError."""
    return _safe(site, "site")


def day_dir(root: Path, site: str, day: str) -> Path:
    return root / f"site={_safe(site, 'site')}" / f"day={day}"


def write_atomic(table: pa.Table, path: Path, metadata: dict[bytes, bytes] | None = None) -> None:
    """Write ``table`` to ``path`` through a hidden temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    pq.write_table(table, tmp, compression=COMPRESSION)
    os.replace(tmp, path)


def partitions(table: pa.Table) -> Iterator[tuple[str, str, pa.Table]]:
    """``(site, day, rows)`` per site and UTC day of ``start`` (FLOW_SCHEMA rows)."""
    t = table.select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)
    if t.num_rows == 0:
        return
    # format each distinct UTC day once, not every row (strftime per row was half the cost of
    # writing a collector batch)
    dates = pc.cast(t["start"], pa.date32()).combine_chunks().dictionary_encode()
    days = pc.take(pc.strftime(dates.dictionary, format="%Y-%m-%d"), dates.indices)
    keys = pc.binary_join_element_wise(t["site"], days, "/").combine_chunks().dictionary_encode()
    codes = keys.indices
    for code, key in sorted(enumerate(keys.dictionary.to_pylist()), key=lambda x: x[1]):
        site, day = key.rsplit("/", 1)
        rows = t if len(keys.dictionary) == 1 else t.filter(pc.equal(codes, code))
        yield _safe(site, "site"), day, rows


def write_parquet(table: pa.Table, root: Path, *, source_key: str) -> list[Path]:
    """Write ``table`` (FLOW_SCHEMA) as one part per (site, UTC day of start); return paths.

    Writing the same ``source_key`` again replaces those parts (idempotent).
    """
    _safe(source_key, "source_key")
    paths: list[Path] = []
    for site, day, rows in partitions(table):
        path = day_dir(root, site, day) / f"part-{source_key}.parquet"
        write_atomic(rows, path)
        paths.append(path)
    return paths


def dataset_glob(root: Path, site: str | None = None) -> str:
    """The glob of every data file of one site (or all sites) under ``root``."""
    part = f"site={_safe(site, 'site')}" if site else "site=*"
    return str(root / part / "day=*" / "*.parquet")


def has_flows(root: Path, site: str | None = None) -> bool:
    pattern = Path(dataset_glob(root, site)).relative_to(root)
    return any(root.glob(str(pattern)))


def _day(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d")


def register_flows(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    name: str = "flow_files",
    filename: bool = False,
) -> str:
    """Create (or replace) the temporary view ``name`` over the flow dataset; return ``name``.

    The view reads ``site=*/day=*/*.parquet`` with hive partitioning; ``site``, ``since`` and
    ``until`` become partition filters (``until`` is exclusive, compared on the day), so DuckDB
    opens only the files of the wanted site and days. Raises ConfigError when no file matches.
    """
    if not has_flows(root, site):
        raise ConfigError(
            "no flow Parquet found; run `iotscope flows ingest` first", root=str(root), site=site
        )
    rel = con.read_parquet(dataset_glob(root, site), hive_partitioning=True, filename=filename)
    conds = []
    if site is not None:
        conds.append(f"site = '{site}'")  # checked by dataset_glob: [A-Za-z0-9._-] only
    if since is not None:
        conds.append(f"day >= DATE '{_day(since)}'")
    if until is not None:
        conds.append(f"day <= DATE '{_day(until)}'")
    if conds:
        rel = rel.filter(" AND ".join(conds))
    rel.create_view(_safe(name, "view name"), replace=True)
    return name


def spark_dataset(
    spark: Any,
    root: Path,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """The flow dataset as a Spark DataFrame: the same glob, partitions discovered from
    ``root`` (``basePath``) and filtered on ``day`` like :func:`register_flows`."""
    if not has_flows(root, site):
        raise ConfigError(
            "no flow Parquet found; run `iotscope flows ingest` first", root=str(root), site=site
        )
    df = spark.read.option("basePath", str(root)).parquet(dataset_glob(root, site))
    if since is not None:
        df = df.where(f"day >= DATE '{_day(since)}'")
    if until is not None:
        df = df.where(f"day <= DATE '{_day(until)}'")
    return df


def read_flows(root: Path, site: str | None = None) -> pa.Table:
    """All flows under ``root`` (optionally one site) as a FLOW_SCHEMA table, via DuckDB."""
    if not has_flows(root, site):
        return empty_flows()
    cols = ", ".join(f'"{name}"' for name in FLOW_SCHEMA.names)
    with duckdb.connect() as con:
        view = register_flows(con, root, site=site)
        result = con.sql(f"SELECT {cols} FROM {view} ORDER BY start, src").to_arrow_table()
    return result.cast(FLOW_SCHEMA)
