"""Parquet layout per site and day, idempotent re-ingest, DuckDB read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from iotscope.config import settings
from iotscope.errors import ConfigError
from iotscope.flows import FLOW_SCHEMA, flows_root, flows_table, read_flows, write_parquet

DAY = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def _flows(site: str, starts: list[int]) -> object:
    n = len(starts)
    return flows_table(
        start_ms=starts,
        end_ms=[s + 1000 for s in starts],
        src=["192.0.2.1"] * n,
        dst=[f"198.51.100.{i}" for i in range(n)],
        sport=[40000 + i for i in range(n)],
        dport=[23] * n,
        proto=["tcp"] * n,
        packets=[2] * n,
        octets=[120] * n,
        tcp_flags=[0x12] * n,
        exporter="192.0.2.254",
        site=site,
    )


def test_layout_is_site_then_utc_day_of_start(tmp_path: Path) -> None:
    table = _flows("isp-a", [DAY, DAY + 2 * 3600_000])  # second one is 2023-11-15 00:13 UTC
    paths = write_parquet(table, tmp_path, source_key="f1")
    rel = sorted(str(p.relative_to(tmp_path)) for p in paths)
    assert rel == [
        "site=isp-a/day=2023-11-14/part-f1.parquet",
        "site=isp-a/day=2023-11-15/part-f1.parquet",
    ]


def test_rewrite_of_same_source_is_idempotent(tmp_path: Path) -> None:
    table = _flows("isp-a", [DAY, DAY + 5, DAY + 9])
    write_parquet(table, tmp_path, source_key="f1")
    write_parquet(table, tmp_path, source_key="f1")
    assert read_flows(tmp_path).num_rows == 3
    write_parquet(table, tmp_path, source_key="f2")
    assert read_flows(tmp_path).num_rows == 6


def test_read_back_has_schema_and_filters_site(tmp_path: Path) -> None:
    write_parquet(_flows("isp-a", [DAY]), tmp_path, source_key="a")
    write_parquet(_flows("isp-b", [DAY, DAY + 1]), tmp_path, source_key="b")
    both = read_flows(tmp_path)
    assert both.schema == FLOW_SCHEMA
    assert both.num_rows == 3
    only_b = read_flows(tmp_path, site="isp-b")
    assert set(only_b["site"].to_pylist()) == {"isp-b"}
    assert only_b["dst"].to_pylist() == ["198.51.100.0", "198.51.100.1"]


def test_empty_root_reads_empty_table(tmp_path: Path) -> None:
    assert read_flows(tmp_path / "nothing").num_rows == 0
    assert write_parquet(_flows("isp-a", []), tmp_path, source_key="x") == []


@pytest.mark.parametrize("key", ["", "../x", "a/b"])
def test_unsafe_source_key_is_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError):
        write_parquet(_flows("isp-a", [DAY]), tmp_path, source_key=key)


def test_flows_root_is_under_home(iotscope_home: Path) -> None:
    assert flows_root() == iotscope_home / "flows"
    assert flows_root(settings()) == iotscope_home / "flows"


def test_partitions_cut_by_site_and_utc_day_at_midnight() -> None:
    import pyarrow as pa

    from iotscope.flows._parquet import partitions

    midnight = 1_793_491_200_000  # 2026-11-01T00:00Z
    edges = [-1, 0, midnight - 1, midnight, midnight + 86_399_999]
    table = pa.concat_tables([_flows("isp-b", edges), _flows("isp-a", edges[2:])])
    got = [(site, day, rows.num_rows) for site, day, rows in partitions(table)]
    assert got == [
        ("isp-a", "2026-10-31", 1),
        ("isp-a", "2026-11-01", 2),
        ("isp-b", "1969-12-31", 1),
        ("isp-b", "1970-01-01", 1),
        ("isp-b", "2026-10-31", 1),
        ("isp-b", "2026-11-01", 2),
    ]
