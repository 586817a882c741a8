"""A store holding two ISPs and one day of every kind of record a report is made of."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.attribution import import_registry
from iotscope.records import C2Candidate, Finding, Identity, Login, Sighting, Survey
from iotscope.store import Store, open_store

DAY = datetime(2026, 11, 4, tzinfo=UTC)  # a Wednesday
REGISTRY = """\
[[isp]]
name = "Sakura Hikari Net"
asns = [64512]
prefixes = ["127.77.0.0/17"]
abuse_email = "abuse@sakura.example"
language = "ja"
interval = "daily"
token = true

[[isp]]
name = "Kumo Broadband"
asns = [64513]
prefixes = ["127.77.128.0/17"]
abuse_email = "soc@kumo.example"
language = "en"
interval = "weekly"
token = true
"""


LATE = DAY + timedelta(hours=3)


def _finding(
    ip: str, port: int, service: str, outcome: str, cves: tuple[str, ...] = (),
    at: datetime = LATE, banner: str = "login:",
) -> Finding:  # fmt: skip
    return Finding(
        survey_id="s1", ip=ipaddress.ip_address(ip), port=port, service=service, time=at,
        banner=banner,
        identity=Identity(vendor="Xiongmai", product="NBD80X16S-KL", model="NBD80X16S-KL",
                          version="V4.02.R11", device_type="camera"),
        login=Login(protocol=service, outcome=outcome, username="root",  # type: ignore[arg-type]
                    credential="mirai-2016#1" if outcome == "accepted" else None),
        cves=cves,
    )  # fmt: skip


def fill(store: Store, tmp_path: Path) -> dict[str, str]:
    reg = tmp_path / "registry.toml"
    reg.write_text(REGISTRY, encoding="utf-8")
    _, tokens, _ = import_registry(store, reg)
    store.save_survey(Survey(id="s1", started=DAY, scope=("127.77.0.0/16",), ports=("23",)))
    store.save_findings([
        _finding("127.77.0.10", 23, "telnet", "accepted", banner="\x01\xff\xfbBusyBox login:"),
        _finding("127.77.0.11", 80, "http", "no_auth", banner="uc-httpd 1.0.0"),
        _finding("127.77.0.12", 22, "ssh", "accepted", banner="SSH-2.0-dropbear_2014.63"),
        _finding("127.77.0.13", 23, "telnet", "rejected"),  # not weak: in no report
        _finding("127.77.0.14", 80, "http", "rejected", cves=("CVE-2017-7577",)),
        _finding("127.77.200.5", 23, "telnet", "accepted"),  # Kumo's
        _finding("127.77.0.15", 23, "telnet", "accepted", at=DAY - timedelta(days=1)),
        _finding("127.99.0.1", 23, "telnet", "accepted"),  # nobody's
    ])  # fmt: skip
    store.save_sightings([
        Sighting(src=ipaddress.ip_address("127.77.0.20"), first_seen=DAY + timedelta(hours=1),
                 last_seen=DAY + timedelta(hours=2), packets=40, targets=39,
                 ports={23: 36, 2323: 4}, mirai_fingerprint=1.0, classification="mirai"),
        Sighting(src=ipaddress.ip_address("127.77.0.21"), first_seen=DAY + timedelta(hours=1),
                 last_seen=DAY + timedelta(hours=2), packets=9, targets=9,
                 ports={443: 9}, mirai_fingerprint=0.0, classification="research"),
    ])  # fmt: skip
    store.save_c2_candidates([
        C2Candidate(ip=ipaddress.ip_address("127.77.1.1"), port=23, proto="tcp", score=0.93,
                    clients=12, infected_clients=9, first_seen=DAY, site="sakura",
                    last_seen=DAY + timedelta(hours=20), reasons=("bots", "heartbeat 60s")),
    ], run_id="run-1")  # fmt: skip
    return tokens


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[tuple[Store, dict[str, str]]]:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield store, fill(store, tmp_path)
    store.engine.dispose()
