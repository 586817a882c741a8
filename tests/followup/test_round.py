"""Enrolment, a round with a scripted backend, the states, tenancy, the landing-page status."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from iotscope.followup import (
    AccessError,
    LeaseBook,
    LeaseRow,
    Observation,
    Subject,
    checks,
    classify,
    estimate,
    holdout_due,
    make_subject,
    notice_status,
    run_round,
    save_subjects,
    split_holdout,
    subjects,
    with_notice,
)
from iotscope.records import Sighting
from iotscope.store import Store
from iotscope.tenancy import CENTRE, Principal

T0 = datetime(2026, 10, 1, tzinfo=UTC)
CAM = {"vendor": "Hikvision", "product": "DS-2CD", "model": "DS-2CD2032"}


@dataclass(frozen=True)
class F:
    ip: str
    port: int
    finding_time: datetime
    subscriber_id: str
    kind: str = "weak_login"


class Scripted:
    """A re-check backend that answers from a table: address -> (identity, exposed)."""

    name = "scripted"

    def __init__(self, answers: dict[str, tuple[dict[str, str | None], bool]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def recheck(self, targets: Sequence[tuple[Subject, str]], when: datetime) -> list[
            Observation | None]:  # fmt: skip
        out: list[Observation | None] = []
        for _, address in targets:
            self.asked.append(address)
            hit = self.answers.get(address)
            out.append(None if hit is None else Observation(address, hit[0], hit[1]))
        return out


def _enrol(store: Store) -> list[Subject]:
    found = [F(f"127.81.0.{i}", 23, T0, f"sub-{i}") for i in range(1, 7)]
    rows = []
    for f in found:
        x = make_subject("t1", "Kumo", f, CAM, T0)
        rows.append(with_notice(x, f"n-{f.subscriber_id}", "email", "A", T0))
    rows[5] = make_subject("t1", "Kumo", found[5], CAM, T0, T0 + timedelta(days=60))
    save_subjects(store, CENTRE, rows)
    return rows


def test_split_holdout_is_random_and_complete() -> None:
    items = list(range(100))
    now, held = split_holdout(items, 0.2, random.Random(1))
    assert len(held) == 20 and sorted(now + held) == items
    assert split_holdout(items, 0.2, random.Random(2))[1] != held
    with pytest.raises(ValueError):
        split_holdout(items, 1.0, random.Random(1))


def test_a_round_concludes_each_state(store: Store) -> None:
    _enrol(store)
    when = T0 + timedelta(days=14)
    leases = LeaseBook([
        LeaseRow("127.81.0.1", T0 - timedelta(days=9), None, "sub-1"),  # fixed
        LeaseRow("127.81.0.2", T0 - timedelta(days=9), T0 + timedelta(days=3), "sub-2"),
        LeaseRow("127.81.0.200", T0 + timedelta(days=3), None, "sub-2"),  # moved, still weak
        LeaseRow("127.81.0.3", T0 - timedelta(days=9), None, "sub-3"),  # replaced
        LeaseRow("127.81.0.4", T0 - timedelta(days=9), None, "sub-4"),  # scanning again
        # sub-5 holds no address any more; sub-6 (holdout) does not answer
        LeaseRow("127.81.0.5", T0 - timedelta(days=9), T0 + timedelta(days=1), "sub-5"),
        LeaseRow("127.81.0.6", T0 - timedelta(days=9), None, "sub-6"),
    ])  # fmt: skip
    backend = Scripted({
        "127.81.0.1": (CAM, False), "127.81.0.200": (CAM, True),
        "127.81.0.3": ({"vendor": "TP-Link", "product": "Archer"}, False),
        "127.81.0.4": (CAM, True), "127.81.0.2": ({"vendor": "Other"}, True),
    })  # fmt: skip
    seen = Sighting(src="127.81.0.4", first_seen=when - timedelta(hours=5), last_seen=when,
                    packets=10, targets=10, mirai_fingerprint=1.0,
                    classification="mirai")  # fmt: skip
    store.save_capture("telescope", "cap-1", (when - timedelta(hours=5), when), [seen])
    result = run_round(store, CENTRE, "Kumo", "t1", when, backend, leases)
    assert result.round == 14 and result.moved == 1
    assert "127.81.0.2" not in backend.asked  # the old address now belongs to someone else
    got = {c.evidence["address"]: c.state for c in checks(store, CENTRE, "Kumo", "t1")}
    assert got == {"127.81.0.1": "remediated", "127.81.0.200": "still_weak",
                   "127.81.0.3": "replaced", "127.81.0.4": "reinfected", None: "unreachable",
                   "127.81.0.6": "unreachable"}  # fmt: skip
    status = notice_status(store, "n-sub-1")
    assert status is not None and status["state"] == "remediated" and status["passed"]
    assert notice_status(store, "no-such-notice") is None
    effect = estimate(subjects(store, CENTRE, "Kumo"), checks(store, CENTRE, "Kumo"))
    email = effect.group("email")
    assert (email.remediated.k, email.remediated.n) == (1, 4)  # sub-5 did not answer
    assert effect.group("holdout").remediated.n == 0
    channels = [g for g in effect.groups if g.group != "holdout" and "/" not in g.group]
    assert all(g.family == len(channels) for g in channels)  # one family: the channels
    wide = email.together
    assert (
        wide is not None and wide.low <= email.remediated.low <= email.remediated.high <= wide.high
    )
    assert effect.to_json()["groups"][0]["family"] == 1  # the holdout is a family of its own


def test_an_isp_sees_only_its_own(store: Store) -> None:
    _enrol(store)
    assert holdout_due(store, CENTRE, "Kumo", T0 + timedelta(days=59)) == []
    (due,) = holdout_due(store, CENTRE, "Kumo", T0 + timedelta(days=60))
    assert due.subscriber_id == "sub-6" and due.arm == "holdout"
    other = Principal("isp", "Fuji Access")
    with pytest.raises(AccessError):
        subjects(store, other, "Kumo")
    with pytest.raises(AccessError):
        save_subjects(store, other, subjects(store, CENTRE, "Kumo"))
    assert len(subjects(store, Principal("isp", "Kumo"), "Kumo")) == 6


def test_classify_keeps_a_firmware_update_as_the_same_device() -> None:
    x = make_subject("t", "I", F("127.81.0.1", 23, T0, "s"), {**CAM, "version": "5.4"}, T0)
    seen = Observation("127.81.0.1", {**CAM, "version": "5.7"}, False)
    assert classify(x, "127.81.0.1", seen, False)[0] == "remediated"
    assert classify(x, "127.81.0.1", Observation("127.81.0.1", {}, True), False)[0] == (
        "still_weak")  # fmt: skip
