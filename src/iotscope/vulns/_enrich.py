"""Survey findings -> the CVEs that apply to each device, ``inferred`` or ``verified``.

A finding's device CPEs (:func:`device_cpes`): the CPE its identity carries (a firmware
``o:`` name with the version the banner gave) plus the hardware ``h:`` names it implies, by
NVD's naming of firmware/hardware pairs (``o:dlink:dir-645_firmware`` runs on
``h:dlink:dir-645``) and from the model. A hardware name's version is the hardware revision
when the device reported one (HNAP's ``HardwareVersion``: NVD writes CVE-2015-2051's hardware as
``h:dlink:dir-645:a1``), else NA (``-``), as NVD writes hardware with no revision; NVD
criteria that name a revision do not match NA (NISTIR 7696: a value against NA is DISJOINT).

``inferred``: NVD's applicability holds for those CPEs (a version match only, the kind of
match DOMAIN.md warns about). ``verified``: a safe check (``_checks``) read, from the device's
own answer on the vulnerable interface, what proves the CVE. A finding with no CPE falls back
to the old exact-version table (``iotscope.knowledge.cves_for``), as ``inferred``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from iotscope.errors import StoreError
from iotscope.knowledge import cves_for
from iotscope.records import Finding, Identity, IPAddr, Record, UtcTime, utc
from iotscope.store import Store
from iotscope.store import _schema as s
from iotscope.store import _schema_vulns as t
from iotscope.vulns._checks import Check, Reading, run_check
from iotscope.vulns._cpe import ANY, NA, Cpe, CpeError, Value
from iotscope.vulns._db import load_db
from iotscope.vulns._match import VulnDb, device_cpe, match
from iotscope.vulns._releases import Releases, default_releases

Evidence = Literal["inferred", "verified"]


class DeviceVuln(Record):
    """One CVE on one surveyed device (per survey, address and CVE)."""

    survey_id: str | None
    ip: IPAddr
    port: int
    transport: str = "tcp"
    time: UtcTime
    vendor: str | None
    product: str | None
    model: str | None
    version: str | None
    cpes: tuple[str, ...]
    cve: str
    evidence: Evidence
    kev: bool
    cvss: float | None
    cvss_version: str | None
    severity: str | None
    check: str | None = None


class FirmwareStatus(Record):
    """Whether a surveyed device runs its vendor's current firmware ("firmware not latest")."""

    survey_id: str | None
    ip: IPAddr
    port: int
    time: UtcTime
    vendor: str | None
    product: str | None
    model: str | None
    version: str
    cpe: str
    latest: str | None
    outdated: bool | None


def _hardware(vendor: Value, product: str, revision: str | None = None) -> str:
    version = Value("value", revision.lower()) if revision else NA
    values = (Value("value", "h"), vendor, Value("value", product), version) + (ANY,) * 7
    return Cpe(values).to_fs()


def device_cpes(
    cpe: str | None, model: str | None = None, hardware: str | None = None
) -> tuple[str, ...]:
    """The CPE names a device with this identity CPE (and model, hardware revision) shows,
    canonical form."""
    if not cpe:
        return ()
    try:
        c = device_cpe(cpe)
    except CpeError:
        return ()
    out = [c.to_fs()]
    vendor, product = c.vendor, c.product
    if c.part == "o" and product.kind == "value" and product.text.endswith("_firmware"):
        out.append(_hardware(vendor, product.text.removesuffix("_firmware"), hardware))
    if model and vendor.kind == "value":
        out.append(_hardware(vendor, "_".join(model.lower().split()), hardware))
    return tuple(dict.fromkeys(out))


def _finding_cpes(f: Finding | _Seen) -> tuple[str, ...]:
    ident = f.identity
    return device_cpes(ident.cpe, ident.model) if ident else ()


def _inferred(f: Finding | _Seen, db: VulnDb) -> list[dict[str, Any]]:
    """The finding's CVE rows by NVD applicability (or the old table when it has no CPE)."""
    cpes = _finding_cpes(f)
    if cpes:
        return [
            {
                "cve": m.cve,
                "evidence": "inferred",
                "vuln_cpe": m.vuln_cpe,
                "check_id": None,
                "check_detail": None,
            }
            for m in match(cpes, db)
        ]
    ident = f.identity
    if ident is None:
        return []
    return [
        {
            "cve": c,
            "evidence": "inferred",
            "vuln_cpe": None,
            "check_id": None,
            "check_detail": "exact version table",
        }
        for c in cves_for(ident.vendor, ident.product, ident.version)
    ]


def _check_cpes(check: Check, reading: Reading, f: Finding) -> tuple[str, ...]:
    if check.cpe is None or reading.version is None:
        return ()
    model = reading.model or (f.identity.model if f.identity else None) or ""
    escape = Value("value", "_".join(model.lower().split())).to_fs()
    version = Value("value", reading.version.lower()).to_fs()
    text = check.cpe.replace("{model}", escape).replace("{version}", version)
    return device_cpes(text, model or None, reading.hardware)


def proved(check: Check, reading: Reading, f: Finding, db: VulnDb) -> list[str]:
    """The CVEs one reading proves: all the check's, or those NVD's configuration gives for
    the firmware the device itself reported."""
    if not reading.proved:
        return []
    if check.version is None:
        return list(check.cves)
    applies = {m.cve for m in match(_check_cpes(check, reading, f), db)}
    return [c for c in check.cves if c in applies]


def _wants(check: Check, f: Finding) -> bool:
    if f.service not in check.services or f.identity is None or not f.identity.cpe:
        return False
    try:
        return device_cpe(f.identity.cpe).vendor.text == check.vendor
    except CpeError:
        return False


async def _verify_all(
    findings: Sequence[Finding],
    checks: Sequence[Check],
    allowed: Callable[[str], bool],
    concurrency: int,
) -> list[tuple[Finding, Check, Reading]]:
    sem = asyncio.Semaphore(concurrency)

    async def one(f: Finding, c: Check) -> tuple[Finding, Check, Reading]:
        async with sem:
            r = await run_check(c, str(f.ip), f.port, f.service == "https", allowed)
            return f, c, r

    jobs = [one(f, c) for f in findings for c in checks if _wants(c, f)]
    return list(await asyncio.gather(*jobs))


def _key(f: Finding | _Seen) -> tuple[str, str, int, str]:
    return (f.survey_id or "", str(f.ip), f.port, f.transport)


def enrich(
    store: Store,
    db: VulnDb | None = None,
    *,
    checks: Sequence[Check] = (),
    allowed: Callable[[str], bool] | None = None,
    concurrency: int = 32,
    now: datetime | None = None,
) -> dict[str, int]:
    """Match every stored finding, run the checks (only with ``allowed``, the scope), and
    store the result per finding and CVE (replacing what an earlier run stored for it)."""
    db = db if db is not None else load_db(store)
    now = now or datetime.now(UTC)
    findings = [f for f in store.findings() if f.identity is not None]
    rows: dict[tuple[str, str, int, str], dict[str, dict[str, Any]]] = {}
    for f in findings:
        rows[_key(f)] = {r["cve"]: r for r in _inferred(f, db)}
    readings = []
    if checks and allowed is not None:
        readings = asyncio.run(_verify_all(findings, checks, allowed, concurrency))
    verified = 0
    for f, c, reading in readings:
        for cve in proved(c, reading, f, db):
            rows[_key(f)][cve] = {
                "cve": cve,
                "evidence": "verified",
                "vuln_cpe": None,
                "check_id": c.id,
                "check_detail": reading.detail[:500],
            }
            verified += 1
    _save(store, findings, rows, now)
    return {
        "findings": len(findings),
        "checks_run": len(readings),
        "verified": verified,
        "cves": sum(len(v) for v in rows.values()),
    }


def _save(
    store: Store,
    findings: Sequence[Finding],
    rows: dict[tuple[str, str, int, str], dict[str, dict[str, Any]]],
    now: datetime,
) -> None:
    tab = t.vuln_finding_cves
    out = []
    for f in findings:
        sid, ip, port, tr = _key(f)
        cpes = list(_finding_cpes(f))
        out += [
            {
                "survey_id": sid,
                "ip": ip,
                "port": port,
                "transport": tr,
                "device_cpes": cpes,
                "checked": now,
                **r,
            }
            for r in rows[_key(f)].values()
        ]
    try:
        with store.engine.begin() as conn:
            for f in findings:
                sid, ip, port, tr = _key(f)
                conn.execute(
                    delete(tab).where(
                        tab.c.survey_id == sid,
                        tab.c.ip == ip,
                        tab.c.port == port,
                        tab.c.transport == tr,
                    )
                )
            for i in range(0, len(out), 2000):
                conn.execute(insert(tab), out[i : i + 2000])
    except SQLAlchemyError as exc:
        raise StoreError("write failed", table=tab.name, reason=str(exc)[:300]) from exc


def _stored(store: Store) -> dict[tuple[str, str, int, str], list[dict[str, Any]]]:
    tab = t.vuln_finding_cves
    out: dict[tuple[str, str, int, str], list[dict[str, Any]]] = {}
    try:
        with store.engine.connect() as conn:
            for r in conn.execute(select(tab)):
                out.setdefault((r.survey_id, r.ip, r.port, r.transport), []).append(
                    dict(r._mapping)
                )
    except SQLAlchemyError as exc:
        raise StoreError("read failed", table=tab.name, reason=str(exc)[:300]) from exc
    return out


@dataclass(frozen=True, slots=True)
class _Seen:
    """The columns of a stored finding that its CVEs depend on (read without the rest)."""

    survey_id: str | None
    ip: str
    port: int
    transport: str
    time: datetime
    identity: Identity | None


def _identified(store: Store, since: datetime | None, until: datetime | None) -> list[_Seen]:
    """The findings with an identity (in ``[since, until)`` when given, filtered in SQL)."""
    f = s.findings
    stmt = select(f.c.survey_id, f.c.ip, f.c.port, f.c.transport, f.c.time, f.c.identity)
    stmt = stmt.where(f.c.identity.is_not(None))
    if since is not None:
        stmt = stmt.where(f.c.time >= since)
    if until is not None:
        stmt = stmt.where(f.c.time < until)
    out = []
    idents: dict[str, Identity] = {}  # devices of one model share it: validate each once
    for r in store._query(stmt, f.name):
        if not r["identity"]:
            continue  # a JSON null
        key = json.dumps(r["identity"], sort_keys=True)
        ident = idents.get(key) or idents.setdefault(key, Identity.model_validate(r["identity"]))
        out.append(_Seen(r["survey_id"], str(r["ip"]), int(r["port"]), r["transport"],
                         utc(r["time"]), ident))  # fmt: skip
    return out


def device_vulns(
    store: Store,
    db: VulnDb | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[DeviceVuln]:
    """The CVEs of every surveyed device: what ``enrich`` stored for a finding, else inferred
    now from the knowledge in the store. One record per survey, address and CVE (verified
    wins; the lowest port that showed it).

    ``since``/``until``: only findings of that time window (``since`` <= time < ``until``),
    selected in SQL; a report of one day then reads one day, not every finding of all time.
    """
    db = db if db is not None else load_db(store)
    stored = _stored(store)
    best: dict[tuple[str, str, str], DeviceVuln] = {}
    for f in sorted(_identified(store, since, until), key=lambda f: (f.survey_id or "", f.ip,
                                                                      f.port)):  # fmt: skip
        rows = stored.get(_key(f))
        for r in rows if rows is not None else _inferred(f, db):
            v = _vuln(f, r, db)
            k = (f.survey_id or "", str(f.ip), v.cve)
            if k not in best or (v.evidence == "verified" and best[k].evidence != "verified"):
                best[k] = v
    yield from (best[k] for k in sorted(best))


def _vuln(f: Finding | _Seen, r: dict[str, Any], db: VulnDb) -> DeviceVuln:
    ident = f.identity
    assert ident is not None
    c = db.cvss(r["cve"])
    return DeviceVuln(
        survey_id=f.survey_id,
        ip=f.ip,
        port=f.port,
        transport=f.transport,
        time=f.time,
        vendor=ident.vendor,
        product=ident.product,
        model=ident.model,
        version=ident.version,
        cpes=_finding_cpes(f),
        cve=r["cve"],
        evidence=r["evidence"],
        kev=r["cve"] in db.kev,
        cvss=c.score if c else None,
        cvss_version=c.version if c else None,
        severity=c.severity if c else None,
        check=r.get("check_id"),
    )


def firmware_status(store: Store, releases: Releases | None = None) -> Iterator[FirmwareStatus]:
    """Per survey and address: the firmware version against the vendor's current release."""
    releases = releases or default_releases()
    seen: set[tuple[str, str]] = set()
    for f in sorted(store.findings(), key=lambda f: (f.survey_id or "", str(f.ip), f.port)):
        got = _firmware(f, releases)
        if got is not None and (f.survey_id or "", str(f.ip)) not in seen:
            seen.add((f.survey_id or "", str(f.ip)))
            yield got


def _firmware(f: Finding, releases: Releases) -> FirmwareStatus | None:
    ident = f.identity
    if ident is None or not ident.cpe or not ident.version:
        return None
    try:
        c = device_cpe(ident.cpe)
    except CpeError:
        return None
    vendor, product = c.vendor.text, c.product.text
    return FirmwareStatus(
        survey_id=f.survey_id,
        ip=f.ip,
        port=f.port,
        time=f.time,
        vendor=ident.vendor,
        product=ident.product,
        model=ident.model,
        version=ident.version,
        cpe=c.to_fs(),
        latest=releases.current(vendor, product, ident.version),
        outdated=releases.outdated(vendor, product, ident.version),
    )


def summarise(vulns: Iterable[DeviceVuln]) -> dict[str, int]:
    out = {"devices": 0, "inferred": 0, "verified": 0, "kev": 0}
    devices = set()
    for v in vulns:
        devices.add((v.survey_id, str(v.ip)))
        out[v.evidence] += 1
        out["kev"] += v.kev
    out["devices"] = len(devices)
    return out
