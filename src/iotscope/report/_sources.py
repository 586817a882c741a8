"""What goes into ISP reports, read from the store for one time window (SQL-filtered).

Each source yields plain records (no per-row pydantic validation: a report over 100,000
findings must not spend its time re-validating what the store already holds).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from iotscope.store import Store
from iotscope.store import _schema as s
from iotscope.store._hosts import INFECTED_CLASSES, WEAK_OUTCOMES


@dataclass(frozen=True, slots=True)
class WeakLogin:
    ip: str
    port: int
    transport: str
    service: str
    time: datetime
    protocol: str
    outcome: str
    identity: dict[str, Any]
    banner: str | None


@dataclass(frozen=True, slots=True)
class VulnerableDevice:
    ip: str
    port: int
    transport: str
    time: datetime
    identity: dict[str, Any]
    cves: tuple[str, ...]
    kev: bool
    cvss: float | None


@dataclass(frozen=True, slots=True)
class Infected:
    ip: str
    first_seen: datetime
    last_seen: datetime
    packets: int
    ports: dict[int, int]
    classification: str
    sensor: str


@dataclass(frozen=True, slots=True)
class C2Server:
    ip: str
    port: int
    proto: str
    score: float
    clients: int
    infected_clients: int
    first_seen: datetime
    last_seen: datetime
    reasons: tuple[str, ...]
    site: str


def utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _findings(store: Store, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The window's findings, only the columns reports use (the JSON ones cost decoding)."""
    f = s.findings
    cols = (f.c.ip, f.c.port, f.c.transport, f.c.service, f.c.time, f.c.banner, f.c.identity,
            f.c.login, f.c.cves)  # fmt: skip
    stmt = select(*cols).where(f.c.time >= since, f.c.time < until)
    return store._query(stmt, f.name)


def survey_records(
    store: Store, since: datetime, until: datetime
) -> tuple[list[WeakLogin], list[VulnerableDevice]]:
    """Weak logins (accepted with a list credential, or no login needed) and vulnerable
    devices found in the window, from one read of the findings."""
    weak: list[WeakLogin] = []
    vulnerable: list[VulnerableDevice] = []
    rows = _findings(store, since, until)
    for r in rows:
        login = r["login"] or {}
        if login.get("outcome") in WEAK_OUTCOMES:
            weak.append(WeakLogin(
                ip=r["ip"], port=r["port"], transport=r["transport"], service=r["service"],
                time=utc(r["time"]), protocol=str(login.get("protocol") or r["service"]),
                outcome=str(login["outcome"]), identity=r["identity"] or {}, banner=r["banner"],
            ))  # fmt: skip
    vulnerable = list(vulnerable_devices(store, since, until, rows))
    return weak, vulnerable


def vulnerable_devices(
    store: Store, since: datetime, until: datetime, rows: list[dict[str, Any]] | None = None
) -> Iterator[VulnerableDevice]:
    """Devices with CVEs found in the window: ``iotscope.vulns.device_vulns`` (NVD knowledge,
    with KEV and CVSS, verified where a safe check proved it), grouped per device, plus any CVE
    the survey itself attached to a finding (``findings.cves``, from the built-in version table)
    that the NVD knowledge in the store does not cover."""
    from iotscope.vulns import device_vulns

    vulns = device_vulns(store, since=since, until=until)  # the window, in SQL
    devices = {(d.ip, d.port): d for d in _group_vulns(vulns, since, until)}
    for r in rows if rows is not None else _findings(store, since, until):
        if not r["cves"]:
            continue
        key = (str(r["ip"]), int(r["port"]))
        known = devices.get(key)
        extra = tuple(c for c in r["cves"] if known is None or c not in known.cves)
        if known is None:
            devices[key] = VulnerableDevice(
                ip=str(r["ip"]), port=int(r["port"]), transport=r["transport"],
                time=utc(r["time"]), identity=r["identity"] or {}, cves=tuple(sorted(extra)),
                kev=False, cvss=None,
            )  # fmt: skip
        elif extra:
            devices[key] = dataclasses.replace(known, cves=tuple(sorted({*known.cves, *extra})))
    yield from devices.values()


def _group_vulns(vulns: Any, since: datetime, until: datetime) -> Iterator[VulnerableDevice]:
    groups: dict[tuple[str, int], list[Any]] = {}
    for v in vulns:
        t = utc(v.time)
        if since <= t < until:
            groups.setdefault((str(v.ip), int(v.port)), []).append(v)
    for (ip, port), items in groups.items():
        first = items[0]
        scores = [float(v.cvss) for v in items if getattr(v, "cvss", None) is not None]
        yield VulnerableDevice(
            ip=ip, port=port, transport=str(getattr(first, "transport", "tcp")),
            time=min(utc(v.time) for v in items),
            identity={"vendor": getattr(first, "vendor", None),
                      "product": getattr(first, "product", None),
                      "version": getattr(first, "version", None)},
            cves=tuple(sorted({str(v.cve) for v in items})),
            kev=any(bool(getattr(v, "kev", False)) for v in items),
            cvss=max(scores) if scores else None,
        )  # fmt: skip


def infected(store: Store, since: datetime, until: datetime) -> Iterator[Infected]:
    """Telescope sightings of IoT-scanner sources overlapping the window."""
    t = s.sightings
    stmt = select(t).where(
        t.c.classification.in_(INFECTED_CLASSES), t.c.first_seen < until, t.c.last_seen >= since
    )
    for r in store._query(stmt, t.name):
        yield Infected(
            ip=r["src"], first_seen=utc(r["first_seen"]), last_seen=utc(r["last_seen"]),
            packets=r["packets"], ports={int(k): int(v) for k, v in r["ports"].items()},
            classification=r["classification"], sensor=r["sensor"],
        )  # fmt: skip


def c2_servers(store: Store, since: datetime, until: datetime) -> Iterator[C2Server]:
    """The current C2 candidates (each site's newest run) active in the window."""
    for c in store.c2_candidates():
        if utc(c.first_seen) < until and utc(c.last_seen) >= since:
            yield C2Server(
                ip=str(c.ip), port=c.port, proto=c.proto, score=c.score, clients=c.clients,
                infected_clients=c.infected_clients, first_seen=utc(c.first_seen),
                last_seen=utc(c.last_seen), reasons=c.reasons, site=c.site,
            )  # fmt: skip
