"""Lab traffic: a darknet capture and per-ISP flows with ground truth (``iotscope lab traffic``).

:func:`generate` writes, deterministically per seed and variant::

    DIR/darknet.pcap                 what the telescope prefix receives
    DIR/sites/<site>/conn.log        Zeek conn.log of the site's connections
    DIR/sites/<site>/netflow.pcap    the same flows as NetFlow v9 or IPFIX export packets
    DIR/truth.json                   c2, infected, victims, scanners (ARCHITECTURE.md),
                                     benign look-alike endpoints, variant

The sites are the ISPs of the lab world (:func:`iotscope.lab.build_world`) when it is present,
else three default ISPs; their lab devices are preferred as IoT bots. Everything is built with
numpy (no Python object per flow or packet).

Variants (:data:`VARIANTS`, name -> :class:`Variant`) choose the botnet lineages and the benign
look-alike families (cloud pollers with daily windows and jitter, hubs, power-cycling devices,
rotating CDNs, firmware checks, NTP/DNS on odd ports, NAT gateways) with their parameters.
``default`` is the original world, byte for byte. **Detection is tuned only on the variants
with** ``held_out=False``; the held-out ones (``held_out=True``, different ports, periods,
jitter, windows, rotation intervals, NAT sizes and mixes) are for reporting, never for tuning.
The benchmark's entry point is ``generate(out, seed=..., variant=NAME, ...)``; a variant can
also be read from a TOML file (:func:`load_variant`, ``lab traffic --scenario FILE.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from iotscope.lab.traffic._darknet import write_darknet
from iotscope.lab.traffic._flowgen import site_connections
from iotscope.lab.traffic._netflow import EXPORTER, write_netflow_pcap
from iotscope.lab.traffic._scenario import EPOCH, Scenario, build_scenario
from iotscope.lab.traffic._scenario_file import load_variant
from iotscope.lab.traffic._truth import site_truth, write_truth
from iotscope.lab.traffic._variants import VARIANTS, Variant, get_variant
from iotscope.lab.traffic._zeek import flow_table, write_conn_log
from iotscope.records import Isp

__all__ = [
    "EPOCH",
    "VARIANTS",
    "Scenario",
    "TrafficSummary",
    "Variant",
    "build_scenario",
    "generate",
    "get_variant",
    "load_variant",
    "scenario_for",
    "site_flows",
]


@dataclass
class TrafficSummary:
    """What :func:`generate` wrote: counts per file, and the ground truth."""

    out: Path
    flows: dict[str, int] = field(default_factory=dict)
    export_packets: dict[str, int] = field(default_factory=dict)
    darknet_sources: int = 0
    truth: dict[str, Any] = field(default_factory=dict)


LAB_NETWORK = "127.77.0.0/16"  # the default of `iotscope lab up`


def _world_sites(
    seed: int, devices: int, network: str
) -> tuple[tuple[Isp, ...] | None, dict[str, tuple[int, ...]]]:
    """The lab world's ISPs and their devices (the same world `lab up` serves)."""
    from iotscope.lab import build_world

    manifest = build_world(devices, seed, network).manifest
    iot: dict[str, list[int]] = {}
    for d in manifest.devices:
        if d.isp is not None:
            iot.setdefault(d.isp, []).append(int(d.ip))
    return tuple(manifest.isps) or None, {k: tuple(v) for k, v in iot.items()}


def scenario_for(
    seed: int,
    days: float,
    scale: float,
    devices: int = 300,
    network: str = LAB_NETWORK,
    variant: str | Variant = "default",
) -> Scenario:
    """The scenario of ``variant`` over the lab world's ISPs (or the default ISPs)."""
    isps, iot = _world_sites(seed, devices, network)
    return build_scenario(seed, days, scale, isps, iot, variant)


def site_flows(sc: Scenario, site: str) -> pa.Table:
    """One site's flows as a FLOW_SCHEMA table (the originator direction of each connection)."""
    return flow_table(site_connections(sc, site), site, EXPORTER)


def generate(
    out: Path,
    seed: int = 7,
    days: float = 3.0,
    scale: float = 1.0,
    devices: int = 300,
    network: str = LAB_NETWORK,
    variant: str | Variant = "default",
) -> TrafficSummary:
    """Write the darknet capture, every site's conn.log and NetFlow pcap, and truth.json.

    The sites are the ISPs of the lab world ``build_world(devices, seed, network)``; the
    families come from ``variant`` (a name in :data:`VARIANTS`, or a :class:`Variant`).
    Same arguments, same bytes.
    """
    sc = scenario_for(seed, days, scale, devices, network, variant)
    out.mkdir(parents=True, exist_ok=True)
    summary = TrafficSummary(out)
    parts = []
    for i, site in enumerate(sc.sites):
        block = site_connections(sc, site.name)
        where = out / "sites" / site.name
        rng = np.random.default_rng([seed, i, 5])
        summary.flows[site.name] = write_conn_log(
            where / "conn.log", block, sc.subscribers[site.name], rng, sc.start_ms, sc.end_ms
        )
        version = "v9" if i % 2 == 0 else "ipfix"
        summary.export_packets[site.name] = write_netflow_pcap(
            where / "netflow.pcap", flow_table(block, site.name, EXPORTER), version, i + 1
        )
        parts.append(site_truth(sc, site.name, block))
    dark = write_darknet(out / "darknet.pcap", sc)
    summary.darknet_sources = len(dark)
    summary.truth = write_truth(out / "truth.json", sc, parts, dark)
    return summary
