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


def test_state_cache_follows_commits_and_reloads_when_another_process_queued(
    fixed_now: datetime,
) -> None:
    from iotscope.isp._publish import publish_candidates
    from iotscope.isp._state import StateCache

    store = open_store()
    cache = StateCache()
    p1, _ = publish_candidates(store, "isp-a", [cand("198.51.100.7", fixed_now)], "r1",
                               fixed_now, cache=cache)  # fmt: skip
    assert p1.counts()["new"] == 1
    p2, _ = publish_candidates(store, "isp-a", [cand("198.51.100.7", fixed_now)], "r2",
                               fixed_now, cache=cache)  # fmt: skip
    assert p2.objects == []  # the cached state knew it
    # another publisher (no cache) queues a C2 for the site: the cache must not call it new
    both = [cand("198.51.100.7", fixed_now), cand("198.51.100.9", fixed_now)]
    publish_candidates(store, "isp-a", both, "r3", fixed_now)
    p4, _ = publish_candidates(store, "isp-a", both, "r4", fixed_now, cache=cache)
    assert p4.counts()["new"] == 0 and p4.objects == []


def test_two_publishers_racing_never_both_send_a_c2_as_new(
    store: Store, fixed_now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``isp run`` and a ``share publish`` of one site plan from the same state at once (both
    planning slowed down until each has read it): the second to commit plans again."""
    import threading

    from iotscope.isp import _publish
    from iotscope.isp._publish import publish_candidates

    both_read = threading.Barrier(2, timeout=10)
    calls: list[int] = []
    real_plan = _publish.plan

    def slow_plan(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) <= 2:  # the first round of each thread: both hold the empty state
            both_read.wait()
        return real_plan(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_publish, "plan", slow_plan)
    found = [cand("198.51.100.7", fixed_now)]
    results: list[int] = []

    def publish(run: str) -> None:
        decided, _ = publish_candidates(store, "isp-a", found, run, fixed_now)
        results.append(decided.counts()["new"])

    threads = [threading.Thread(target=publish, args=(f"r{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [0, 1]
    sent = [o for e in outbox(store, "isp-a") for o in e.objects if o["type"] == "indicator"]
    assert len(sent) == 1
