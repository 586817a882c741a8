"""C2 detection from flow data: relational queries over the flow table, scored with reasons.

The detection is one SQL text (:func:`detection_sql`) run on DuckDB over Parquet (default) or
on Spark SQL (:func:`detect` with ``engine="spark"``); :func:`evaluate` measures it against the
lab's ground truth. Only :class:`~iotscope.records.C2Candidate` records leave a site.
"""

from iotscope.c2._detect import (
    candidate,
    detect,
    infected_from_file,
    known_infected,
    reasons,
)
from iotscope.c2._engines import Window, run_duckdb, run_spark, spark_session
from iotscope.c2._evaluate import (
    Evaluation,
    evaluate,
    fp_by_family,
    load_truth,
    oracle_infected,
    truth_c2,
)
from iotscope.c2._sql import DEFAULT_THRESHOLD, EVIDENCE, Evidence, Params, detection_sql

__all__ = [
    "DEFAULT_THRESHOLD",
    "EVIDENCE",
    "Evaluation",
    "Evidence",
    "Params",
    "Window",
    "candidate",
    "detect",
    "detection_sql",
    "evaluate",
    "fp_by_family",
    "infected_from_file",
    "known_infected",
    "load_truth",
    "oracle_infected",
    "reasons",
    "run_duckdb",
    "run_spark",
    "spark_session",
    "truth_c2",
]
