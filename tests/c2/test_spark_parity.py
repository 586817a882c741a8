"""Parity: the same detection SQL on Spark (local mode) and DuckDB gives the same candidates.

One module, one SparkSession (startup takes 10-20 s), one Spark run over Parquet that holds a
hand-made site and one site of generated lab traffic (6 hours).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from iotscope.c2 import Window, candidate, run_duckdb, run_spark, spark_session
from iotscope.flows import write_parquet
from iotscope.lab.traffic import build_scenario, site_flows
from tests.c2.flowkit import MIN, SPARK_SMALL, T0, Kit, subscribers

pytestmark = pytest.mark.slow
pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]", shuffle_partitions=1, conf=SPARK_SMALL)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def flows_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("parity")
    kit = Kit(site="hand")
    bots = subscribers(4)
    for i, b in enumerate(bots):
        kit.beacon(b, "203.0.113.9", 23, T0, T0 + 90 * MIN, 60)
        kit.beacon(b, "203.0.113.10", 23, T0 + 90 * MIN + i * 15_000, T0 + 150 * MIN, 60)
    for i, b in enumerate(subscribers(3, "100.64.7.")):  # quiet bots changing C2 tiers
        old, new = ("203.0.113.40", "192.0.2.140")[i % 2], ("198.51.100.60", "203.0.113.61")[i % 2]
        kit.beacon(b, old, 443, T0, T0 + 75 * MIN, 150)
        kit.beacon(b, new, 443, T0 + 75 * MIN + i * 20_000, T0 + 150 * MIN, 150)
    for s in subscribers(30, "100.64.3."):
        kit.poisson(s, "198.18.1.1", 443, T0, T0 + 150 * MIN, 5)
    for s in subscribers(10, "100.64.4."):  # clean pollers: the base rate of bots
        kit.beacon(s, "198.18.2.2", 8883, T0, T0 + 150 * MIN, 300)
    # a bot reconnecting every few seconds, half failing, and a roles-reversed long session
    for k in range(600):
        ok = k % 2 == 0
        kit.add(T0 + k * 4000, bots[0], "203.0.113.20", 23, packets=3 if ok else 1,
                nbytes=176 if ok else 52, flags=0x1B if ok else 0x02)  # fmt: skip
    kit.add(T0 + 10 * MIN, "203.0.113.30", bots[1], 48123, sport=6667, dur_ms=120 * MIN)
    sc = build_scenario(4, 0.25, 0.3)
    lab = [site_flows(sc, sc.sites[0].name)]
    write_parquet(pa.concat_tables([kit.table(), *lab]), root, source_key="parity")
    return root, bots


def _key(row: dict[str, Any]) -> tuple[str, str, int]:
    return (row["site"], row["ip"], row["port"])


def test_spark_and_duckdb_agree(spark: Any, flows_dir: tuple[Path, list[str]]) -> None:
    root, bots = flows_dir
    duck_rows = run_duckdb(root, bots, Window())
    spark_rows = run_spark(root, bots, Window(), spark=spark)
    duck, sprk = {_key(r): r for r in duck_rows}, {_key(r): r for r in spark_rows}
    assert len(duck) >= 5 and set(duck) == set(sprk)
    assert ("hand", "203.0.113.10", 23) in duck
    assert duck[("hand", "198.51.100.60", 443)]["tier_clients"] == 2  # the tiered hand-over
    assert ("hand", "203.0.113.20", 23) in duck and ("hand", "203.0.113.30", 6667) in duck
    for key, row in duck.items():
        other = sprk[key]
        for col, value in row.items():
            if isinstance(value, float) or isinstance(other[col], float):
                assert other[col] == pytest.approx(value, rel=1e-9, abs=1e-9), (key, col)
            else:
                assert other[col] == value, (key, col)
    records = sorted((candidate(r) for r in spark_rows), key=lambda c: (c.site, str(c.ip)))
    assert records == sorted((candidate(r) for r in duck_rows), key=lambda c: (c.site, str(c.ip)))
