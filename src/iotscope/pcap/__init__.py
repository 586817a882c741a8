"""Low-level packet captures for iotscope: read classic pcap and pcapng as columns, locate
IP layers, build and write packets. Never one Python object per packet on the hot paths.

Readers: :func:`read_frames` -> :class:`Frames`; :func:`iter_frames` (bounded batches);
:func:`ip_layer_offsets`; vectorised field gathers :func:`gather_rows`, :func:`be_int`,
:func:`be16`, :func:`be32`; :func:`udp_columns` / :func:`udp_payloads`.
Writers: :class:`PcapWriter`, :func:`write_ipv4_tcp_batch`, :func:`ipv4_tcp_batch`,
:func:`write_interleaved` (groups of equal-length rows, time-ordered), :func:`with_ethernet`.
Packet builders: :func:`ipv4_tcp`, :func:`ipv4_udp`, :func:`ipv4_icmp`, :func:`ethernet`.
"""

from __future__ import annotations

from iotscope.pcap._build import checksum, ethernet, ipv4_header, ipv4_icmp, ipv4_tcp, ipv4_udp
from iotscope.pcap._frames import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    SUPPORTED_LINKTYPES,
    Frames,
)
from iotscope.pcap._layers import (
    UdpColumns,
    UdpDatagram,
    be16,
    be32,
    be_int,
    gather_rows,
    ip_layer_offsets,
    udp_columns,
    udp_payloads,
)
from iotscope.pcap._read import iter_frames, read_frames
from iotscope.pcap._write import (
    PcapWriter,
    ipv4_tcp_batch,
    with_ethernet,
    write_interleaved,
    write_ipv4_tcp_batch,
)

__all__ = [
    "LINKTYPE_ETHERNET",
    "LINKTYPE_IPV4",
    "LINKTYPE_IPV6",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_LOOP",
    "LINKTYPE_NULL",
    "LINKTYPE_RAW",
    "SUPPORTED_LINKTYPES",
    "Frames",
    "PcapWriter",
    "UdpColumns",
    "UdpDatagram",
    "be16",
    "be32",
    "be_int",
    "checksum",
    "ethernet",
    "gather_rows",
    "ip_layer_offsets",
    "ipv4_header",
    "ipv4_icmp",
    "ipv4_tcp",
    "ipv4_tcp_batch",
    "ipv4_udp",
    "iter_frames",
    "read_frames",
    "udp_columns",
    "udp_payloads",
    "with_ethernet",
    "write_interleaved",
    "write_ipv4_tcp_batch",
]
