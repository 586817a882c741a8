"""The notice campaign's notices and follow-up, written by the real notify and followup code,
checked against the world's truth, and every KPI of ``kpis.toml`` fed by a month world."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from iotscope.centre._kpi import NATIONAL, load_kpis
from iotscope.centre._kpi_data import compute, remediated_within
from iotscope.followup import checks, subjects
from iotscope.lab.month import MonthWorld, generate, load, truth
from iotscope.lab.month._followup import ROUND_EVERY, campaign, trial_name
from iotscope.notify import list_notices
from iotscope.store import Store, open_store
from iotscope.tenancy import CENTRE

# long enough that a re-check comes 30 days after the campaign (day 16-31 of 64)
LONG_DAYS = 64


@pytest.fixture(scope="module")
def long_world() -> MonthWorld:
    return generate(5, devices=600, isps=5, days=LONG_DAYS)


@pytest.fixture(scope="module")
def long_store(long_world: MonthWorld, tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('month') / 'db.sqlite'}")
    load(store, long_world)
    return store


def test_notices_are_sent_on_the_campaign_day(long_world: MonthWorld, long_store: Store) -> None:
    a = campaign(long_world)
    assert a is not None and a.isp is not None
    isp = long_world.isps[a.isp].name
    notices = list_notices(long_store, CENTRE, isp)
    assert notices and all(n.kind == "weak_login" and n.channel == "landing" for n in notices)
    assert {n.sent for n in notices} == {long_world.day_start(a.day) + timedelta(hours=9)}
    facts = truth(long_world)["followup"]
    # every notified subscriber had a weak login (the survey misses devices that were off)
    assert {n.subscriber_id for n in notices} <= set(facts["fixed_day_by_subscriber"])
    assert len(notices) >= 0.8 * facts["weak_devices"]


def test_each_recheck_agrees_with_the_truth(long_world: MonthWorld, long_store: Store) -> None:
    """A re-check says remediated exactly when the device's login was no longer weak by the
    check's day (still_weak otherwise); the rounds come every week and at the month's close."""
    a = campaign(long_world)
    assert a is not None and a.isp is not None
    isp = long_world.isps[a.isp].name
    fixed = truth(long_world)["followup"]["fixed_day_by_subscriber"]
    sub_of = {
        x.id: x.subscriber_id for x in subjects(long_store, CENTRE, isp, trial_name(long_world))
    }
    found = checks(long_store, CENTRE, isp, trial_name(long_world))
    rounds = sorted({c.round for c in found})
    assert rounds[:3] == [ROUND_EVERY, 2 * ROUND_EVERY, 3 * ROUND_EVERY]
    judged = 0
    for c in found:
        if c.state not in ("remediated", "still_weak"):
            continue
        day = min((c.checked - long_world.start) // timedelta(days=1), long_world.days - 1)
        when = fixed[sub_of[c.subject_id]]
        assert (c.state == "remediated") == (when is not None and when <= day), c
        judged += 1
    assert judged >= 0.8 * len(found)


def test_remediated_within_30_days_matches_the_truth(
    long_world: MonthWorld, long_store: Store
) -> None:
    facts = truth(long_world)["followup"]
    points = [p for p in remediated_within(long_store, 30, "week") if p.scope == NATIONAL]
    assert len(points) == 1 and points[0].value is not None
    assert points[0].value == pytest.approx(facts["share_fixed_within_30_days"], abs=0.1)


def test_every_kpi_has_data_in_the_month_world(long_store: Store) -> None:
    for kpi in load_kpis():
        valued = [p for p in compute(long_store, kpi) if p.value is not None]
        assert valued, f"KPI {kpi.id} has no data in the month world"


def test_a_short_month_says_why_the_30_day_share_is_missing(
    world: MonthWorld, tmp_path: Path
) -> None:
    """14 days: every notice is younger than 30 days at the last re-check: points without a
    value that say so, never a zero."""
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    loaded = load(store, world)
    assert loaded.notices > 0 and loaded.followup_checks > 0
    points = remediated_within(store, 30, "week")
    assert points and all(p.value is None and "younger than 30 days" in p.reason for p in points)


def test_followup_truth_is_json_ready(facts: dict[str, Any]) -> None:
    fu = facts["followup"]
    assert fu["share_fixed_within_30_days"] is None  # a 14-day world cannot say
    assert all(d is None or fu["campaign_day"] <= d for d in fu["fixed_day_by_subscriber"].values())
