"""Flows at rest: Parquet files per site and day, queried with DuckDB.

Layout (hive partitioning)::

    <root>/site=<site>/day=<YYYY-MM-DD>/part-<source_key>.parquet

``day`` is the UTC day of the flow's ``start``. One source (an ingested file, a collector
batch) writes one part per site and day; writing the same ``source_key`` again replaces those
parts, so re-ingesting a file is idempotent. Raw flows stay here, inside the site: only C2
candidates ever leave it (ARCHITECTURE.md, Safety).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iotscope.config import Settings, settings
from iotscope.errors import ConfigError
from iotscope.flows._schema import FLOW_SCHEMA, empty_flows

__all__ = ["check_site", "flows_root", "read_flows", "write_parquet"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


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


def _write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def write_parquet(table: pa.Table, root: Path, *, source_key: str) -> list[Path]:
    """Write ``table`` (FLOW_SCHEMA) as one part per (site, UTC day of start); return paths.

    Each part is written to a temporary name and renamed, so a reader never sees half a file.
    """
    _safe(source_key, "source_key")
    t = table.select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)
    if t.num_rows == 0:
        return []
    days = pc.strftime(t["start"], format="%Y-%m-%d")
    keys = pc.binary_join_element_wise(t["site"], days, "/")
    uniques, codes = np.unique(keys.to_numpy(zero_copy_only=False), return_inverse=True)
    paths: list[Path] = []
    for code, key in enumerate(uniques.tolist()):
        site, day = key.rsplit("/", 1)
        path = root / f"site={_safe(site, 'site')}" / f"day={day}" / f"part-{source_key}.parquet"
        _write_atomic(t.filter(pa.array(codes == code)), path)
        paths.append(path)
    return paths


def read_flows(root: Path, site: str | None = None) -> pa.Table:
    """All flows under ``root`` (optionally one site) as a FLOW_SCHEMA table, via DuckDB."""
    pattern = root / (f"site={_safe(site, 'site')}" if site else "site=*") / "day=*" / "*.parquet"
    if not any(root.glob(str(pattern.relative_to(root)))):
        return empty_flows()
    cols = ", ".join(f'"{name}"' for name in FLOW_SCHEMA.names)
    query = f"SELECT {cols} FROM read_parquet(?, hive_partitioning = true) ORDER BY start, src"
    with duckdb.connect() as con:
        result = con.sql(query, params=[str(pattern)]).to_arrow_table()
    return result.cast(FLOW_SCHEMA)
