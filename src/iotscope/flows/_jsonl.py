"""Flows as JSON Lines (the CLI contract): ISO 8601 UTC times, lowercase proto names.

Each line is what ``iotscope.records.Flow(...).to_json()`` would give for the row (times with
millisecond precision), built column-wise: no record object per flow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc

from iotscope.flows._schema import FLOW_SCHEMA

__all__ = ["flow_lines", "write_flow_lines"]


def _iso(col: pa.ChunkedArray) -> list[str]:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (Arrow's %S carries the milliseconds of a ms timestamp)."""
    text = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ", locale="C")
    return list(text.to_pylist())


def flow_lines(table: pa.Table) -> Iterator[str]:
    """One JSON object (no newline) per flow, in the contract's field order."""
    t = table.select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)
    columns = {
        name: t[name].to_pylist() for name in FLOW_SCHEMA.names if name not in ("start", "end")
    }
    columns["start"], columns["end"] = _iso(t["start"]), _iso(t["end"])
    for i in range(t.num_rows):
        yield json.dumps({name: columns[name][i] for name in FLOW_SCHEMA.names})


def write_flow_lines(sink: IO[str], table: pa.Table) -> int:
    n = 0
    for line in flow_lines(table):
        sink.write(line)
        sink.write("\n")
        n += 1
    sink.flush()
    return n
