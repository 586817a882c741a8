"""Report files: Shadowserver's names and columns, each record with its own ISP only."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from iotscope.report import period_of, report_isps
from iotscope.report._types import COLUMNS
from iotscope.store import Store, open_store
from tests.report.conftest import DAY, fill


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_files_per_isp_type_and_period(
    filled: tuple[Store, dict[str, str]], tmp_path: Path
) -> None:
    store, _ = filled
    files = report_isps(store, DAY.date(), out=tmp_path / "out")
    names = sorted(f.filename for f in files)
    assert names == [
        "2026-11-02-scan_telnet-kumo_broadband-isp-weekly.csv",  # the week's Monday
        "2026-11-04-blocklist-sakura_hikari_net-isp.csv",
        "2026-11-04-device_id-sakura_hikari_net-isp.csv",
        "2026-11-04-event4_honeypot_darknet-sakura_hikari_net-isp.csv",
        "2026-11-04-scan_http-sakura_hikari_net-isp.csv",
        "2026-11-04-scan_ssh-sakura_hikari_net-isp.csv",
        "2026-11-04-scan_telnet-sakura_hikari_net-isp.csv",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    by = {f.filename: f for f in files}
    telnet = _rows(by["2026-11-04-scan_telnet-sakura_hikari_net-isp.csv"].content)
    assert [(r["ip"], r["port"], r["tag"], r["asn"]) for r in telnet] == [
        ("127.77.0.10", "23", "telnet;default-credentials", "64512")
    ]
    assert telnet[0]["timestamp"] == "2026-11-04 03:00:00"
    assert telnet[0]["banner"] == "\\x01\xff\xfbBusyBox login:"  # control bytes escaped
    http = _rows(by["2026-11-04-scan_http-sakura_hikari_net-isp.csv"].content)
    assert http[0]["tag"] == "http;no-auth" and http[0]["server"] == "uc-httpd 1.0.0"
    vuln = _rows(by["2026-11-04-device_id-sakura_hikari_net-isp.csv"].content)
    assert [(r["ip"], r["tag"], r["device_vendor"]) for r in vuln] == [
        ("127.77.0.14", "vulnerable-firmware;cve-2017-7577", "Xiongmai")
    ]
    dark = _rows(by["2026-11-04-event4_honeypot_darknet-sakura_hikari_net-isp.csv"].content)
    assert [(r["src_ip"], r["dst_port"], r["infection"], r["count"]) for r in dark] == [
        ("127.77.0.20", "23", "mirai", "40")
    ]  # the research scanner is no infected device
    c2 = _rows(by["2026-11-04-blocklist-sakura_hikari_net-isp.csv"].content)
    assert c2[0]["ip"] == "127.77.1.1" and "C2 server tcp/23" in c2[0]["reason"]
    kumo = _rows(by["2026-11-02-scan_telnet-kumo_broadband-isp-weekly.csv"].content)
    assert [r["ip"] for r in kumo] == ["127.77.200.5"]
    everything = b"".join(f.content for f in files)
    assert b"127.99.0.1" not in everything and b"127.77.0.15" not in everything


def test_columns_are_shadowservers(shared_data: Path) -> None:
    schema = json.loads((shared_data / "shadowserver" / "reports.json").read_text())
    for rtype, cols in COLUMNS.items():
        assert list(cols) == schema[rtype]["fields"], rtype


def test_headers_written_in_schema_order(filled: tuple[Store, dict[str, str]]) -> None:
    store, _ = filled
    for f in report_isps(store, DAY.date()):
        header = next(csv.reader(io.StringIO(f.content.decode())))
        assert tuple(header) == COLUMNS[f.report_type]


def test_weekly_period_is_iso_week() -> None:
    p = period_of(DAY.date(), "weekly")
    assert (p.label, p.start.day, (p.end - p.start).days) == ("2026-W45", 2, 7)


def test_same_report_twice_is_idempotent(filled: tuple[Store, dict[str, str]]) -> None:
    store, _ = filled
    first = report_isps(store, DAY.date())
    again = report_isps(store, DAY.date())
    assert [f.sha256 for f in first] == [f.sha256 for f in again]


@pytest.mark.postgres
def test_reports_on_postgresql(pg_schema_url: str, tmp_path: Path) -> None:
    store = open_store(pg_schema_url)
    fill(store, tmp_path)
    files = report_isps(store, DAY.date())
    assert len(files) == 7
    from iotscope.store import _attribution as sa

    assert {r["filename"] for r in sa.report_rows(store, "Kumo Broadband")} == {
        "2026-11-02-scan_telnet-kumo_broadband-isp-weekly.csv"
    }
    store.engine.dispose()
