"""Large flow files built by repeating one generated block (for the bounded-memory tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iotscope.flows import encode_ipfix, flows_table, ipv4_strings, proto_strings
from iotscope.pcap import PcapWriter, ethernet, ipv4_udp

T0 = 1_793_491_200_000  # 2026-11-01T00:00Z
ZEEK_HEADER = (
    "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\t"
    "id.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\t"
    "local_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\t"
    "tunnel_parents\n"
)
NFDUMP_HEADER = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,ra\n"


def _repeat(path: Path, head: bytes, block: bytes, size: int, tail: bytes = b"") -> int:
    """Write ``head``, then ``block`` until the file reaches ``size`` bytes; return repeats."""
    n = -(-(size - len(head)) // len(block))
    with path.open("wb") as fh:
        fh.write(head)
        for _ in range(n):
            fh.write(block)
        fh.write(tail)
    return n


def zeek_file(path: Path, size: int, rows: int = 20_000) -> int:
    """A conn.log of at least ``size`` bytes; returns its row count."""
    lines = "".join(
        f"{1793491200 + i % 86400}.250000\tC{i}\t192.0.2.{i % 250 + 1}\t{1024 + i % 60000}\t"
        f"203.0.113.{i % 7 + 1}\t23\ttcp\t-\t1.500000\t10\t20\tSF\t-\t-\t0\tShADadFf\t6\t330\t"
        f"5\t280\t(empty)\n"
        for i in range(rows)
    )
    return rows * _repeat(path, ZEEK_HEADER.encode(), lines.encode(), size)


def nfdump_file(path: Path, size: int, rows: int = 20_000) -> int:
    """An ``nfdump -o csv`` output of at least ``size`` bytes (and its Summary); row count."""
    lines = "".join(
        f"2026-11-01 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},2026-11-01 "
        f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},0.000,192.0.2.{i % 250 + 1},"
        f"203.0.113.{i % 7 + 1},{1024 + i % 60000},23,TCP,...AP.S.,0,0,6,330,0,0,127.0.0.1\n"
        for i in range(rows)
    )
    tail = b"Summary\nflows,bytes,packets\n1,2,3\n"
    return rows * _repeat(path, NFDUMP_HEADER.encode(), lines.encode(), size, tail)


def netflow_pcap(path: Path, size: int, flows: int = 48_000) -> int:
    """A capture of IPFIX export datagrams of at least ``size`` bytes; returns its flows.

    One block of messages is repeated (so its sequence numbers repeat: resets, not loss)."""
    rng = np.random.default_rng(3)
    start = T0 + np.sort(rng.integers(0, 3_600_000, flows))
    table = flows_table(
        start_ms=start,
        end_ms=start + 500,
        src=ipv4_strings(0xC0000200 + rng.integers(1, 250, flows)),
        dst=ipv4_strings(0xCB007100 + rng.integers(1, 250, flows)),
        sport=rng.integers(1024, 65536, flows),
        dport=np.full(flows, 23),
        proto=proto_strings(np.full(flows, 6)),
        packets=rng.integers(1, 100, flows),
        octets=rng.integers(40, 10_000, flows),
        tcp_flags=np.full(flows, 0x12),
        exporter="x",
        site="x",
    )
    packets = encode_ipfix(table, template_every=1)
    block = path.with_suffix(".block")
    with PcapWriter(block) as w:
        for ts, payload in packets:
            w.write(ts, ethernet(ipv4_udp("192.0.2.254", "192.0.2.1", 4739, 4739, payload)))
    raw = block.read_bytes()
    block.unlink()
    head, body = raw[:24], raw[24:]
    return flows * _repeat(path, head, body, size)
