"""Import into the store (SQLite and PostgreSQL): shapes, incremental by lastModified, bad
records named by file and line, nothing half-imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from iotscope.errors import ConfigError
from iotscope.store import Store
from iotscope.store import _schema_vulns as t
from iotscope.vulns import import_file, load_db, match
from tests.vulns.conftest import NVD

SAMPLE = Path(__file__).parents[2] / "src" / "iotscope" / "vulns" / "nvd-sample.json"


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def page(records: list[dict[str, Any]]) -> str:
    doc = {
        "resultsPerPage": len(records),
        "startIndex": 0,
        "totalResults": len(records),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-11-01T00:00:00.000",
        "vulnerabilities": [{"cve": r} for r in records],
    }
    return json.dumps(doc, indent=2)


def cve_of(name: str) -> dict[str, Any]:
    doc = json.loads((NVD / f"{name}.json").read_text())
    return doc.get("cve", doc)


def test_single_files_in_both_shapes_and_page(store: Store) -> None:
    reports = [import_file(store, p) for p in sorted(NVD.glob("CVE-*.json"))]
    assert all(r.kind == "nvd-cve" and r.new == 1 and not r.bad for r in reports)
    again = import_file(store, SAMPLE)
    assert (again.kind, again.new, again.updated, again.unchanged) == ("nvd-page", 0, 0, 10)
    db = load_db(store)
    assert len(db.records) == 10
    dev = [
        "cpe:2.3:o:dlink:dir-645_firmware:1.04b12:*:*:*:*:*:*:*",
        "cpe:2.3:h:dlink:dir-645:a1:*:*:*:*:*:*:*",
    ]
    got = match(dev, db)
    assert [(m.cve, m.cvss, m.severity) for m in got] == [("CVE-2015-2051", 9.8, "CRITICAL")]
    assert count(store, t.vuln_cpe_matches) == 39  # 2+2+2+6+2+10+2+1+6+6 entries


def test_incremental_by_last_modified(store: Store, tmp_path: Path) -> None:
    rec = cve_of("CVE-2018-14847")
    path = tmp_path / "p.json"
    path.write_text(page([rec]))
    assert import_file(store, path).new == 1
    newer = json.loads(json.dumps(rec))
    newer["lastModified"] = "2026-01-01T00:00:00.000"
    newer["configurations"][0]["nodes"][0]["cpeMatch"][0]["versionEndIncluding"] = "6.43"
    path.write_text(page([newer]))
    r = import_file(store, path)
    assert (r.new, r.updated, r.unchanged) == (0, 1, 0)
    older = json.loads(json.dumps(rec))  # the original again: older than what is stored
    path.write_text(page([older]))
    r = import_file(store, path)
    assert (r.new, r.updated, r.unchanged) == (0, 0, 1)
    db = load_db(store)
    assert [m.cve for m in match(["cpe:2.3:o:mikrotik:routeros:6.43:*:*:*:*:*:*:*"], db)] == [
        "CVE-2018-14847"
    ]  # the newer range kept
    assert count(store, t.vuln_cpe_matches) == 1


def test_bad_records_are_named_counted_and_skipped(store: Store, tmp_path: Path) -> None:
    good = cve_of("CVE-2017-17215")
    bad_cpe = json.loads(json.dumps(cve_of("CVE-2015-2051")))
    bad_cpe["configurations"][0]["nodes"][0]["cpeMatch"][0]["criteria"] = "cpe:2.3:o:d link"
    no_time = dict(cve_of("CVE-2023-1389"))
    del no_time["lastModified"]
    path = tmp_path / "page.json"
    path.write_text(page([good, bad_cpe, no_time]))
    r = import_file(store, path)
    assert (r.new, len(r.bad)) == (1, 2)
    lines = path.read_text().splitlines()
    first, second = r.bad
    assert first.startswith(f"{path}:") and "record 1" in first and "CVE-2015-2051" in first
    assert "criteria" in first
    line_no = int(first.split(":")[1])
    assert lines[line_no - 1].strip() == "{" and '"CVE-2015-2051"' in "".join(
        lines[line_no : line_no + 3]
    )
    assert "record 2" in second and "lastModified" in second
    assert count(store, t.vuln_cves) == 1


@pytest.mark.parametrize("content", [b"not json at all\n", b'{"vulnerabilities": [', b"\xff\xfe"])
def test_a_file_that_is_not_json_imports_nothing(
    store: Store, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        import_file(store, path)
    assert str(path) in str(err.value)
    assert count(store, t.vuln_cves) == 0


def test_unknown_shape_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ConfigError, match="neither"):
        import_file(store, path)


def test_a_store_failure_keeps_nothing_of_the_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction per file: a failure after the CVE rows went in rolls them back."""
    from iotscope.errors import StoreError
    from iotscope.vulns import _db

    def broken(_x: Any) -> Any:
        raise _db.SQLAlchemyError("disk full")

    monkeypatch.setattr(_db, "_match_rows", lambda x: broken(x))
    with pytest.raises(StoreError, match="nothing of this file"):
        import_file(store, SAMPLE)
    assert count(store, t.vuln_cves) == 0


def test_kev_catalog(store: Store, tmp_path: Path) -> None:
    kev = {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "t1",
        "count": 3,
        "vulnerabilities": [
            {
                "cveID": "CVE-2015-2051",
                "vendorProject": "D-Link",
                "product": "DIR-645",
                "vulnerabilityName": "D-Link DIR-645 command injection",
                "dateAdded": "2022-02-10",
                "dueDate": "2022-08-10",
                "knownRansomwareCampaignUse": "Unknown",
            },
            {"cveID": "not-a-cve"},
            {"cveID": "CVE-2018-14847", "vendorProject": "MikroTik", "product": "RouterOS"},
        ],
    }
    path = tmp_path / "kev.json"
    path.write_text(json.dumps(kev, indent=1))
    r = import_file(store, path)
    assert (r.kind, r.new, len(r.bad)) == ("kev", 2, 1)
    assert "record 1" in r.bad[0] and "cveID" in r.bad[0]
    assert import_file(store, path).unchanged == 2
    import_file(store, SAMPLE)
    db = load_db(store)
    assert db.kev == {"CVE-2015-2051", "CVE-2018-14847"}
    got = match(["cpe:2.3:o:mikrotik:routeros:6.40:*:*:*:*:*:*:*"], db)
    assert got[0].kev is True


def test_real_kev_catalog(store: Store, shared_data: Path) -> None:
    r = import_file(store, shared_data / "kev" / "known_exploited_vulnerabilities.json")
    assert (r.kind, r.new, r.bad) == ("kev", 1404, [])
    assert "CVE-2018-10561" in load_db(store).kev
