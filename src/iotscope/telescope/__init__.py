"""The telescope: darknet captures (pcap, pcapng) to per-source sightings, vectorised.

``ingest(path, Options(...))`` returns :class:`Ingest` (``sightings`` and ``stats``): for each
source its packets, distinct targets, top destination ports, share of Mirai-fingerprinted SYNs
(``seq == dst``) and a classification (mirai, iot, research, backscatter, other; the rules are
the data table ``RULES``). Sightings of ``mirai``/``iot`` sources are the infected hosts that
C2 detection starts from (``Store.infected_ips``).
"""

from __future__ import annotations

from iotscope.telescope._classify import RULES, Rule
from iotscope.telescope._decode import IOT_PORTS
from iotscope.telescope._ingest import Ingest, IngestStats, Options, ingest, ingest_frames

__all__ = [
    "IOT_PORTS",
    "RULES",
    "Ingest",
    "IngestStats",
    "Options",
    "Rule",
    "ingest",
    "ingest_frames",
]
