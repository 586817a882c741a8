"""The known hosts' views on Spark: the same kinds and counts as on DuckDB."""

from __future__ import annotations

import pytest

from iotscope.c2 import Params, Window, run_duckdb, run_spark, spark_session
from iotscope.flows import flows_root, write_parquet
from tests.c2.flowkit import MIN, SPARK_SMALL, T0, Kit, subscribers

pytestmark = pytest.mark.slow
pyspark = pytest.importorskip("pyspark")
C2 = "203.0.113.9"


def test_known_host_views_agree_on_spark_and_duckdb() -> None:
    kit = Kit()
    bots = subscribers(3)
    for b in bots:
        kit.beacon(b, C2, 6667, T0, T0 + 90 * MIN, 90)
    write_parquet(kit.table(), flows_root(), source_key="t")
    known = [(bots[0], "weak_login")]
    cases = [
        ({"infected_kinds": ("infected", "c2_contact")}, 0),
        ({"infected_kinds": ("infected", "weak_login")}, 1),
        ({"known_c2": [(C2, 6667, "tcp")]}, 0),  # a listing is no evidence for itself
    ]
    every = Params(threshold=0.0)  # the endpoint's row whatever its score: counts are compared
    spark = spark_session("local[1]", shuffle_partitions=1, conf=SPARK_SMALL)
    try:
        for kwargs, want in cases:
            duck = run_duckdb(flows_root(), known, Window(), every, **kwargs)  # type: ignore[arg-type]
            spk = run_spark(flows_root(), known, Window(), every, spark=spark, **kwargs)  # type: ignore[arg-type]
            assert [r["infected_clients"] for r in duck] == [want]
            assert [r["infected_clients"] for r in spk] == [want]
    finally:
        spark.stop()
