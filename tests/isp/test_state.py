"""Publish state and outbox on SQLite and PostgreSQL: a committed plan reads back as the
state the next plan starts from; envelopes move pending -> sent or dead, retries wait."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from iotscope.isp import plan
from iotscope.isp._state import (
    commit_plan,
    fetch_object,
    load_published,
    mark_failed,
    mark_sent,
    next_attempt,
    outbox,
    pending,
)
from iotscope.records import C2Candidate
from iotscope.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "sqlite":
        return open_store()
    return open_store(request.getfixturevalue("pg_schema_url"))


def cand(ip: str, now: datetime) -> C2Candidate:
    return C2Candidate(
        ip=ipaddress.ip_address(ip), port=23, proto="tcp", score=0.7, clients=3,
        infected_clients=2, first_seen=now - timedelta(hours=1), last_seen=now, site="isp-a",
    )  # fmt: skip


def test_state_round_trip_and_outbox(store: Store, fixed_now: datetime) -> None:
    first = plan([cand("198.51.100.7", fixed_now)], "isp-a", {}, fixed_now)
    (entry_id,) = commit_plan(store, "isp-a", first, "run-1", fixed_now)
    state = load_published(store, "isp-a")
    assert {p.object_id for p in state.values()} == {r.object_id for r in first.rows}
    ind = next(p for p in state.values() if p.type == "indicator")
    assert ind.endpoint == ("198.51.100.7", 23, "tcp") and ind.version == 1
    again = plan([cand("198.51.100.7", fixed_now)], "isp-a", state, fixed_now)
    assert again.objects == [] and commit_plan(store, "isp-a", again, "run-2", fixed_now) == []
    assert load_published(store, "isp-b") == {}  # per site
    lazy = load_published(store, "isp-a", lazy=True)
    assert {o: p.object is not None for o, p in lazy.items()} == {
        o: p.type == "indicator" for o, p in state.items()}  # fmt: skip
    for oid, row in state.items():
        assert fetch_object(store, "isp-a", oid) == row.object
    assert fetch_object(store, "isp-a", "indicator--nope") is None
    lazily = plan(
        [cand("198.51.100.7", fixed_now + timedelta(days=1))],
        "isp-a",
        lazy,
        fixed_now + timedelta(days=1),
        fetch=lambda o: fetch_object(store, "isp-a", o),
    )
    eager = plan([cand("198.51.100.7", fixed_now + timedelta(days=1))], "isp-a", state,
                 fixed_now + timedelta(days=1))  # fmt: skip
    assert lazily.objects == eager.objects and lazily.counts()["changed"] == 1

    now = datetime.now(UTC)
    (waiting,) = pending(store, "isp-a", now)
    assert waiting.id == entry_id and waiting.objects == first.objects
    mark_failed(store, entry_id, "hub down", now + timedelta(seconds=30))
    assert pending(store, "isp-a", now) == []
    assert next_attempt(store, "isp-a") == now + timedelta(seconds=30)
    mark_sent(store, entry_id, "status-1", now)
    (done,) = outbox(store, "isp-a")
    assert (done.outcome, done.attempts, done.status_id, done.last_error) == (
        "sent", 2, "status-1", None)  # fmt: skip
    assert next_attempt(store, "isp-a") is None
    gone = plan([], "isp-a", state, fixed_now + timedelta(minutes=5))
    (dead_id,) = commit_plan(store, "isp-a", gone, "run-3", fixed_now)
    mark_sent(store, dead_id, None, now, error="rejected: bad envelope")
    assert [e.outcome for e in outbox(store, "isp-a")] == ["sent", "dead"]
    assert next(p for p in load_published(store, "isp-a").values()
                if p.type == "indicator").status == "expired"  # fmt: skip
