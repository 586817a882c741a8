"""Run the detection SQL on DuckDB (in-process) or Spark SQL (PySpark, local mode or a cluster).

The only dialect shim lives here: each engine builds the ``flows`` view with epoch-millisecond
times (DuckDB ``epoch_ms``, Spark ``unix_millis``) and the flow-time window, and the known
hosts' views; the detection text itself (``_sql.py``) is shared verbatim.

Known hosts and known C2 endpoints become the ``known_hosts(ip, kind)`` and ``infected(ip)``
views of ``_views.py`` (weak logins are not infected unless the caller asks). With known C2
endpoints given, :func:`passes` runs the same text again with the endpoints each pass reported
added to them (``Params.contact_passes``), on both engines.

Input is either a Parquet root in the hive layout of :mod:`iotscope.flows`
(``root/site=<site>/day=<day>/*.parquet``; the files carry every FLOW_SCHEMA column) or an
in-memory FLOW_SCHEMA table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from iotscope.c2._sql import Params, detection_sql
from iotscope.c2._views import (
    INFECTED_KINDS,
    Endpoint,
    Known,
    c2_table,
    known_table,
    view_statements,
)
from iotscope.errors import ConfigError, IotscopeError
from iotscope.flows._parquet import spark_dataset

Row = dict[str, Any]
_COLUMNS = "site, src, dst, sport, dport, proto, packets, bytes, tcp_flags"


@dataclass(frozen=True)
class Window:
    """Which flows a run reads: one site or all, and a flow-time window [since, until)."""

    site: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> str:
        """A WHERE clause over ``site`` and ``start_ms`` (values are checked, not quoted in)."""
        conds = ["1 = 1"]
        if self.site is not None:
            if not self.site.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ConfigError("site must be [A-Za-z0-9._-]", site=self.site)
            conds.append(f"site = '{self.site}'")
        if self.since is not None:
            conds.append(f"start_ms >= {int(self.since.timestamp() * 1000)}")
        if self.until is not None:
            conds.append(f"start_ms < {int(self.until.timestamp() * 1000)}")
        return " AND ".join(conds)


def _parquet_files(root: Path, site: str | None) -> list[str]:
    """The dataset's glob (one site or all), as a one-path list; ConfigError when empty."""
    from iotscope.flows._parquet import dataset_glob, has_flows

    if not has_flows(root, site):
        raise ConfigError(
            "no flow Parquet found; run `iotscope flows ingest` first", root=str(root), site=site
        )
    return [dataset_glob(root, site)]


def parquet_source(
    root: Path,
    site: str | None,
    con: duckdb.DuckDBPyConnection | None = None,
    window: Window | None = None,
) -> str:
    """The flow dataset for a DuckDB query, by name.

    With ``con``: a temporary view over ``root/site=*/day=*/*.parquet`` with hive partitioning,
    filtered on the ``site`` and ``day`` partitions (of ``window`` when given), so no file name
    appears in any SQL text and DuckDB opens only the wanted site's and days' files. Without a
    connection (older callers): ``read_parquet`` over the dataset's glob.
    """
    if con is not None:
        from iotscope.flows._parquet import register_flows

        since, until = (window.since, window.until) if window else (None, None)
        return register_flows(con, root, site=site, since=since, until=until)
    glob = _parquet_files(root, site)[0].replace("'", "''")
    return f"read_parquet('{glob}', hive_partitioning = true)"


def passes(
    run: Callable[[list[Endpoint]], list[Row]], known_c2: Iterable[Endpoint], params: Params | None
) -> list[Row]:
    """``run`` with the known C2 endpoints, then, when any were given, again with the endpoints
    each pass reported added to them, up to ``Params.contact_passes`` more times or until a
    pass adds none. Seeded only from outside (a feed, a partner, an earlier run): a run's
    candidates alone never feed themselves. Each candidate keeps the row of the first pass
    that reported it (its evidence never counts its own clients as contacts of itself)."""
    known = set(known_c2)
    rows = run(sorted(known))
    out = {_key(r): r for r in rows}
    more = (params or Params()).contact_passes if known else 0
    for _ in range(more):
        new = {(str(r["ip"]), int(r["port"]), str(r["proto"])) for r in rows} - known
        if not new:
            break
        known |= new
        rows = run(sorted(known))
        for r in rows:
            out.setdefault(_key(r), r)
    return sorted(out.values(), key=lambda r: (r["site"], -r["score"], r["ip"], r["port"]))


def _key(row: Row) -> tuple[str, str, int, str]:
    return (str(row["site"]), str(row["ip"]), int(row["port"]), str(row["proto"]))


def run_duckdb(
    source: Path | pa.Table,
    infected: Iterable[Known],
    window: Window,
    params: Params | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    threads: int | None = None,
    infected_kinds: Collection[str] = INFECTED_KINDS,
    known_c2: Iterable[Endpoint] = (),
) -> list[Row]:
    """Candidates (dict rows, the SQL's columns) from DuckDB."""
    own = con is None
    con = con or duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        if isinstance(source, pa.Table):
            con.register("flow_input", source)
            base = "flow_input"
        else:
            base = parquet_source(source, window.site, con, window)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM (SELECT {_COLUMNS}, "
            f'epoch_ms(start) AS start_ms, epoch_ms("end") AS end_ms FROM {base}) '
            f"WHERE {window.where()}"
        )
        con.register("known_input", known_table(infected))
        sql = detection_sql(params)
        given = list(known_c2)

        def once(endpoints: list[Endpoint]) -> list[Row]:
            con.register("known_c2_input", c2_table(endpoints, given))
            for statement in view_statements(infected_kinds):
                con.execute(statement)
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        return passes(once, given, params)
    except duckdb.Error as exc:
        raise IotscopeError("DuckDB detection failed", reason=str(exc)[:300]) from exc
    finally:
        if own:
            con.close()


def spark_session(
    master: str = "local[2]", shuffle_partitions: int = 4, conf: Mapping[str, str] | None = None
) -> Any:
    """A SparkSession for the detection (local mode unless ``master`` names a cluster).

    Broadcast joins are off: the detection is a long chain of joins over CTEs, and adaptive
    execution builds their broadcast tables at once in the driver. With Spark's default 1 GiB
    driver heap that ran out of memory on a 180-flow test in CI; sort-merge joins spill to disk
    instead. ``conf`` adds or overrides settings (``spark.driver.memory``, for one).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("--engine spark needs pyspark (pip install 'iotscope[spark]')") from exc
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.autoBroadcastJoinThreshold": "-1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        **(conf or {}),
    }
    builder = SparkSession.builder.master(master).appName("iotscope-c2")
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_spark(
    source: Path | pa.Table,
    infected: Iterable[Known],
    window: Window,
    params: Params | None = None,
    spark: Any = None,
    infected_kinds: Collection[str] = INFECTED_KINDS,
    known_c2: Iterable[Endpoint] = (),
) -> list[Row]:
    """Candidates (dict rows, the SQL's columns) from Spark SQL, same text as DuckDB."""
    spark = spark or spark_session()
    if isinstance(source, pa.Table):
        df = spark.createDataFrame(source.to_pandas())
    else:
        df = spark_dataset(spark, source, site=window.site, since=window.since, until=window.until)
    df.createOrReplaceTempView("flow_input")
    spark.sql(
        f"CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM (SELECT {_COLUMNS}, "
        f"unix_millis(`start`) AS start_ms, unix_millis(`end`) AS end_ms FROM flow_input) "
        f"WHERE {window.where()}"
    )
    known = [tuple(r.values()) for r in known_table(infected).to_pylist()]
    spark.createDataFrame(known, "ip string, kind string").createOrReplaceTempView("known_input")
    sql = detection_sql(params)
    given = list(known_c2)

    def once(endpoints: list[Endpoint]) -> list[Row]:
        c2 = [tuple(r.values()) for r in c2_table(endpoints, given).to_pylist()]
        schema = "ip string, port int, proto string, outside int"
        spark.createDataFrame(c2, schema).createOrReplaceTempView("known_c2_input")
        for statement in view_statements(infected_kinds):
            spark.sql(statement)
        return [r.asDict() for r in spark.sql(sql).collect()]

    return passes(once, given, params)
