"""Classifying darknet sources from their per-source trait counts: rules as data.

The rules are tried in order; the first that holds names the source (``other`` when none):

1. ``backscatter``: replies (TCP SYN-ACK or RST, ICMP echo reply / unreachable / time
   exceeded, ICMPv6 likewise) are at least half of its packets. Victims of spoofed-source
   DDoS answer addresses they never talked to, the darknet among them (Moore et al., "Inferring
   Internet Denial-of-Service Activity", USENIX Security 2001).
2. ``mirai``: at least half of its TCP SYNs carry ``seq == destination IPv4 address``
   (Mirai's SYN scanner; DOMAIN.md). A random sequence number matches with chance 2^-32.
3. ``research``: at least half of its packets carry ZMap's fixed IP ID 54321 (ZMap's probe
   modules), or at least half of its SYNs carry masscan's IP ID ``(dst ^ dport ^ seq) & 0xFFFF``
   (masscan ``templ-pkt.c``), or it lies in a configured research prefix (e.g. the published
   ranges of Censys or Shadowserver). Scanning many ports alone is not taken as research:
   malicious scanners do it too.
4. ``iot``: at least half of its TCP SYNs go to ports IoT malware scans (23, 2323, 80, 8080,
   8081, 5555, 7547, 37215, 52869) without the Mirai fingerprint: another IoT family or a
   variant that dropped it.

TTL is not used: Mirai sends with TTL 64, but the value seen depends on the path length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from iotscope.records import Classification
from iotscope.telescope._aggregate import TRAITS

__all__ = ["RULES", "Rule", "classify", "mirai_share"]

HALF = 0.5


@dataclass(frozen=True)
class Rule:
    """One class: ``test`` maps per-source columns to a boolean mask."""

    name: Classification
    why: str
    test: Callable[[dict[str, np.ndarray]], np.ndarray]


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    return np.divide(part, whole, out=np.zeros(part.shape[0]), where=whole > 0)


RULES: tuple[Rule, ...] = (
    Rule(
        "backscatter",
        "replies are >= half of its packets",
        lambda c: _share(c["reply"], c["packets"]) >= HALF,
    ),
    Rule(
        "mirai",
        "TCP SYN seq == destination in >= half of its SYNs",
        lambda c: _share(c["mirai"], c["syn"]) >= HALF,
    ),
    Rule(
        "research",
        "ZMap IP ID 54321, masscan IP ID, or a research prefix",
        lambda c: (
            (_share(c["zmap"], c["packets"]) >= HALF)
            | (_share(c["masscan"], c["syn"]) >= HALF)
            | c["known_research"]
        ),
    ),
    Rule(
        "iot",
        "SYNs to IoT ports are >= half of its SYNs",
        lambda c: _share(c["iot"], c["syn"]) >= HALF,
    ),
)


def columns(
    packets: np.ndarray, traits: np.ndarray, known_research: np.ndarray
) -> dict[str, np.ndarray]:
    cols = {name: traits[:, i] for i, name in enumerate(TRAITS)}
    cols.update(packets=packets, known_research=known_research)
    return cols


def mirai_share(cols: dict[str, np.ndarray]) -> np.ndarray:
    """Share (0..1) of each source's TCP SYNs with ``seq == dst``."""
    return _share(cols["mirai"], cols["syn"])


def classify(cols: dict[str, np.ndarray]) -> np.ndarray:
    """The class name of every source (an array of str)."""
    masks = [rule.test(cols) for rule in RULES]
    return np.select(masks, [rule.name for rule in RULES], default="other")
