"""Findings in the store -> DeviceVuln (inferred, verified), firmware not latest."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path

import pytest

from iotscope.records import Finding, Identity, Survey
from iotscope.store import Store
from iotscope.vulns import (
    default_checks,
    device_cpes,
    device_vulns,
    enrich,
    firmware_status,
    import_file,
)
from tests.vulns.test_checks import serving
from tests.vulns.test_import import SAMPLE

KEV_SAMPLE = SAMPLE.with_name("kev-sample.json")
T = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def ident(vendor: str, product: str, model: str, version: str, cpe: str | None) -> Identity:
    return Identity(vendor=vendor, product=product, model=model, version=version, cpe=cpe)


def dlink(version: str) -> Identity:
    return ident(
        "D-Link",
        "DIR-645 Wireless Router",
        "DIR-645",
        version,
        f"cpe:2.3:o:dlink:dir-645_firmware:{version}:*:*:*:*:*:*:*",
    )


def put(store: Store, findings: list[Finding]) -> None:
    store.save_survey(Survey(id="s1", started=T, scope=("127.0.0.0/8",)))
    store.save_findings(findings)


def f(ip: str, port: int, identity: Identity | None, service: str = "http") -> Finding:
    return Finding(ip=ip, port=port, service=service, time=T, identity=identity, survey_id="s1")


def test_device_cpes_adds_the_hardware_it_implies() -> None:
    assert device_cpes("cpe:2.3:o:dlink:dir-645_firmware:1.03:*:*:*:*:*:*:*", "DIR-645") == (
        "cpe:2.3:o:dlink:dir-645_firmware:1.03:*:*:*:*:*:*:*",
        "cpe:2.3:h:dlink:dir-645:-:*:*:*:*:*:*:*",
    )
    assert device_cpes("cpe:2.3:o:huawei:hg532_firmware:V1 B2:*:*:*:*:*:*:*", "HG532e") == (
        r"cpe:2.3:o:huawei:hg532_firmware:v1\ b2:*:*:*:*:*:*:*",
        "cpe:2.3:h:huawei:hg532:-:*:*:*:*:*:*:*",
        "cpe:2.3:h:huawei:hg532e:-:*:*:*:*:*:*:*",
    )
    assert device_cpes(None) == () and device_cpes("garbage") == ()
    # a reported hardware revision becomes the hardware name's version (NVD: dir-645:a1)
    assert device_cpes("cpe:2.3:o:dlink:dir-645_firmware:1.03:*:*:*:*:*:*:*", None, "A1")[1] == (
        "cpe:2.3:h:dlink:dir-645:a1:*:*:*:*:*:*:*"
    )


def test_inferred_then_verified(store: Store) -> None:
    import_file(store, SAMPLE)
    import_file(store, KEV_SAMPLE)
    routeros = ident(
        "MikroTik",
        "RouterOS",
        "RB750Gr3",
        "6.41.4",
        "cpe:2.3:o:mikrotik:routeros:6.41.4:*:*:*:*:*:*:*",
    )
    with serving("1.04B12") as port:
        put(store, [
            f("127.0.0.1", port, dlink("1.04B12")),
            f("127.0.0.1", 23, dlink("1.04B12"), "telnet"),
            f("127.0.0.2", 80, routeros),
            f("127.0.0.3", 80, dlink("1.05B01")),
            f("127.0.0.4", 80, None),
        ])  # fmt: skip
        before = list(device_vulns(store))
        # NVD names CVE-2015-2051's hardware h:dlink:dir-645:a1; a banner gives no revision
        # (NA), so only the HNAP answer, which reports HardwareVersion A1, can show it
        assert [(str(v.ip), v.port, v.cve, v.evidence) for v in before] == [
            ("127.0.0.2", 80, "CVE-2018-14847", "inferred"),
        ]
        counts = enrich(
            store, checks=default_checks(), allowed=lambda ip: ip_address(ip).is_loopback
        )
    assert counts["verified"] == 1
    after = {(str(v.ip), v.cve): v for v in device_vulns(store)}
    v = after[("127.0.0.1", "CVE-2015-2051")]
    assert (v.evidence, v.port, v.check, v.kev, v.cvss, v.severity) == (
        "verified",
        port,
        "dlink-hnap-device-settings",
        True,
        9.8,
        "CRITICAL",
    )
    assert after[("127.0.0.2", "CVE-2018-14847")].evidence == "inferred"
    assert len(after) == 2


def test_no_checks_without_a_scope(store: Store) -> None:
    import_file(store, SAMPLE)
    routeros = ident(
        "MikroTik", "RouterOS", "RB750Gr3", "6.40", "cpe:2.3:o:mikrotik:routeros:6.40:*:*:*:*:*:*:*"
    )
    put(store, [f("127.0.0.1", 1, dlink("1.03")), f("127.0.0.2", 80, routeros)])
    counts = enrich(store, checks=default_checks(), allowed=None)
    assert counts["checks_run"] == 0
    assert [v.evidence for v in device_vulns(store)] == ["inferred"]


def test_old_table_is_the_fallback_without_a_cpe(store: Store) -> None:
    old = ident("Axis", "AXIS M Network Camera", "M1034-W", "5.50.4.3", None)
    put(store, [f("127.0.0.5", 80, old)])
    got = [v.cve for v in device_vulns(store)]
    assert got == ["CVE-2018-10660", "CVE-2018-10661", "CVE-2018-10662"]


def test_firmware_not_latest(store: Store) -> None:
    put(store, [
        f("127.0.0.1", 80, dlink("1.03")),
        f("127.0.0.2", 80, dlink("1.05B01")),
        f("127.0.0.3", 80, ident("D-Link", "ShareCenter", "DNS-320", "2.05b10",
                                 "cpe:2.3:o:dlink:dns-320_firmware:2.05b10:*:*:*:*:*:*:*")),
        f("127.0.0.4", 80, ident("D-Link", "ShareCenter", "DNS-320", "1.11b04",
                                 "cpe:2.3:o:dlink:dns-320_firmware:1.11b04:*:*:*:*:*:*:*")),
        f("127.0.0.5", 80, ident("Acme", "Box", "B1", "1", "cpe:2.3:o:acme:box:1:*:*:*:*:*:*:*")),
    ])  # fmt: skip
    got = {str(s.ip): (s.latest, s.outdated) for s in firmware_status(store)}
    assert got == {
        "127.0.0.1": ("1.05B01", True),
        "127.0.0.2": ("1.05B01", False),
        "127.0.0.3": ("2.06B01", True),  # its own release line
        "127.0.0.4": ("1.11b04", False),
        "127.0.0.5": (None, None),
    }


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`vulns import` and `vulns match` (arguments and stdin), in-process on the default store."""
    import json

    from typer.testing import CliRunner

    from iotscope.cli import app

    run = CliRunner().invoke
    imp = run(app, ["vulns", "import", str(SAMPLE), str(KEV_SAMPLE)])
    assert imp.exit_code == 0, imp.output
    assert [json.loads(x)["new"] for x in imp.stdout.splitlines() if x.startswith("{")] == [10, 8]
    out = tmp_path / "m.jsonl"
    res = run(
        app, ["vulns", "match", "cpe:2.3:o:mikrotik:routeros:6.42:*:*:*:*:*:*:*", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    rec = json.loads(out.read_text())
    assert {k: rec[k] for k in ("device", "cve", "evidence", "kev", "cvss")} == {
        "device": "cpe:2.3:o:mikrotik:routeros:6.42:*:*:*:*:*:*:*",
        "cve": "CVE-2018-14847",
        "evidence": "inferred",
        "kev": True,
        "cvss": 9.1,
    }
    stdin = (
        "cpe:2.3:o:dlink:dir-645_firmware:1.03:*:*:*:*:*:*:* "
        "cpe:2.3:h:dlink:dir-645:a1:*:*:*:*:*:*:*\n"
        "cpe:2.3:o:mikrotik:routeros:7.1:*:*:*:*:*:*:*\n"
    )
    piped = run(app, ["vulns", "match"], input=stdin)
    lines = [json.loads(x) for x in piped.stdout.splitlines() if x.startswith("{")]
    assert [(x["cve"], x["device"].count(" ")) for x in lines] == [("CVE-2015-2051", 1)]
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    res = run(app, ["vulns", "import", str(bad)])
    assert res.exit_code != 0
