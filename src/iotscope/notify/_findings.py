"""An ISP's new findings, read from the store, as :class:`DeviceFinding` records.

- ``weak_login``: a survey finding whose login accepted a list credential or needed none.
- ``vulnerable``: a survey finding with CVEs (and, once ``iotscope.vulns`` is in the store,
  every ``device_vulns`` row: firmware CVEs inferred or verified).
- ``infected``: the telescope saw the address scan like a bot (a sighting classed mirai/iot);
  the device is named from the survey's finding for that address, where there is one.

Which addresses are the ISP's: its prefixes (a lab manifest's or the registry's); helper B's
``iotscope.attribution.isp_of`` replaces the prefix list once it is in the store.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from iotscope.notify._model import Device, DeviceFinding
from iotscope.records import Finding, Sighting, utc
from iotscope.store import Store
from iotscope.store._hosts import INFECTED_CLASSES, WEAK_OUTCOMES

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def in_prefixes(prefixes: Sequence[str]) -> Iterable[Net]:
    return [ipaddress.ip_network(p, strict=False) for p in prefixes]


def _inside(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Iterable[Net]) -> bool:
    return any(ip in n for n in nets)


def device_of(f: Finding) -> Device:
    ident = f.identity
    if ident is None:
        return Device()
    return Device(
        vendor=ident.vendor,
        product=ident.product,
        model=ident.model,
        version=ident.version,
        device_type=ident.device_type,
    )


def from_finding(f: Finding) -> Iterator[DeviceFinding]:
    """The notice-worthy facts of one survey finding (none, one or both kinds)."""
    base = {
        "ip": f.ip,
        "port": f.port,
        "time": f.time,
        "service": f.service,
        "device": device_of(f),
    }
    if f.login.outcome in WEAK_OUTCOMES:
        yield DeviceFinding(**base, kind="weak_login", protocol=f.login.protocol)
    if f.cves:
        yield DeviceFinding(
            **base, kind="vulnerable", cves=tuple(sorted(f.cves)), evidence="inferred"
        )


def from_sighting(s: Sighting, devices: dict[str, Device]) -> DeviceFinding | None:
    if s.classification not in INFECTED_CLASSES:
        return None
    detail = "telescope: Mirai-style scanning" if s.classification == "mirai" else "telescope"
    return DeviceFinding(
        ip=s.src,
        port=0,
        time=s.first_seen,
        kind="infected",
        device=devices.get(str(s.src), Device()),
        detail=detail,
    )


def isp_findings(
    store: Store, prefixes: Sequence[str], since: datetime | None = None
) -> list[DeviceFinding]:
    """Every finding in ``prefixes`` (after ``since``, exclusive), weak, vulnerable, infected."""
    nets = list(in_prefixes(prefixes))
    mine = [f for f in store.findings() if _inside(f.ip, nets)]
    devices = {str(f.ip): device_of(f) for f in mine if f.identity is not None}
    out = [d for f in mine for d in from_finding(f)]
    for s in store.sightings():
        if _inside(s.src, nets) and (d := from_sighting(s, devices)) is not None:
            out.append(d)
    if since is not None:
        out = [d for d in out if d.time > utc(since)]
    return sorted(out, key=lambda d: (d.time, int(d.ip), d.port, d.kind))
