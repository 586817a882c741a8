from __future__ import annotations

from pathlib import Path

import pytest

from iotscope.vulns import VulnDb, parse_cve, read_document

DATA = Path(__file__).parent / "data"
NVD = DATA / "nvd"


def load_record(cve: str):  # type: ignore[no-untyped-def]
    _, doc = read_document(NVD / f"{cve}.json")
    return parse_cve(doc)


@pytest.fixture(scope="session")
def real_db() -> VulnDb:
    """The real NVD records (trimmed); KEV flags as the records' cisaExploitAdd fields show."""
    records = [load_record(p.stem) for p in sorted(NVD.glob("CVE-*.json"))]
    kev = {
        "CVE-2018-10561",
        "CVE-2021-36260",
        "CVE-2015-2051",
        "CVE-2019-17621",
        "CVE-2023-1389",
        "CVE-2018-14847",
        "CVE-2020-9054",
        "CVE-2017-18368",
    }
    return VulnDb.build(records, kev)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The store contract: every test runs on SQLite and on PostgreSQL (where reachable)."""
    from iotscope.store import open_store

    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'vulns.db'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()
