"""A small capture of IoT-ish traffic (documentation addresses only) for the real-peer tests."""

from __future__ import annotations

from pathlib import Path

from iotscope.pcap import PcapWriter, ethernet, ipv4_icmp, ipv4_tcp, ipv4_udp

T0_NS = 1_700_000_000 * 10**9


def write_capture(path: Path, connections: int = 12) -> int:
    """TCP sessions to 23/2323/48101, DNS over UDP, pings; returns the packet count."""
    with PcapWriter(path) as w:
        for c in range(connections):
            t = T0_NS + c * 300_000_000
            bot, c2 = f"192.0.2.{10 + c}", f"203.0.113.{1 + c % 3}"
            sport, dport = 40000 + c, (23, 2323, 48101)[c % 3]
            w.write(t, ethernet(ipv4_tcp(bot, c2, sport, dport, flags=0x02)))
            w.write(t + 10**7, ethernet(ipv4_tcp(c2, bot, dport, sport, flags=0x12)))
            for k in range(c % 4 + 1):
                payload = b"\x00\x00\x00\x01" + bytes(k)
                w.write(
                    t + (k + 2) * 10**7,
                    ethernet(ipv4_tcp(bot, c2, sport, dport, flags=0x18, payload=payload)),
                )
            w.write(t + 9 * 10**7, ethernet(ipv4_tcp(bot, c2, sport, dport, flags=0x11)))
            w.write(
                t + 10 * 10**7,
                ethernet(ipv4_udp(bot, "198.51.100.53", 5000 + c, 53, b"q" * (20 + c))),
            )
            w.write(t + 11 * 10**7, ethernet(ipv4_icmp(bot, "198.51.100.1", 8, rest=c)))
        return w.count
