"""Pure mapping: one source record (+ its origin AS) -> one Shadowserver CSV row (a dict of
the type's columns; missing columns are written empty)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from iotscope.report._sources import C2Server, Infected, VulnerableDevice, WeakLogin
from iotscope.report._types import WEAK_LOGIN_TYPE

GEO = "JP"  # the registry is Japan's ISPs; no finer geolocation is claimed
Row = dict[str, str]


def stamp(t: datetime) -> str:
    """Shadowserver's timestamp form: UTC, ``YYYY-MM-DD HH:MM:SS`` (IntelMQ appends UTC)."""
    return t.isoformat(sep=" ", timespec="seconds")[:19]


def clean(text: str | None, limit: int = 1000) -> str:
    """Text for a CSV cell: control characters (NUL breaks CSV readers) shown as ``\\xNN``."""
    if not text:
        return ""
    return text[:limit].translate(_ESCAPES)


_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if c != 0x09}


def _asn(asn: int) -> str:
    return str(asn) if asn else ""


def _device(identity: dict[str, Any]) -> Row:
    return {
        "device_vendor": clean(identity.get("vendor")),
        "device_type": clean(identity.get("device_type")),
        "device_model": clean(identity.get("model") or identity.get("product")),
        "device_version": clean(identity.get("version")),
    }


def weak_login_row(f: WeakLogin, asn: int) -> tuple[str, Row]:
    """The accessible-service report of the login's protocol (device_id for others)."""
    rtype = WEAK_LOGIN_TYPE.get(f.protocol, "device_id")
    tag = "default-credentials" if f.outcome == "accepted" else "no-auth"
    row: Row = {
        "timestamp": stamp(f.time), "severity": "high", "ip": f.ip, "protocol": f.transport,
        "port": str(f.port), "tag": f"{f.service};{tag}", "asn": _asn(asn), "geo": GEO,
        **_device(f.identity),
    }  # fmt: skip
    if rtype == "scan_telnet":
        row["banner"] = clean(f.banner)
    elif rtype == "scan_ssh":
        row["serverid_raw"] = clean(f.banner)
    elif rtype == "scan_http":
        row["server"] = clean(f.banner)
    return rtype, row


def severity(cvss: float | None, kev: bool) -> str:
    """Shadowserver's levels from CVSS (v3 bands); a known-exploited CVE is critical."""
    if kev or (cvss is not None and cvss >= 9.0):
        return "critical"
    if cvss is None or cvss >= 7.0:
        return "high"
    return "medium" if cvss >= 4.0 else "low"


def vulnerable_row(v: VulnerableDevice, asn: int) -> Row:
    tags = ["vulnerable-firmware", *(c.lower() for c in v.cves)]
    if v.kev:
        tags.append("kev")
    return {
        "timestamp": stamp(v.time), "severity": severity(v.cvss, v.kev), "ip": v.ip,
        "protocol": v.transport, "port": str(v.port), "tag": ";".join(tags),
        "asn": _asn(asn), "geo": GEO, **_device(v.identity),
    }  # fmt: skip


def infected_row(x: Infected, asn: int, since: datetime) -> Row:
    port = max(x.ports, key=lambda p: (x.ports[p], -p)) if x.ports else None
    mirai = x.classification == "mirai"
    event = hashlib.sha256(f"{x.sensor}|{x.ip}|{x.first_seen.isoformat()}".encode()).hexdigest()
    return {
        "timestamp": stamp(max(x.first_seen, since)), "protocol": "tcp", "src_ip": x.ip,
        "src_asn": _asn(asn), "src_geo": GEO, "severity": "high",
        "dst_port": "" if port is None else str(port), "public_source": "iotscope-telescope",
        "infection": "mirai" if mirai else "iot-scanner", "family": "mirai" if mirai else "",
        "tag": "mirai" if mirai else "iot-scanner", "event_id": event[:32],
        "count": str(x.packets),
    }  # fmt: skip


def c2_row(c: C2Server, asn: int, until: datetime) -> Row:
    reasons = ", ".join(c.reasons) or "flow analysis"
    return {
        "timestamp": stamp(min(c.last_seen, until)), "severity": "high", "ip": c.ip,
        "source": f"iotscope-c2:{c.site}",
        "reason": clean(f"C2 server {c.proto}/{c.port}, {c.infected_clients} infected of "
                        f"{c.clients} clients, score {c.score:.2f}: {reasons}"),
        "asn": _asn(asn), "geo": GEO, "tag": f"c2;{c.proto}/{c.port}",
    }  # fmt: skip
