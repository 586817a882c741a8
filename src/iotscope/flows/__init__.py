"""Flows: NetFlow v5/v9, IPFIX, Zeek conn.log and nfdump CSV into Parquet per site and day.

Public face of the part. Decoders are pure (bytes in, a columnar FLOW_SCHEMA table out) with
exporter state held in an explicit object (``FlowDecoder`` with its ``TemplateCache`` and
``SequenceTracker``); sockets and files sit at the edges (``collect``, ``ingest_files``, which
streams files in bounded chunks). Flows land in the dataset
``IOTSCOPE_HOME/flows/site=<site>/day=<YYYY-MM-DD>/*.parquet`` (the collector's batches rolled
per time bucket and compacted; layout in :mod:`iotscope.flows._parquet`), queried through
``register_flows`` (DuckDB) or ``spark_dataset``, and stay there: raw flows never leave the site
that ingested them; only C2 candidates do. ``status`` reports what a site holds and what its
exporters lost.
"""

from iotscope.flows._collector import CollectorOptions, collect
from iotscope.flows._compact import compact_site
from iotscope.flows._decoder import DecodeCounts, FlowDecoder
from iotscope.flows._encode import encode_ipfix, encode_netflow_v9
from iotscope.flows._ingest import FORMATS, IngestReport, ingest_files
from iotscope.flows._jsonl import flow_lines
from iotscope.flows._nfdump import read_nfdump_csv
from iotscope.flows._parquet import (
    dataset_glob,
    flows_root,
    read_flows,
    register_flows,
    spark_dataset,
    write_parquet,
)
from iotscope.flows._schema import (
    FLOW_SCHEMA,
    empty_flows,
    flows_table,
    ipv4_strings,
    proto_strings,
)
from iotscope.flows._sequence import SequenceTracker
from iotscope.flows._status import ExporterStatus, status
from iotscope.flows._templates import TemplateCache
from iotscope.flows._text import BadLines
from iotscope.flows._zeek import read_zeek_conn

__all__ = [
    "FLOW_SCHEMA",
    "FORMATS",
    "BadLines",
    "CollectorOptions",
    "DecodeCounts",
    "ExporterStatus",
    "FlowDecoder",
    "IngestReport",
    "SequenceTracker",
    "TemplateCache",
    "collect",
    "compact_site",
    "dataset_glob",
    "empty_flows",
    "encode_ipfix",
    "encode_netflow_v9",
    "flow_lines",
    "flows_root",
    "flows_table",
    "ingest_files",
    "ipv4_strings",
    "proto_strings",
    "read_flows",
    "read_nfdump_csv",
    "read_zeek_conn",
    "register_flows",
    "spark_dataset",
    "status",
    "write_parquet",
]
