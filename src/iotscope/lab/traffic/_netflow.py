"""A site's flows as the NetFlow v9 (RFC 3954) or IPFIX (RFC 7011) export packets a router
would send, captured in a pcap as UDP datagrams to the collector at 127.0.0.1:2055."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from iotscope.flows import encode_ipfix, encode_netflow_v9
from iotscope.pcap import PcapWriter, ethernet, ipv4_udp

COLLECTOR = ("127.0.0.1", 2055)
EXPORTER = "127.0.0.1"


def write_netflow_pcap(path: Path, flows: pa.Table, version: str, source_id: int) -> int:
    """Write ``flows`` as ``version`` ("v9" or "ipfix") export packets; return packet count."""
    if version == "v9":
        packets = encode_netflow_v9(flows, source_id=source_id)
    else:
        packets = encode_ipfix(flows, observation_domain=source_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    sport = 40_000 + source_id
    with PcapWriter(path) as out:
        for ts_ns, payload in packets:
            udp = ipv4_udp(EXPORTER, COLLECTOR[0], sport, COLLECTOR[1], payload)
            out.write(ts_ns, ethernet(udp))
    return len(packets)
