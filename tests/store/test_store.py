"""The store contract: one suite, run against SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, text

from iotscope.records import C2Candidate, C2Run, Finding, Identity, Login, Sighting, Survey
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


# -- C2 runs and history ------------------------------------------------------------------------
def _cand(ip: str, site: str = "isp-a", score: float = 0.9, hours: int = 0) -> C2Candidate:
    return C2Candidate(
        ip=ipaddress.ip_address(ip),
        port=23,
        proto="tcp",
        score=score,
        clients=3,
        infected_clients=1,
        first_seen=FIXED_NOW + timedelta(hours=hours),
        last_seen=FIXED_NOW + timedelta(hours=hours, minutes=50),
        reasons=(f"run {hours}",),
        site=site,
    )


def _run(rid: str, hours: int, site: str = "isp-a", n: int = 1) -> C2Run:
    return C2Run(
        id=rid,
        site=site,
        since=FIXED_NOW + timedelta(hours=hours),
        until=FIXED_NOW + timedelta(hours=hours + 1),
        params={"threshold": 0.5},
        started=FIXED_NOW + timedelta(hours=hours + 1, minutes=1),
        finished=FIXED_NOW + timedelta(hours=hours + 1, minutes=2),
        counts={"candidates": n},
    )


def test_every_run_is_kept(store: Store) -> None:
    store.save_c2_run(_run("r0", 0), [_cand("203.0.113.5", hours=0)])
    store.save_c2_run(_run("r1", 1, n=2), [_cand("203.0.113.5", hours=1), _cand("203.0.113.6")])
    store.save_c2_run(_run("r1", 1, site="isp-b"), [_cand("203.0.113.5", "isp-b", hours=1)])
    assert [(r.id, r.site) for r in store.c2_runs("isp-a")] == [("r1", "isp-a"), ("r0", "isp-a")]
    assert {r.site for r in store.c2_runs(None)} == {"isp-a", "isp-b"}
    assert store.c2_runs("isp-a", limit=1) == [_run("r1", 1, n=2)]
    assert store.c2_run_candidates("r0", "isp-a") == [_cand("203.0.113.5", hours=0)]
    assert len(store.c2_run_candidates("r1", None)) == 3
    latest = store.c2_candidates("isp-a")
    assert {str(c.ip) for c in latest} == {"203.0.113.5", "203.0.113.6"}
    assert all(c.reasons in (("run 1",), ("run 0",)) for c in latest)
    assert store.c2_candidates("isp-b") == [_cand("203.0.113.5", "isp-b", hours=1)]


def test_newest_run_without_candidates_clears_the_site(store: Store) -> None:
    store.save_c2_run(_run("r0", 0), [_cand("203.0.113.5")])
    store.save_c2_run(_run("r1", 1, n=0), [])
    assert store.c2_candidates("isp-a") == []
    assert len(store.c2_history("203.0.113.5", site="isp-a")) == 1


def test_resaving_a_run_is_idempotent_and_replaces_its_set(store: Store) -> None:
    run = _run("r0", 0, n=2)
    both = [_cand("203.0.113.5"), _cand("203.0.113.6")]
    store.save_c2_run(run, both)
    store.save_c2_run(run, both)
    assert len(store.c2_run_candidates("r0", "isp-a")) == 2
    store.save_c2_run(run, both[:1])
    assert store.c2_run_candidates("r0", "isp-a") == both[:1]
    assert len(store.c2_runs(None)) == 1


def test_a_candidate_of_another_site_is_refused(store: Store) -> None:
    from iotscope.errors import StoreError

    with pytest.raises(StoreError):
        store.save_c2_run(_run("r0", 0), [_cand("203.0.113.5", site="isp-b")])


def test_history_of_an_endpoint(store: Store) -> None:
    for h in range(3):
        found = [_cand("203.0.113.5", hours=h, score=0.6 + h / 10)] if h != 1 else []
        store.save_c2_run(_run(f"r{h}", h), found)
    store.save_c2_run(_run("rb", 2, site="isp-b"), [_cand("203.0.113.5", "isp-b", hours=2)])
    got = store.c2_history("203.0.113.5", site="isp-a", port=23)
    assert [(r.id, c.score, c.reasons) for r, c in got] == [
        ("r0", 0.6, ("run 0",)),
        ("r2", 0.8, ("run 2",)),
    ]
    assert len(store.c2_history("203.0.113.5", site=None)) == 3
    assert store.c2_history("203.0.113.5", site="isp-a", port=80) == []
    assert store.c2_runs_since({"isp-a": FIXED_NOW, "isp-b": FIXED_NOW}) == {"isp-a": 3, "isp-b": 1}
    late = FIXED_NOW + timedelta(hours=2, minutes=30)
    assert store.c2_runs_since({"isp-a": late}) == {"isp-a": 1}


def test_legacy_save_c2_candidates_is_an_adhoc_run(store: Store) -> None:
    store.save_c2_candidates([_cand("203.0.113.5"), _cand("203.0.113.7", "isp-b")], run_id="x")
    assert {(r.id, r.site, r.engine) for r in store.c2_runs(None)} == {
        ("x", "isp-a", "unknown"),
        ("x", "isp-b", "unknown"),
    }


# -- sightings merged across captures -----------------------------------------------------------
def _seen(
    src: str, t0: int, t1: int, packets: int, ports: dict[int, int], **kw: object
) -> Sighting:
    return Sighting.model_validate(
        {
            "src": src,
            "first_seen": FIXED_NOW + timedelta(minutes=t0),
            "last_seen": FIXED_NOW + timedelta(minutes=t1),
            "packets": packets,
            "targets": kw.get("targets", packets),
            "ports": ports,
            "mirai_fingerprint": kw.get("mirai", 1.0),
            "classification": kw.get("cls", "mirai"),
        }
    )


def _span(t0: int, t1: int) -> tuple[datetime, datetime]:
    return FIXED_NOW + timedelta(minutes=t0), FIXED_NOW + timedelta(minutes=t1)


def test_overlapping_captures_merge_into_one_sighting(store: Store) -> None:
    # capture A covers minutes 0-60; B 30-90, whose packets before minute 60 were skipped
    a = _seen("198.51.100.1", 5, 58, 10, {23: 8, 2323: 2}, targets=9)
    b = _seen("198.51.100.1", 61, 80, 4, {23: 4}, targets=4, mirai=0.5)
    store.save_sightings([a], capture_id="A", span=_span(0, 60))
    assert store.save_sightings([b], capture_id="B", span=_span(30, 90)) == 1
    assert store.save_sightings([b], capture_id="B", span=_span(30, 90)) == 0
    (merged,) = store.sightings()
    assert (merged.first_seen, merged.last_seen) == (a.first_seen, b.last_seen)
    assert merged.packets == 14 and merged.ports == {23: 12, 2323: 2}
    assert merged.targets == 9 and merged.classification == "mirai"
    assert merged.mirai_fingerprint == pytest.approx((10 + 2) / 14)
    assert store.capture_spans("telescope") == [_span(0, 60), _span(30, 90)]
    assert store.has_capture("telescope", "A") and not store.has_capture("telescope", "C")


def test_captures_apart_stay_apart_until_a_capture_bridges_them(store: Store) -> None:
    store.save_sightings([_seen("198.51.100.1", 0, 10, 3, {23: 3})], capture_id="A",
                         span=_span(0, 10))  # fmt: skip
    store.save_sightings([_seen("198.51.100.1", 50, 60, 2, {23: 2})], capture_id="C",
                         span=_span(50, 60))  # fmt: skip
    assert sorted(x.packets for x in store.sightings()) == [2, 3]
    store.save_sightings([_seen("198.51.100.2", 20, 30, 1, {80: 1}, cls="other")],
                         capture_id="B", span=_span(9, 51))  # fmt: skip
    got = {str(x.src): x for x in store.sightings()}
    assert got["198.51.100.1"].packets == 5 and got["198.51.100.2"].packets == 1
    assert got["198.51.100.1"].last_seen == FIXED_NOW + timedelta(minutes=60)


def test_known_hosts_by_kind_in_sql(store: Store) -> None:
    store.save_survey(_survey())
    store.save_findings([_finding(23, "accepted"), _finding(80, "rejected")])
    store.save_sightings([_seen("198.51.100.1", 0, 1, 3, {23: 3}),
                          _seen("198.51.100.2", 0, 1, 3, {80: 3}, cls="research")])  # fmt: skip
    assert store.known_hosts() == [("198.51.100.1", "infected")]
    assert store.known_hosts(("weak_login",)) == [("127.77.0.10", "weak_login")]
    assert store.known_hosts(("infected", "weak_login")) == [
        ("127.77.0.10", "weak_login"),
        ("198.51.100.1", "infected"),
    ]
    from iotscope.errors import ConfigError

    with pytest.raises(ConfigError):
        store.known_hosts(("bot",))


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


def test_upgrade_from_0001_keeps_candidates_and_sightings(fresh_url: str) -> None:
    from iotscope.store import make_engine, upgrade
    from iotscope.store._store import Store

    engine = make_engine(fresh_url)
    upgrade(engine, "0001")
    old_c2 = _cand("203.0.113.5")
    old_seen = [_seen("198.51.100.1", 0, 5, 3, {23: 3}), _seen("198.51.100.1", 30, 35, 2, {23: 2})]
    cols = ", ".join(_OLD_C2)
    with engine.begin() as conn:
        row = _cand_row(old_c2)
        conn.execute(
            text(f"INSERT INTO c2_candidates ({cols}) VALUES (:{', :'.join(_OLD_C2)})"), row
        )
    Store(engine)._upsert(_old_sightings(), [_sighting_row(x) for x in old_seen])
    upgrade(engine)
    store = Store(engine)
    (run,) = store.c2_runs("isp-a")
    assert run.id == "migrated-0001" and run.counts == {"candidates": 1}
    assert store.c2_candidates("isp-a") == [old_c2]
    assert sorted(x.packets for x in store.sightings()) == [2, 3]
    store.save_sightings([_seen("198.51.100.1", 6, 29, 1, {23: 1})], capture_id="new",
                         span=_span(5, 30))  # fmt: skip
    (merged,) = store.sightings()
    assert merged.packets == 6
    engine.dispose()


_OLD_C2 = ("site", "ip", "port", "proto", "score", "clients", "infected_clients", "first_seen",
           "last_seen", "reasons")  # fmt: skip


def _cand_row(c: C2Candidate) -> dict[str, object]:
    import json

    row = c.model_dump(mode="json")
    row.update(first_seen=c.first_seen, last_seen=c.last_seen, reasons=json.dumps(c.reasons))
    return {k: row[k] for k in _OLD_C2}


def _old_sightings() -> Table:
    from iotscope.store._schema import sightings

    return sightings


def _sighting_row(x: Sighting) -> dict[str, object]:
    row = x.model_dump(mode="json")
    row.update(first_seen=x.first_seen, last_seen=x.last_seen)
    return row


def test_downgrade_to_0001_keeps_each_sites_newest_run(fresh_url: str) -> None:
    from alembic import command

    from iotscope.store import make_engine, upgrade
    from iotscope.store._migrate import alembic_config

    engine = make_engine(fresh_url)
    upgrade(engine)
    store = Store(engine)
    store.save_c2_run(_run("r0", 0), [_cand("203.0.113.5", hours=0)])
    store.save_c2_run(_run("r1", 1), [_cand("203.0.113.6", hours=1)])
    command.downgrade(alembic_config(engine), "0001")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT site, ip FROM c2_candidates")).all()
    assert [tuple(r) for r in rows] == [("isp-a", "203.0.113.6")]
    upgrade(engine)
    assert [str(c.ip) for c in Store(engine).c2_candidates("isp-a")] == ["203.0.113.6"]
    engine.dispose()


def test_a_banner_with_nul_bytes_is_kept_on_every_backend(store: Store) -> None:
    """PostgreSQL text refuses NUL; real banners hold it (telnet negotiation, binary services)."""
    store.save_survey(_survey())
    raw = "\xff\xfb\x01\x00\x00BusyBox login:"
    store.save_findings([_finding().model_copy(update={"banner": raw})])
    (got,) = store.findings()
    assert got.banner == raw.replace("\x00", "\u2400")
    assert got.banner.endswith("BusyBox login:")
