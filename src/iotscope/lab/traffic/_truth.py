"""Ground truth of the generated traffic (``truth.json``, ARCHITECTURE.md contract).

``c2``: one entry per C2 address and site whose bots contacted it (a migrating C2 appears
once per address); ``active_from``/``active_to`` bound the address's use by its lineage.
``infected``: bots per site. ``victims``: DDoS targets seen in a site's flows. ``scanners``:
the sources of the darknet capture with their class (noise is not listed). ``benign``: the
endpoints (ip, port, proto) of each benign family that a site's clients contacted: the standing
ones of every world (``vendor-cloud``, ``dns``, ``ntp``, ``web``) and the variant's look-alikes
(``day-poller``, ``rotating-cdn``, ``nat-gateway``...), so an evaluation can name the family of
each false positive; ``benign_ranges`` gives each benign family's address range (and the long
tail's, whose hosts are not listed one by one). ``variant`` and ``held_out`` say which world
this is.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from iotscope.lab.traffic._benign import family_base
from iotscope.lab.traffic._blocks import NET0, SF, TCP, Block
from iotscope.lab.traffic._darknet import DarkSource
from iotscope.lab.traffic._families import SLOT
from iotscope.lab.traffic._flowgen import (
    CLOUDS,
    LONG_TAIL,
    NTP_SERVERS,
    RESOLVERS,
    WEB_ENDPOINTS,
)
from iotscope.lab.traffic._scenario import Scenario


def _ip(value: int) -> str:
    return str(ipaddress.IPv4Address(int(value)))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _ranges(sc: Scenario) -> list[tuple[str, int, int]]:
    """(family, first address, address after the last) of every benign family."""
    fixed = [("vendor-cloud", NET0 + h, NET0 + h + 1) for h, *_ in CLOUDS]
    fixed += [("dns", NET0 + h, NET0 + h + 1) for h in RESOLVERS]
    fixed += [("ntp", NET0 + h, NET0 + h + 1) for h in NTP_SERVERS]
    fixed.append(("web", NET0 + WEB_ENDPOINTS[0], NET0 + WEB_ENDPOINTS[1]))
    return fixed + [
        (f.family, family_base(i), family_base(i) + SLOT) for i, f in enumerate(sc.benign)
    ]


def benign_ranges(sc: Scenario) -> list[dict[str, str]]:
    """Every benign family's address range, the long tail of rarely contacted hosts included
    (too many to list endpoint by endpoint): ``{family, first, last}``."""
    spans = [*_ranges(sc), ("long-tail", NET0 + LONG_TAIL[0], NET0 + LONG_TAIL[1])]
    return [{"family": f, "first": _ip(lo), "last": _ip(hi - 1)} for f, lo, hi in spans]


def benign_truth(sc: Scenario, site: str, block: Block) -> list[dict[str, Any]]:
    """The benign endpoints contacted at ``site``, one entry per (ip, port, proto), by family:
    those with a completed exchange (the bots' SYN scans sweep the Internet range and hit
    benign addresses on other ports too; those are not services)."""
    out = []
    for family, lo, hi in _ranges(sc):
        mine = (block["dst"] >= lo) & (block["dst"] < hi) & (block["state"] == SF)
        pairs = np.unique(
            np.stack([block["dst"][mine], block["dport"][mine], block["proto"][mine]], 1)
            .astype(np.int64)
            .reshape(-1, 3),
            axis=0,
        )
        out += [
            {"ip": _ip(d), "port": int(p), "proto": "tcp" if q == TCP else "udp",
             "family": family, "site": site}
            for d, p, q in pairs.tolist()
        ]  # fmt: skip
    return out


def site_truth(sc: Scenario, site: str, block: Block) -> dict[str, list[dict[str, Any]]]:
    """The C2s, bots and victims of one site, as its flows show them."""
    contacted = set(zip(block["dst"].tolist(), block["dport"].tolist(), strict=True))
    c2 = [
        {
            "ip": _ip(a.ip),
            "port": a.port,
            "proto": "tcp",
            "family": a.family,
            "lineage": a.lineage,
            "site": site,
            "active_from": _iso(a.start_ms),
            "active_to": _iso(a.end_ms),
        }
        for lin in sc.lineages
        if site in lin.sites
        for a in lin.addrs
        if (a.ip, a.port) in contacted
    ]
    bots = np.unique(
        np.concatenate([b for (_, s), b in sc.bots.items() if s == site] + [np.zeros(0, np.uint32)])
    )
    infected = [{"ip": _ip(b), "site": site} for b in bots]
    victims = [
        {"ip": _ip(v), "site": site}
        for v in sorted({a.victim for a in sc.attacks if a.site == site})
    ]
    return {
        "c2": c2,
        "infected": infected,
        "victims": victims,
        "benign": benign_truth(sc, site, block),
    }


def write_truth(
    path: Path,
    sc: Scenario,
    per_site: list[dict[str, list[dict[str, Any]]]],
    dark: list[DarkSource],
) -> dict[str, Any]:
    """Merge the per-site parts and the darknet sources into ``truth.json``."""
    truth: dict[str, Any] = {
        "variant": sc.variant,
        "held_out": sc.held_out,
        "seed": sc.seed,
        "days": sc.days,
        "scale": sc.scale,
        "start": _iso(sc.start_ms),
        "end": _iso(sc.end_ms),
        "sites": [s.name for s in sc.sites],
        "c2": [x for part in per_site for x in part["c2"]],
        "infected": [x for part in per_site for x in part["infected"]],
        "victims": [x for part in per_site for x in part["victims"]],
        "scanners": [{"src": _ip(s.ip), "kind": s.kind} for s in dark if s.kind != "noise"],
        "benign": [x for part in per_site for x in part["benign"]],
        "benign_ranges": benign_ranges(sc),
    }
    path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth
