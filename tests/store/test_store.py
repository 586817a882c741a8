"""The store contract: one suite, run against SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from iotscope.records import C2Candidate, Finding, Identity, Login, Sighting, Survey
from iotscope.store import Store, open_store
from iotscope.store._schema import metadata
from tests.conftest import FIXED_NOW


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        st = open_store(request.getfixturevalue("pg_schema_url"))
    yield st
    st.engine.dispose()


def _survey() -> Survey:
    return Survey(id="s1", started=FIXED_NOW, scope=("127.77.0.0/16",), ports=("23",))


def _finding(port: int = 23, outcome: str = "accepted") -> Finding:
    return Finding(
        survey_id="s1",
        ip=ipaddress.ip_address("127.77.0.10"),
        port=port,
        service="telnet",
        time=FIXED_NOW,
        banner="login:",
        identity=Identity(vendor="Xiongmai", product="uc-httpd", version="1.0"),
        login=Login(
            protocol="telnet",
            outcome=outcome,
            username="root",  # type: ignore[arg-type]
            credential="mirai-2016#1",
        ),
        cves=("CVE-2017-7577",),
    )


def test_migrated_schema_matches_metadata(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migration_is_idempotent(store: Store) -> None:
    from iotscope.store import upgrade

    upgrade(store.engine)
    upgrade(store.engine)
    assert store.surveys() == []


def test_findings_round_trip_and_idempotent(store: Store) -> None:
    store.save_survey(_survey())
    store.save_findings([_finding(23), _finding(80)])
    store.save_findings([_finding(23), _finding(80)])
    got = sorted(store.findings("s1"), key=lambda f: f.port)
    assert [f.port for f in got] == [23, 80]
    assert got[0] == _finding(23)


def test_upsert_updates_by_natural_key(store: Store) -> None:
    store.save_findings([_finding(23, "rejected")])
    store.save_findings([_finding(23, "accepted")])
    (only,) = store.findings()
    assert only.login.outcome == "accepted"


def test_survey_update(store: Store) -> None:
    store.save_survey(_survey())
    done = _survey().model_copy(
        update={"finished": FIXED_NOW + timedelta(minutes=5), "counts": {"findings": 2}}
    )
    store.save_survey(done)
    assert store.surveys() == [done]


def test_sightings_and_infected(store: Store) -> None:
    rows = [
        Sighting(
            src=ipaddress.ip_address(f"198.51.100.{i}"),
            first_seen=FIXED_NOW,
            last_seen=FIXED_NOW,
            packets=10,
            targets=5,
            ports={23: 9, 2323: 1},
            mirai_fingerprint=1.0 if i < 2 else 0.0,
            classification="mirai" if i < 2 else "research",
        )
        for i in range(4)
    ]
    store.save_sightings(rows)
    store.save_sightings(rows)
    assert sorted(store.sightings(), key=lambda s: str(s.src)) == rows
    assert store.infected_ips() == {"198.51.100.0", "198.51.100.1"}


def test_c2_candidates(store: Store) -> None:
    c = C2Candidate(
        ip=ipaddress.ip_address("203.0.113.5"),
        port=23,
        proto="tcp",
        score=0.9,
        clients=12,
        infected_clients=4,
        first_seen=FIXED_NOW,
        last_seen=FIXED_NOW,
        reasons=("heartbeat",),
        site="isp-a",
    )
    store.save_c2_candidates([c, c])
    assert store.c2_candidates("isp-a") == [c]
    assert store.c2_candidates("isp-b") == []


def test_bad_url_is_a_store_error() -> None:
    from iotscope.errors import StoreError

    with pytest.raises(StoreError):
        open_store("nosuchdialect://x")
