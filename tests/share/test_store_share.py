"""The sharing tables' store functions, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.records import C2Candidate
from iotscope.share import partners, stix
from iotscope.store import Store, _share, open_store

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'share.db'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()


def test_published_versions_per_isp(store: Store) -> None:
    c = C2Candidate(ip="198.51.100.7", port=23, proto="tcp", score=0.6, clients=2,
                    infected_clients=2, first_seen=NOW, last_seen=NOW, site="isp-a")  # fmt: skip
    objs = stix.c2_bundle_objects([c], "isp-a", NOW)
    assert _share.save_published(store, "isp-a", objs, NOW) == len(objs)
    mine = _share.published(store, "isp-a")
    assert mine == {o["id"]: o for o in objs}
    assert _share.published(store, "isp-b") == {}  # another tenant's rows stay its own
    ind = stix.indicator_id("198.51.100.7", 23, "tcp")
    gone = stix.revoke(mine[ind], NOW + timedelta(hours=1))
    _share.save_published(store, "isp-a", [gone], NOW + timedelta(hours=1))
    assert _share.published(store, "isp-a", kind="indicator") == {ind: gone}


def test_answers_and_imports(store: Store) -> None:
    for isp in ("isp-b", "isp-a"):
        _share.save_answer(store, {"window": "w1", "isp": isp, "created": "2026-11-01T03:00:00Z",
                                   "detector": {"threshold": 0.5}, "candidates": []})  # fmt: skip
    assert [a["isp"] for a in _share.answers(store, "w1")] == ["isp-a", "isp-b"]
    assert _share.answers(store, "w2") == []
    res = partners.parse(b"not json", "p", "misp", NOW)
    assert _share.record_import(store, res.row(NOW)) is True
    assert _share.record_import(store, res.row(NOW)) is False
    (row,) = _share.imports(store, "p")
    assert row["skipped"] == 1 and row["errors"][0]["where"] == "file"
