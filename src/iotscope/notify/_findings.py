"""An ISP's new findings, read from the store, as :class:`DeviceFinding` records.

- ``weak_login``: a survey finding whose login accepted a list credential or needed none.
- ``vulnerable``: a survey finding with CVEs (and, once ``iotscope.vulns`` is in the store,
  every ``device_vulns`` row: firmware CVEs inferred or verified).
- ``infected``: the telescope saw the address scan like a bot (a sighting classed mirai/iot);
  the device is named from the survey's finding for that address, where there is one.

Which addresses are the ISP's: given prefixes (a lab manifest's), else the registry and
routing data in the store (``iotscope.attribution.isp_of``, longest-prefix match).
Vulnerable firmware: the survey's own CVEs plus ``iotscope.vulns.device_vulns`` (NVD
applicability, inferred or verified, KEV), one finding per address, port and CVE.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import select

from iotscope.errors import ConfigError
from iotscope.notify._model import Device, DeviceFinding
from iotscope.records import Finding, Identity, Sighting, utc
from iotscope.store import Store
from iotscope.store import _schema as tables
from iotscope.store._hosts import INFECTED_CLASSES, WEAK_OUTCOMES

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def in_prefixes(prefixes: Sequence[str]) -> Iterable[Net]:
    return [ipaddress.ip_network(p, strict=False) for p in prefixes]


def _inside(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Iterable[Net]) -> bool:
    return any(ip in n for n in nets)


def device_of(f: Finding) -> Device:
    return device_from(f.identity)


def device_from(ident: Identity | None) -> Device:
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


def isp_findings(store: Store, prefixes: Sequence[str] | None, since: datetime | None = None,
                 isp: str | None = None) -> list[DeviceFinding]:  # fmt: skip
    """Every finding of the ISP (in ``prefixes``, else the registry's attribution to ``isp``)
    after ``since`` (exclusive): weak, vulnerable, infected."""
    mine_of = _membership(store, prefixes, isp)
    findings = store.findings()
    mine = [f for f in findings if mine_of(f.ip)]
    devices = {str(f.ip): device_of(f) for f in mine if f.identity is not None}
    out = [d for f in mine for d in from_finding(f)]
    out += _nvd_vulns(store, mine_of, {(str(d.ip), d.port, c) for d in out for c in d.cves})
    for s in store.sightings():
        if mine_of(s.src) and (d := from_sighting(s, devices)) is not None:
            out.append(d)
    if since is not None:
        out = [d for d in out if d.time > utc(since)]
    return sorted(out, key=lambda d: (d.time, int(d.ip), d.port, d.kind, d.cves))


Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


def _membership(
    store: Store, prefixes: Sequence[str] | None, isp: str | None
) -> Callable[[Addr], bool]:
    if prefixes:
        nets = list(in_prefixes(prefixes))
        return lambda ip: _inside(ip, nets)
    if isp is None:
        raise ConfigError("say which addresses are the ISP's (prefixes or the ISP's name)")
    from iotscope.attribution import isp_of

    ips = sorted({str(f.ip) for f in store.findings()} | {str(s.src) for s in store.sightings()})
    owned = {ip for ip, owner in zip(ips, isp_of(store, ips), strict=True) if owner == isp}
    return lambda ip: str(ip) in owned


def _nvd_vulns(store: Store, mine_of: Callable[[Addr], bool],
               have: set[tuple[str, int, str]]) -> list[DeviceFinding]:  # fmt: skip
    """``iotscope.vulns.device_vulns`` rows of the ISP's devices not already counted."""
    try:
        from iotscope.vulns import device_vulns
    except ImportError:  # pragma: no cover - the vulns part ships with iotscope
        return []
    out = []
    for v in device_vulns(store):
        if not mine_of(v.ip) or (str(v.ip), v.port, v.cve) in have:
            continue
        dev = Device(vendor=v.vendor, product=v.product, model=v.model, version=v.version)
        out.append(DeviceFinding(ip=v.ip, port=v.port, time=v.time, kind="vulnerable", device=dev,
                                 cves=(v.cve,), evidence=v.evidence, kev=v.kev))  # fmt: skip
    return out


# -- a day's findings of every ISP at once (the scale path) -------------------------------------
def window_findings(store: Store, since: datetime, until: datetime) -> list[DeviceFinding]:
    """The survey's weak and vulnerable findings of ``[since, until)`` as notice findings:
    one SQL query for only the columns notices use, each distinct device identity read once
    (what :func:`from_finding` makes of the same finding, without building a Finding)."""
    f = tables.findings
    stmt = select(f.c.ip, f.c.port, f.c.service, f.c.time, f.c.identity, f.c.login, f.c.cves)
    stmt = stmt.where(f.c.time >= since, f.c.time < until).order_by(f.c.time, f.c.ip, f.c.port)
    devices: dict[str, Device] = {}
    out: list[DeviceFinding] = []
    for r in store._query(stmt, f.name):
        ident = r["identity"] or {}
        key = json.dumps(ident, sort_keys=True)
        device = devices.get(key)
        if device is None:
            device = devices[key] = device_from(Identity.model_validate(ident) if ident else None)
        base = {"ip": r["ip"], "port": r["port"], "time": r["time"], "service": r["service"],
                "device": device}  # fmt: skip
        login = r["login"] or {}
        if login.get("outcome") in WEAK_OUTCOMES:
            out.append(DeviceFinding(**base, kind="weak_login", protocol=login.get("protocol")))
        if r["cves"]:
            out.append(DeviceFinding(**base, kind="vulnerable", cves=tuple(sorted(r["cves"])),
                                     evidence="inferred"))  # fmt: skip
    return out


def by_isp(store: Store, findings: Sequence[DeviceFinding]) -> dict[str, list[DeviceFinding]]:
    """The findings per responsible ISP (``iotscope.attribution.isp_of``, each distinct
    address matched once, vectorised); addresses no ISP of the registry holds are left out."""
    from iotscope.attribution import isp_of

    ips = sorted({str(d.ip) for d in findings})
    owner = dict(zip(ips, isp_of(store, ips), strict=True))
    out: dict[str, list[DeviceFinding]] = {}
    for d in findings:
        isp = owner[str(d.ip)]
        if isp is not None:
            out.setdefault(isp, []).append(d)
    return out
