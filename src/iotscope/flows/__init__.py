"""Flows: NetFlow v5/v9, IPFIX, Zeek conn.log and nfdump CSV into Parquet per site and day.

Public face of the part. Decoders are pure (bytes in, a columnar FLOW_SCHEMA table out) with
exporter state held in an explicit object; sockets and files sit at the edges (collector,
ingest). Raw flows never leave the site's Parquet: only C2 candidates do.
"""

from iotscope.flows._encode import encode_ipfix, encode_netflow_v9
from iotscope.flows._parquet import flows_root, read_flows, write_parquet
from iotscope.flows._schema import FLOW_SCHEMA, empty_flows, flows_table

__all__ = [
    "FLOW_SCHEMA",
    "empty_flows",
    "encode_ipfix",
    "encode_netflow_v9",
    "flows_root",
    "flows_table",
    "read_flows",
    "write_parquet",
]
