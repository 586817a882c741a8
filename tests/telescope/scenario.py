"""A small synthetic darknet capture with its ground truth, built with iotscope.pcap.

Darknet: 203.0.113.0/24 (documentation range). Sources: 192.0.2.0/24 and 2001:db8::/32.
Every count the tests check is derived from the packets generated here.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from iotscope.pcap import PcapWriter, ethernet, ipv4_icmp, ipv4_tcp, ipv4_udp

DARKNET = "203.0.113.0/24"
OUTSIDE = "198.51.100.0/24"
T0 = 1_790_000_000 * 10**9
SYN, SYNACK, RST, ACK = 0x02, 0x12, 0x04, 0x10


@dataclass
class Truth:
    kind: dict[str, str] = field(default_factory=dict)
    packets: Counter[str] = field(default_factory=Counter)
    targets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ports: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    syn: Counter[str] = field(default_factory=Counter)
    mirai: Counter[str] = field(default_factory=Counter)
    not_ip: int = 0
    malformed: int = 0
    outside: int = 0


class Scenario:
    """Collects (time, frame) pairs and the truth; ``write`` makes the pcap."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.frames: list[tuple[int, bytes]] = []
        self.truth = Truth()

    def _dark(self) -> str:
        return str(ipaddress.IPv4Network(DARKNET)[self.rng.randrange(256)])

    def _add(
        self, src: str, dst: str, frame: bytes, port: int | None, syn: bool, mirai: bool
    ) -> None:
        self.frames.append((T0 + self.rng.randrange(3600 * 10**9), frame))
        t = self.truth
        t.packets[src] += 1
        t.targets[src].add(dst)
        if port is not None:
            t.ports[src][port] += 1
        t.syn[src] += syn
        t.mirai[src] += mirai

    def tcp(
        self,
        src: str,
        dst: str,
        dport: int,
        *,
        flags: int = SYN,
        seq: int | None = None,
        ip_id: int = 0,
        options: bytes = b"",
        sport: int | None = None,
    ) -> None:
        seq = self.rng.getrandbits(32) if seq is None else seq
        pkt = ipv4_tcp(
            src,
            dst,
            sport or self.rng.randrange(1024, 65536),
            dport,
            seq=seq,
            flags=flags,
            ip_id=ip_id,
            options=options,
        )
        is_syn = flags == SYN
        mirai = is_syn and seq == int(ipaddress.IPv4Address(dst))
        reply = flags & SYNACK == SYNACK or flags & RST
        self._add(src, dst, ethernet(pkt), sport if reply else dport, is_syn, mirai)

    def mirai_bot(self, src: str, probes: int) -> None:
        self.truth.kind[src] = "mirai"
        for i in range(probes):
            dst = self._dark()
            self.tcp(src, dst, 2323 if i % 10 == 9 else 23, seq=int(ipaddress.IPv4Address(dst)))

    def iot_scanner(self, src: str, probes: int) -> None:
        self.truth.kind[src] = "iot"
        for _ in range(probes):
            self.tcp(
                src,
                self._dark(),
                self.rng.choice([23, 2323, 7547, 37215, 52869, 5555]),
                options=b"\x02\x04\x05\xb4",
            )

    def zmap(self, src: str, probes: int) -> None:
        self.truth.kind[src] = "research"
        for _ in range(probes):
            self.tcp(src, self._dark(), self.rng.choice([80, 443, 22, 8080, 3389]), ip_id=54321)

    def masscan(self, src: str, probes: int) -> None:
        self.truth.kind[src] = "research"
        for _ in range(probes):
            dst, port, seq = self._dark(), self.rng.randrange(1, 65536), self.rng.getrandbits(32)
            ip_id = (int(ipaddress.IPv4Address(dst)) ^ port ^ seq) & 0xFFFF
            self.tcp(src, dst, port, seq=seq, ip_id=ip_id)

    def backscatter_tcp(self, src: str, flags: int, replies: int) -> None:
        self.truth.kind[src] = "backscatter"
        for _ in range(replies):
            self.tcp(src, self._dark(), self.rng.randrange(1024, 65536), flags=flags, sport=80)

    def backscatter_icmp(self, src: str, icmp_type: int, replies: int) -> None:
        self.truth.kind[src] = "backscatter"
        for _ in range(replies):
            dst = self._dark()
            inner = ipv4_udp(dst, src, 53000, 53, b"q")[:28] if icmp_type == 3 else b"ping"
            code = 3 if icmp_type == 3 else 0
            self._add(
                src,
                dst,
                ethernet(ipv4_icmp(src, dst, icmp_type, code, payload=inner)),
                None,
                False,
                False,
            )

    def udp_noise(self, src: str, count: int) -> None:
        self.truth.kind[src] = "other"
        for _ in range(count):
            dst, port = self._dark(), self.rng.choice([53, 123, 1900, 5060])
            self._add(
                src, dst, ethernet(ipv4_udp(src, dst, 40000, port, b"x" * 12)), port, False, False
            )

    def ipv6_scanner(self, src: str, probes: int) -> None:
        self.truth.kind[src] = "iot"
        for i in range(probes):
            dst = f"2001:db8:dead::{i % 50 + 1:x}"
            port = 23 if i % 2 else 2323
            tcp = struct.pack("!HHIIBBHHH", 40000, port, 7, 0, 5 << 4, SYN, 1024, 0, 0)
            head = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64)
            pkt = head + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + tcp
            self._add(src, dst, ethernet(pkt, 0x86DD), port, True, False)

    def junk(self) -> None:
        """Frames that are not IP, malformed IP, and packets to outside the darknet."""
        arp = ethernet(bytes(28), 0x0806)
        bad_ihl = bytearray(ipv4_tcp("192.0.2.99", "203.0.113.5", 1, 23))
        bad_ihl[0] = 0x43
        cut_tcp = ipv4_tcp("192.0.2.98", "203.0.113.6", 1, 23)[:30]
        for frame in (arp, arp):
            self.frames.append((T0, frame))
            self.truth.not_ip += 1
        for frame in (ethernet(bytes(bad_ihl)), ethernet(cut_tcp), ethernet(b"\x45\x00")):
            self.frames.append((T0, frame))
            self.truth.malformed += 1
        for i in range(7):
            pkt = ipv4_tcp("192.0.2.50", f"198.51.100.{i + 1}", 1, 23)
            self.frames.append((T0, ethernet(pkt)))
            self.truth.outside += 1

    def write(self, path: Path) -> Path:
        self.frames.sort(key=lambda f: f[0])
        with PcapWriter(path) as out:
            for ts, frame in self.frames:
                out.write(ts, frame)
        return path


def standard(seed: int = 1) -> Scenario:
    """The mix the telescope tests use: every class, IPv6, junk."""
    sc = Scenario(seed)
    for i in range(1, 6):
        sc.mirai_bot(f"192.0.2.{i}", 40 + 10 * i)
    for i in range(11, 14):
        sc.iot_scanner(f"192.0.2.{i}", 30)
    sc.zmap("192.0.2.21", 60)
    sc.masscan("192.0.2.22", 60)
    sc.backscatter_tcp("192.0.2.31", SYNACK, 25)
    sc.backscatter_tcp("192.0.2.32", RST | ACK, 25)
    sc.backscatter_icmp("192.0.2.33", 3, 20)
    sc.backscatter_icmp("192.0.2.34", 0, 20)
    sc.udp_noise("192.0.2.41", 30)
    sc.ipv6_scanner("2001:db8:beef::1", 40)
    sc.junk()
    return sc
