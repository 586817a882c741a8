"""A small surveyed world written with the store's own insert functions: two survey rounds a
week apart, three vendors (one spelled three ways), CVEs with one in KEV, telescope sightings,
two ISPs. Tests read it through a module-scoped fixture (``conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from iotscope.records import Finding, Identity, Login, Sighting
from iotscope.store import Store, open_store
from iotscope.store import _attribution as sa
from iotscope.store import _schema as s

R1 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
R2 = R1 + timedelta(days=7)
CVE = "CVE-2014-8361"
FINDING_CVE = "CVE-2018-10561"


def _finding(
    sid: str,
    t: datetime,
    ip: str,
    vendor: str | None,
    model: str | None,
    version: str | None,
    outcome: str,
) -> Finding:
    ident = (
        Identity(
            vendor=vendor,
            model=model,
            version=version,
            product="router",
            cpe=f"cpe:2.3:o:acme:{(model or 'x').lower()}_firmware:{version}:*:*:*:*:*:*:*",
        )
        if vendor
        else None
    )
    return Finding(
        ip=ip,
        port=23,
        service="telnet",
        time=t,
        identity=ident,
        login=Login(protocol="telnet", outcome=outcome),
        survey_id=sid,
    )


# (last octet range, subnet, vendor spelling, model, version, weak every nth)
PLAN = [
    (range(1, 41), "10.0.0", "Acme Corp.", "A-100", "1.0", 2),  # 40 devices, 20 weak
    (range(41, 61), "10.0.0", "ACME", "A 100", "2.0", 0),  # 20 devices, none weak
    (range(61, 71), "10.0.0", "acme corporation", "X9", "3.1", 5),  # 10 devices, 2 weak
    (range(1, 31), "10.0.1", "Beta Networks Inc.", "B200", "4.2", 3),  # 30 devices, 10 weak
    (range(1, 11), "10.0.2", None, None, None, 1),  # 10 unidentified, all weak
]


def _round(sid: str, t: datetime) -> list[Finding]:
    out = []
    for octets, net, vendor, model, version, nth in PLAN:
        for k, o in enumerate(octets):
            weak = nth and k % nth == 0
            f = _finding(
                sid, t, f"{net}.{o}", vendor, model, version, "accepted" if weak else "rejected"
            )
            if sid == "r1" and model == "B200":  # the survey's own version table said so
                f = f.model_copy(update={"cves": (FINDING_CVE,)})
            out.append(f)
    return out


def _sighting(ip: str, day: datetime, cls: str = "mirai") -> Sighting:
    return Sighting(
        src=ip,
        first_seen=day,
        last_seen=day + timedelta(hours=2),
        packets=50,
        targets=40,
        mirai_fingerprint=1.0,
        classification=cls,
    )


def build(store: Store) -> None:
    store.save_findings(_round("r1", R1) + _round("r2", R2))
    # round 1: 4 Acme A-100 bots; round 2: 8 Acme A-100 + 2 Beta; one backscatter (not a bot)
    week1 = [_sighting(f"10.0.0.{o}", R1 + timedelta(days=1)) for o in range(1, 5)]
    week2 = [_sighting(f"10.0.0.{o}", R2 + timedelta(days=2)) for o in range(1, 9)]
    week2 += [_sighting(f"10.0.1.{o}", R2 + timedelta(days=3)) for o in (1, 2)]
    week2.append(_sighting("10.0.1.30", R2 + timedelta(days=1), "backscatter"))
    store.save_sightings(week1, capture_id="week1", span=(R1, R2))
    store.save_sightings(week2, capture_id="week2", span=(R2, R2 + timedelta(days=7)))
    rows = [
        {
            "survey_id": sid,
            "ip": f"10.0.0.{o}",
            "port": 23,
            "transport": "tcp",
            "cve": cve,
            "evidence": "verified" if o == 1 else "inferred",
            "device_cpes": [],
            "checked": R2,
        }
        for sid in ("r1", "r2")
        for o in range(1, 41)
        for cve in (CVE, "CVE-2020-0001")
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(s.metadata.tables["vuln_finding_cves"]), rows)
        conn.execute(insert(s.metadata.tables["vuln_kev"]), [{"cve": CVE}])
        conn.execute(
            insert(s.metadata.tables["vuln_cves"]),
            [
                {
                    "cve": CVE,
                    "last_modified": R1,
                    "cvss": 10.0,
                    "severity": "CRITICAL",
                    "configurations": [],
                    "source": "test",
                }
            ],
        )
    sa.save_isps(
        store,
        [
            {
                "name": "alpha",
                "asns": [64500],
                "prefixes": ["10.0.0.0/24", "10.0.2.0/24"],
                "language": "ja",
                "report_format": "shadowserver-csv",
                "interval": "daily",
            },
            {
                "name": "beta",
                "asns": [64501],
                "prefixes": ["10.0.1.0/24"],
                "language": "en",
                "report_format": "shadowserver-csv",
                "interval": "daily",
            },
        ],
    )


def open_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("makers") / "store.db"
    store = open_store(f"sqlite:///{path}")
    build(store)
    yield store
    store.engine.dispose()
