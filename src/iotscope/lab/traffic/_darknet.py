"""The telescope's capture: what arrives at the dark prefix, built as packet columns.

Sources (DOMAIN.md, NICTER): Mirai-fingerprinted SYN scanners (``seq == daddr``, port 23 and
every tenth probe 2323, TTL 64, no options), other IoT scanners without the fingerprint,
research scanners (ZMap's IP ID 54321, or masscan's ``dst ^ dport ^ seq``), backscatter
(SYN-ACK and RST from DDoS victims answering spoofed floods) and a little noise. All TCP,
written with :func:`iotscope.pcap.write_ipv4_tcp_batch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from iotscope.lab.traffic._scenario import INTERNET, RESEARCH, TELESCOPE, Scenario
from iotscope.pcap import write_ipv4_tcp_batch

_IOT_PORTS = np.array([23, 2323, 80, 8080, 5555, 7547, 37215, 52869])
_RESEARCH_PORTS = np.array([22, 23, 80, 443, 445, 3389, 8080, 5060, 1883])
_DARK0 = int(TELESCOPE.network_address)
_DARK_N = TELESCOPE.num_addresses


@dataclass(frozen=True)
class DarkSource:
    """One source in the capture and its truth class (mirai, iot, research, backscatter, noise)."""

    ip: int
    kind: str


def _packets(rng: np.random.Generator, sc: Scenario, src: int, n: int) -> dict[str, np.ndarray]:
    return {
        "ts": rng.integers(sc.start_ms, sc.end_ms, n) * 1_000_000 + rng.integers(0, 1_000_000, n),
        "src": np.full(n, src, np.int64),
        "dst": _DARK0 + rng.integers(1, _DARK_N - 1, n),
        "sport": rng.integers(1024, 65535, n),
    }


def _scanner(rng: np.random.Generator, sc: Scenario, s: DarkSource) -> dict[str, np.ndarray]:
    n = int(rng.integers(40, 300) * max(1.0, sc.days / 3))
    p = _packets(rng, sc, s.ip, n)
    if s.kind == "mirai":
        p["dport"] = np.where(np.arange(n) % 10 == 9, 2323, 23)
        p["seq"], p["flags"], p["ttl"] = p["dst"], np.full(n, 0x02), np.full(n, 64)
    elif s.kind == "iot":
        p["dport"] = rng.choice(_IOT_PORTS, n)
        p["seq"], p["flags"] = rng.integers(0, 2**32, n), np.full(n, 0x02)
        p["ttl"] = rng.integers(40, 64, n)
    elif s.kind == "research":  # ZMap (IP ID 54321) or masscan (IP ID = dst ^ dport ^ seq)
        p["dport"] = rng.choice(_RESEARCH_PORTS, n)
        p["seq"], p["flags"], p["ttl"] = (
            rng.integers(0, 2**32, n),
            np.full(n, 0x02),
            np.full(n, 240),
        )
        masscan = s.ip % 2 == 1
        p["ip_id"] = (p["dst"] ^ p["dport"] ^ p["seq"]) & 0xFFFF if masscan else np.full(n, 54321)
    elif s.kind == "backscatter":
        p["sport"] = np.full(n, rng.choice([80, 443]))
        p["dport"] = rng.integers(1024, 65535, n)
        p["seq"], p["ttl"] = rng.integers(0, 2**32, n), np.full(n, 52)
        p["flags"] = np.where(rng.random(n) < 0.7, 0x12, 0x14)
    else:  # noise: a few stray packets
        p = _packets(rng, sc, s.ip, int(rng.integers(1, 4)))
        k = len(p["src"])
        p["dport"], p["seq"] = rng.integers(1, 65535, k), rng.integers(0, 2**32, k)
        p["flags"], p["ttl"] = rng.choice([0x10, 0x18, 0x04], k), np.full(k, 50)
    p.setdefault("ip_id", rng.integers(0, 65536, len(p["src"])))
    return {k: np.broadcast_to(v, (len(p["src"]),)) for k, v in p.items()}


def dark_sources(sc: Scenario, rng: np.random.Generator) -> list[DarkSource]:
    """Who shows up in the capture, with the class the ground truth gives them."""
    mirai_bots = {
        int(b)
        for (lin, _), bots in sc.bots.items()
        if sc.lineage(lin).family.scanner == "mirai"
        for b in bots
    }
    out = [DarkSource(int(b), "mirai" if int(b) in mirai_bots else "iot") for b in sc.darknet_bots]
    half = len(sc.external_scanners) // 2
    out += [
        DarkSource(int(b), "mirai" if i < half else "iot")
        for i, b in enumerate(sc.external_scanners)
    ]
    out += [DarkSource(int(h), "research") for h in list(RESEARCH.hosts())[:20]]
    out += [DarkSource(v, "backscatter") for v in sorted({a.victim for a in sc.attacks})]
    noise0 = int(INTERNET.network_address) + 60_000
    out += [DarkSource(noise0 + int(i), "noise") for i in rng.choice(4000, 40, replace=False)]
    return out


def write_darknet(path: Path, sc: Scenario) -> list[DarkSource]:
    """Write ``darknet.pcap`` (time-ordered); return its sources with their truth class."""
    rng = np.random.default_rng([sc.seed, 99])
    sources = dark_sources(sc, rng)
    parts = [_scanner(rng, sc, s) for s in sources]
    cols = {k: np.concatenate([p[k] for p in parts]).astype(np.int64) for k in parts[0]}
    order = np.argsort(cols["ts"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_ipv4_tcp_batch(
        path,
        cols["ts"],
        cols["src"],
        cols["dst"],
        cols["sport"],
        cols["dport"],
        cols["seq"],
        cols["flags"],
        cols["ttl"],
        rng.integers(1024, 65535, len(order)),
        ip_id=cols["ip_id"],
    )
    return sources
