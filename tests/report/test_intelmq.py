"""IntelMQ's Shadowserver parser bot ingests our report files unchanged.

The parser knows report types from Shadowserver's IntelMQ schema, which IntelMQ downloads at
run time (``intelmq.bots.parsers.shadowserver._config update_schema``) and does not ship. The
full test runs every file through the bot with that schema, found at
``$IOTSCOPE_INTELMQ_SHADOWSERVER_SCHEMA``, ``../shared/data/shadowserver/intelmq.json`` or
IntelMQ's own state directory; it skips, saying so, where none is present. The schema IntelMQ
does ship (its test schema) maps ``test_telnet`` as Shadowserver's telnet report, so one test
always runs: our scan_telnet file, byte for byte, under that type's name.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iotscope.report import report_isps
from iotscope.store import Store
from tests.conftest import SHARED_DATA
from tests.report.conftest import DAY

intelmq = pytest.importorskip("intelmq", reason="intelmq not installed (pip install -e '.[dev]')")
from tests.report.intelmq_harness import parse_file  # noqa: E402


def _schema() -> Path | None:
    from intelmq import VAR_STATE_PATH

    for candidate in (
        os.environ.get("IOTSCOPE_INTELMQ_SHADOWSERVER_SCHEMA"),
        str(SHARED_DATA / "shadowserver" / "intelmq.json"),
        os.path.join(VAR_STATE_PATH, "shadowserver-schema.json"),
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _write(store: Store, out: Path) -> list[Path]:
    files = report_isps(store, DAY.date(), out=out)
    return [out / f.filename for f in files]


def test_every_file_parses_with_shadowservers_schema(
    filled: tuple[Store, dict[str, str]], tmp_path: Path
) -> None:
    schema = _schema()
    if schema is None:
        pytest.skip("Shadowserver's IntelMQ schema (intelmq.json) not present; see module doc")
    store, _ = filled
    for path in _write(store, tmp_path):
        events, log = parse_file(path, schema)
        rows = path.read_text().count("\n") - 1
        assert len(events) == rows, (path.name, log[-1500:])
        assert "found 0 problem(s)" in log, (path.name, log[-1500:])
        for ev in events:
            assert ev["source.ip"].startswith("127.77.")
            assert ev["time.source"].startswith("2026-11-0")
            assert ev.get("source.asn") in (64512, 64513)
        if "event4_honeypot_darknet" in path.name:
            assert events[0]["malware.name"] == "mirai"
            assert events[0]["destination.port"] == 23


def test_telnet_file_parses_with_intelmqs_shipped_schema(
    filled: tuple[Store, dict[str, str]], tmp_path: Path
) -> None:
    store, _ = filled
    ours = next(p for p in _write(store, tmp_path / "out") if "scan_telnet-sakura" in p.name)
    renamed = tmp_path / ours.name.replace("scan_telnet", "test_telnet")
    renamed.write_bytes(ours.read_bytes())
    events, log = parse_file(renamed, None, test_mode=True)
    assert "found 0 problem(s)" in log, log[-1500:]
    [ev] = events
    assert ev["source.ip"] == "127.77.0.10" and ev["source.port"] == 23
    assert ev["source.asn"] == 64512 and ev["source.geolocation.cc"] == "JP"
    assert ev["time.source"] == "2026-11-04T03:00:00+00:00"
    assert ev["extra.tag"] == "telnet;default-credentials"
    assert ev["classification.type"] == "vulnerable-system"
