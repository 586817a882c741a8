"""KPIs as data: the shipped definitions, targets, scopes, and each computation over a store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, insert

from iotscope.centre._kpi import (
    NATIONAL,
    judge,
    load_kpis,
    parse_kpis,
    period_start,
    scopes_for,
)
from iotscope.centre._kpi_data import COMPUTATIONS, NO_SUBSCRIBERS, compute
from iotscope.errors import ConfigError
from iotscope.share.stix import ts
from iotscope.store import Store, open_store
from iotscope.store._schema import c2_candidates, c2_runs
from iotscope.store._schema_attribution import leases
from iotscope.store._schema_centre import isp_subscribers
from iotscope.store._schema_followup import followup_checks, followup_subjects
from iotscope.store._schema_isp import isp_published
from iotscope.store.centre import C2Contact, RegionCount, save_c2_contacts, save_region_counts
from iotscope.tenancy import CENTRE, Principal

T0 = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday
KPIS = {k.id: k for k in load_kpis()}


def _insert(store: Store, table: Table, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(table), rows)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('kpi') / 'db.sqlite'}")
    counts = [RegionCount(isp, T0.date() + timedelta(days=d), "13", "Tokyo", kind, n + d)
              for isp in ("A", "B", "C") for d in range(10)
              for kind, n in (("weak", 20), ("infected", 4))]  # fmt: skip
    save_region_counts(s, CENTRE, counts)
    _insert(s, isp_subscribers, [{"isp": "B", "day": T0.date(), "subscribers": 400},
                                 {"isp": "B", "day": T0.date() + timedelta(days=7),
                                  "subscribers": 500}])  # fmt: skip
    _insert(s, leases, [{"isp": "A", "address": f"127.64.0.{i}", "start": T0, "end": None,
                         "subscriber_id": f"s{i}"} for i in range(200)])  # fmt: skip
    save_c2_contacts(s, CENTRE, [
        C2Contact(isp, "127.200.0.1", 23, "mirai", "b1", T0.date() + timedelta(days=d),
                  T0 + timedelta(days=d), T0 + timedelta(days=d, hours=5), 3)
        for isp, days in (("A", range(6)), ("B", range(3))) for d in days
    ])  # fmt: skip
    _insert(s, c2_runs, [{"id": "r1", "site": "A", "since": None, "until": None,
                          "engine": "duckdb", "params": {}, "started": T0,
                          "finished": T0 + timedelta(minutes=2), "counts": {}}])  # fmt: skip
    _insert(
        s,
        isp_published,
        [
            {
                "site": "A",
                "object_id": f"indicator--{i}",
                "type": "indicator",
                "ip": "127.200.0.1",
                "port": 23,
                "proto": "tcp",
                "version": 1,
                "modified": None,
                "content_hash": "h",
                "status": "active",
                "object": {"created": ts(T0 + timedelta(minutes=2 + m))},
                "run_id": "r-later",
                "updated": T0 + timedelta(days=1),
            }
            for i, m in ((1, 10), (2, 20), (3, 30))
        ],
    )  # fmt: skip  (the row is the newest version: only the object's ``created`` is the first)
    _insert(s, c2_candidates, [{
        "run_id": "r1", "site": "A", "ip": "127.200.0.1", "port": 23, "proto": "tcp",
        "score": 0.8, "clients": 3, "infected_clients": 3, "first_seen": T0, "last_seen": T0,
        "reasons": []}])  # fmt: skip
    subjects = [{"id": f"u{i}", "trial": "t", "isp": "A", "subscriber_id": f"s{i}",
                 "ip": "127.64.0.1", "port": 23, "finding_time": T0, "kind": "weak",
                 "identity": {}, "arm": "notified", "notice_id": None, "channel": "email",
                 "variant": "A", "notified": T0, "notify_after": None, "assigned": T0}
                for i in range(4)]  # fmt: skip
    _insert(s, followup_subjects, subjects)
    checks = [("u0", 10, "remediated"), ("u1", 40, "remediated"), ("u2", 20, "still_weak"),
              ("u3", 45, "still_weak")]  # fmt: skip
    _insert(s, followup_checks, [{"subject_id": sid, "round": 1, "checked": T0 + timedelta(days=d),
                                  "backend": "simulated", "address": None, "state": st,
                                  "evidence": {}} for sid, d, st in checks])  # fmt: skip
    return s


def test_shipped_kpis_are_valid_and_computable() -> None:
    assert len(KPIS) == 7
    for k in KPIS.values():
        assert k.computation[0] in COMPUTATIONS
        assert k.name_ja and k.name_en and k.unit


def test_bad_definitions_say_where() -> None:
    with pytest.raises(ConfigError, match="lacks fields"):
        parse_kpis('[[kpi]]\nid = "x"\n')
    good = Path(__file__).parents[2] / "src/iotscope/centre/kpis.toml"
    text = good.read_text("utf-8").replace('direction = "lower"', 'direction = "down"', 1)
    with pytest.raises(ConfigError, match="bad KPI field"):
        parse_kpis(text)
    with pytest.raises(ConfigError, match="not TOML"):
        parse_kpis("[[kpi]")


def test_judge_and_periods() -> None:
    weak, share = KPIS["weak_login_per_10k"], KPIS["remediated_30d"]
    assert judge(weak, 4.0) is True and judge(weak, 6.0) is False and judge(weak, None) is None
    assert judge(share, 0.6) is True and judge(share, 0.4) is False
    assert period_start(date(2026, 10, 8), "week") == date(2026, 10, 5)
    assert period_start(date(2026, 10, 8), "day") == date(2026, 10, 8)


def test_scopes_by_role() -> None:
    scopes = [NATIONAL, "A", "B"]
    assert scopes_for(CENTRE, scopes) == [NATIONAL, "A", "B"]
    assert scopes_for(Principal("isp", "B"), scopes) == [NATIONAL, "B"]
    assert scopes_for(Principal("manufacturer", "Acme"), scopes) == [NATIONAL]


def test_rate_per_subscribers_and_no_fake_zero(store: Store) -> None:
    points = compute(store, KPIS["weak_login_per_10k"])
    a = [p for p in points if p.scope == "A"]
    assert a[0].value == pytest.approx((20 + 6) * 10_000 / 200)  # the week's last day: day 6
    b = [p.value for p in points if p.scope == "B"]  # the count in force: 400, then 500
    assert b == pytest.approx([26 * 10_000 / 400, 29 * 10_000 / 500])
    c = [p for p in points if p.scope == "C"]
    assert c and all(p.value is None and p.reason == NO_SUBSCRIBERS for p in c)
    national = [p for p in points if p.scope == NATIONAL]
    assert national[0].value == pytest.approx(52 * 10_000 / 600)  # only ISPs with a count


def test_counts_coverage_remediation_and_sharing(store: Store) -> None:
    infected = compute(store, KPIS["infected_per_10k"])
    assert next(p.value for p in infected if p.scope == "A") == pytest.approx(4 * 10_000 / 200)
    coverage = {p.period: p.value for p in compute(store, KPIS["vantage_coverage"])}
    assert coverage[T0.date()] == 1.0 and coverage[T0.date() + timedelta(days=4)] == 0.5
    (remedied,) = [p for p in compute(store, KPIS["remediated_30d"]) if p.scope == "A"]
    assert (remedied.value, remedied.n) == (0.25, 4)  # u0 only: u1 fixed after 30 days
    (delay,) = [p for p in compute(store, KPIS["detection_to_share_minutes"]) if p.scope == "A"]
    # from the C2's first contact in the flows (T0) to first publication: 12, 22, 32 minutes
    assert delay.value == pytest.approx(22.0) and delay.n == 3
    (life,) = [p for p in compute(store, KPIS["c2_lifetime_after_share_days"]) if p.scope == "A"]
    assert life.value == pytest.approx(5 + 5 / 24 - 12 / 1440, abs=1e-3)


def test_empty_store_has_no_points(tmp_path: Path) -> None:
    empty = open_store(f"sqlite:///{tmp_path / 'e.sqlite'}")
    for k in KPIS.values():
        assert compute(empty, k) == []
