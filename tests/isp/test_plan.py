"""The publish diff: new, changed, expired, lapsed and unchanged endpoints, pinned time."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from iotscope.isp import Plan, Published, plan
from iotscope.isp import _content as content
from iotscope.records import C2Candidate
from iotscope.share import stix

SITE = "isp-a"
FIRST = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def cand(ip: str, port: int, now: datetime, *, score: float = 0.7) -> C2Candidate:
    """A candidate first seen at FIRST, last seen at ``now``."""
    return C2Candidate(
        ip=ipaddress.ip_address(ip), port=port, proto="tcp", score=score, clients=5,
        infected_clients=3, first_seen=FIRST, last_seen=now, reasons=("+0.40 bots",), site=SITE,
    )  # fmt: skip


def applied(state: Mapping[str, Published], p: Plan) -> dict[str, Published]:
    """The state after committing ``p`` (what the store does)."""
    return {**state, **{r.object_id: r for r in p.rows}}


def kinds(p: Plan) -> dict[str, str]:
    return {f"{a.endpoint[0]}:{a.endpoint[1]}": a.kind for a in p.actions}


def row_of(p: Plan, kind: str) -> Published:
    (row,) = [r for r in p.rows if r.type == kind]
    return row


def indicator_of(p: Plan, ip: str) -> dict[str, object]:
    return next(o for o in p.objects if o["type"] == "indicator" and ip in str(o["pattern"]))


def test_first_run_publishes_every_candidate_once_as_new(fixed_now: datetime) -> None:
    found = [cand("198.51.100.7", 23, fixed_now), cand("198.51.100.8", 6667, fixed_now),
             cand("198.51.100.7", 23, fixed_now, score=0.6)]  # fmt: skip
    p = plan(found, SITE, {}, fixed_now)
    assert kinds(p) == {"198.51.100.7:23": "new", "198.51.100.8:6667": "new"}
    ind = indicator_of(p, "198.51.100.7")
    assert ind["created"] == ind["modified"] == content.ts(fixed_now)
    assert ind["confidence"] == stix.confidence(0.7)  # the best of that endpoint's two rows
    assert {r.version for r in p.rows} == {1} and len(p.rows) == len(p.objects)
    assert {r.status for r in p.rows} == {"active"}
    assert p.counts()["new"] == 2


def test_same_candidates_again_publish_nothing(fixed_now: datetime) -> None:
    found = [cand("198.51.100.7", 23, fixed_now)]
    state = applied({}, plan(found, SITE, {}, fixed_now))
    later = fixed_now + timedelta(minutes=5)
    p = plan([cand("198.51.100.7", 23, fixed_now)], SITE, state, later)
    assert kinds(p) == {"198.51.100.7:23": "unchanged"}
    assert p.objects == [] and p.rows == []


def test_seen_again_is_a_new_version_only_past_the_refresh(fixed_now: datetime) -> None:
    state = applied({}, plan([cand("198.51.100.7", 23, fixed_now)], SITE, {}, fixed_now))
    soon = fixed_now + timedelta(hours=1)
    p = plan([cand("198.51.100.7", 23, soon)], SITE, state, soon, refresh=timedelta(hours=6))
    assert kinds(p) == {"198.51.100.7:23": "unchanged"} and p.objects == []
    late = fixed_now + timedelta(hours=7)
    p = plan([cand("198.51.100.7", 23, late)], SITE, state, late, refresh=timedelta(hours=6))
    assert kinds(p) == {"198.51.100.7:23": "changed"}
    ind = indicator_of(p, "198.51.100.7")
    assert ind["created"] == content.ts(fixed_now) and ind["modified"] == content.ts(late)
    assert ind["valid_until"] == content.ts(late + content.TTL)
    assert row_of(p, "indicator").version == 2


def test_a_changed_score_is_a_new_version_at_once(fixed_now: datetime) -> None:
    state = applied({}, plan([cand("198.51.100.7", 23, fixed_now)], SITE, {}, fixed_now))
    now = fixed_now + timedelta(minutes=5)
    p = plan([cand("198.51.100.7", 23, fixed_now, score=0.8)], SITE, state, now)
    assert kinds(p) == {"198.51.100.7:23": "changed"}
    assert indicator_of(p, "198.51.100.7")["confidence"] == stix.confidence(0.8)


def test_gone_from_the_run_is_expired_once(fixed_now: datetime) -> None:
    found = [cand("198.51.100.7", 23, fixed_now), cand("198.51.100.8", 23, fixed_now)]
    state = applied({}, plan(found, SITE, {}, fixed_now))
    now = fixed_now + timedelta(minutes=5)
    p = plan(found[:1], SITE, state, now)
    assert kinds(p) == {"198.51.100.7:23": "unchanged", "198.51.100.8:23": "expired"}
    gone = indicator_of(p, "198.51.100.8")
    assert gone["valid_until"] == content.ts(now) and gone["modified"] == content.ts(now)
    assert gone["created"] == content.ts(fixed_now)
    assert [r.status for r in p.rows] == ["expired"]
    state = applied(state, p)
    again = plan(found[:1], SITE, state, now + timedelta(minutes=5))
    assert again.objects == [] and "198.51.100.8:23" not in kinds(again)


def test_expired_and_back_is_changed_not_new(fixed_now: datetime) -> None:
    found = [cand("198.51.100.8", 23, fixed_now)]
    state = applied({}, plan(found, SITE, {}, fixed_now))
    state = applied(state, plan([], SITE, state, fixed_now + timedelta(minutes=5)))
    back = fixed_now + timedelta(minutes=10)
    p = plan([cand("198.51.100.8", 23, back)], SITE, state, back)
    assert kinds(p) == {"198.51.100.8:23": "changed"}
    assert row_of(p, "indicator").version == 3 and row_of(p, "indicator").status == "active"


def test_validity_already_past_is_only_marked(fixed_now: datetime) -> None:
    state = applied({}, plan([cand("198.51.100.8", 23, fixed_now)], SITE, {}, fixed_now))
    much_later = fixed_now + content.TTL + timedelta(days=1)
    p = plan([], SITE, state, much_later)
    assert kinds(p) == {"198.51.100.8:23": "lapsed"} and p.objects == []
    assert [r.status for r in p.rows] == ["expired"]


def test_a_revoked_indicator_stays_revoked(fixed_now: datetime) -> None:
    state = applied({}, plan([cand("198.51.100.9", 23, fixed_now)], SITE, {}, fixed_now))
    iid = content.indicator_id("198.51.100.9", 23, "tcp")
    revoked = {**state[iid].object, "revoked": True}
    state[iid] = Published(**{**state[iid].__dict__, "status": "revoked", "object": revoked})
    now = fixed_now + timedelta(hours=12)
    p = plan([cand("198.51.100.9", 23, now, score=0.95)], SITE, state, now)
    assert kinds(p) == {"198.51.100.9:23": "unchanged"} and p.objects == []
    assert plan([], SITE, state, now).objects == []  # and is not expired either


def test_content_hash_ignores_version_times(fixed_now: datetime) -> None:
    from iotscope.isp import content_hash

    a = plan([cand("198.51.100.7", 23, fixed_now)], SITE, {}, fixed_now).objects[0]
    b = {**a, "created": "2030-01-01T00:00:00.000Z", "modified": "2030-01-01T00:00:00.000Z"}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "confidence": 1})


def test_what_a_plan_sends_is_valid_stix(fixed_now: datetime) -> None:
    """The first versions, a changed version and an expiry all pass the OASIS validator."""
    from tests.share.stixcheck import validate

    found = [cand("198.51.100.7", 23, fixed_now), cand("198.51.100.8", 6667, fixed_now)]
    first = plan(found, SITE, {}, fixed_now)
    validate(first.objects)
    state = applied({}, first)
    later = fixed_now + timedelta(hours=1)
    second = plan([cand("198.51.100.7", 23, fixed_now, score=0.8)], SITE, state, later)
    assert kinds(second) == {"198.51.100.7:23": "changed", "198.51.100.8:6667": "expired"}
    validate(second.objects, enforce_refs=False)
