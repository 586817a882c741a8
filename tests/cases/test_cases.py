"""Refusal cases: criteria as data, four eyes, deadlines, reversibility, an append-only log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from iotscope.cases import (
    CaseError,
    advance,
    audit_log,
    candidates,
    load_criteria,
    open_cases,
    propose,
)
from iotscope.errors import ConfigError
from iotscope.followup import AccessError, Check, make_subject, save_subjects, with_notice
from iotscope.followup._store import save_checks
from iotscope.store import Store
from iotscope.tenancy import CENTRE, Principal

T0 = datetime(2026, 9, 1, tzinfo=UTC)
ISP = Principal("isp", "Kumo")
CRIT = load_criteria()["default-password-after-notices"]


@dataclass(frozen=True)
class F:
    ip: str
    port: int
    finding_time: datetime
    subscriber_id: str
    kind: str = "weak_login"


def _history(store: Store, sub: str, states: list[str]) -> None:
    """Three notices ten days apart (each a new finding), then re-checks in ``states``."""
    rows = []
    for k in range(3):
        when = T0 + timedelta(days=10 * k)
        x = make_subject("t", "Kumo", F("127.81.0.9", 23, when, sub), {"vendor": "V"}, when)
        rows.append(with_notice(x, f"n-{sub}-{k}", "email", "A", when))
    save_subjects(store, CENTRE, rows)
    save_checks(store, [Check(rows[-1].id, 5 + i, T0 + timedelta(days=25 + 5 * i), "survey",
                              "127.81.0.9", s, {}) for i, s in enumerate(states)])  # fmt: skip


def test_a_case_runs_its_whole_course(store: Store) -> None:
    _history(store, "sub-1", ["still_weak", "still_weak"])
    now = T0 + timedelta(days=40)
    assert [s for s, _ in candidates(store, ISP, "Kumo", CRIT, now)] == ["sub-1"]
    case = propose(store, ISP, "Kumo", "sub-1", CRIT, "sato", "three notices, still weak", now)
    with pytest.raises(CaseError, match="proposer"):
        advance(store, ISP, case, "approve", "sato", "ok", now, CRIT)
    advance(store, ISP, case, "approve", "suzuki", "evidence checked", now, CRIT)
    with pytest.raises(CaseError, match="same person"):
        advance(store, ISP, case, "approve", "suzuki", "again", now, CRIT)
    with pytest.raises(CaseError, match="cannot notify"):
        advance(store, ISP, case, "notify", "sato", "early", now, CRIT, now + timedelta(days=20))
    state = advance(store, ISP, case, "approve", "tanaka", "agree", now, CRIT)
    assert state.status == "approved" and state.approvers == ("suzuki", "tanaka")
    with pytest.raises(CaseError, match="shorter"):
        advance(store, ISP, case, "notify", "sato", "letter", now, CRIT, now + timedelta(days=3))
    deadline = now + timedelta(days=14)
    advance(store, ISP, case, "notify", "sato", "letter sent", now, CRIT, deadline)
    with pytest.raises(CaseError, match="deadline"):
        advance(store, ISP, case, "refuse", "sato", "too soon", now + timedelta(days=1), CRIT)
    later = deadline + timedelta(hours=1)
    assert advance(store, ISP, case, "refuse", "sato", "no change", later, CRIT).status == (
        "refused")  # fmt: skip
    with pytest.raises(CaseError, match="fixed"):
        advance(store, ISP, case, "lift", "sato", "asked", later, CRIT)
    subject = audit_log(store, ISP, case)[0].evidence["notices"][-1]["subject"]
    save_checks(store, [Check(subject, 60, later + timedelta(days=1), "survey", "127.81.0.9",
                              "remediated", {})])  # fmt: skip
    assert advance(store, ISP, case, "lift", "sato", "re-check passed", later + timedelta(days=1),
                   CRIT).status == "lifted"  # fmt: skip
    log = audit_log(store, ISP, case)
    assert [e.step for e in log] == ["propose", "approve", "approve", "notify", "refuse", "lift"]
    assert [e.actor for e in log][:3] == ["sato", "suzuki", "tanaka"]
    assert log[0].evidence["notices"][0]["notice_id"] == "n-sub-1-0"
    assert open_cases(store, ISP, "Kumo") == []


def test_no_case_without_the_criteria(store: Store) -> None:
    _history(store, "sub-2", ["still_weak", "remediated"])
    with pytest.raises(CaseError, match="do not hold") as err:
        propose(store, ISP, "Kumo", "sub-2", CRIT, "sato", "try", T0 + timedelta(days=40))
    assert any("latest re-checks" in r for r in err.value.data["reasons"])  # type: ignore[union-attr]
    _history(store, "sub-3", ["still_weak", "still_weak"])
    with pytest.raises(CaseError, match="do not hold"):  # first notice only 25 days ago
        propose(store, ISP, "Kumo", "sub-3", CRIT, "sato", "try", T0 + timedelta(days=25))


def test_withdraw_and_tenancy(store: Store) -> None:
    _history(store, "sub-4", ["reinfected", "still_weak"])
    now = T0 + timedelta(days=45)
    case = propose(store, ISP, "Kumo", "sub-4", CRIT, "sato", "weak", now)
    with pytest.raises(CaseError, match="already has an open case"):
        propose(store, ISP, "Kumo", "sub-4", CRIT, "sato", "again", now)
    other = Principal("isp", "Fuji Access")
    with pytest.raises(AccessError):
        open_cases(store, other, "Kumo")
    with pytest.raises(AccessError):
        advance(store, other, case, "withdraw", "x", "not mine", now, CRIT)
    assert [c.id for c in open_cases(store, ISP, "Kumo")] == [case]
    advance(store, ISP, case, "withdraw", "suzuki", "subscriber called: device unplugged", now,
            CRIT)  # fmt: skip
    assert open_cases(store, ISP, "Kumo") == []
    with pytest.raises(CaseError, match="cannot approve"):
        advance(store, ISP, case, "approve", "tanaka", "late", now, CRIT)


def test_the_audit_log_refuses_update_and_delete(store: Store) -> None:
    _history(store, "sub-5", ["still_weak", "still_weak"])
    propose(store, ISP, "Kumo", "sub-5", CRIT, "sato", "weak", T0 + timedelta(days=40))
    for sql in ("UPDATE case_events SET actor = 'mallory'", "DELETE FROM case_events",
                "UPDATE cases SET subscriber_id = 'x'", "DELETE FROM cases"):  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    assert audit_log(store, ISP, open_cases(store, ISP, "Kumo")[0].id)[0].actor == "sato"


def test_criteria_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text('[[criteria]]\nname = "x"\nmin_notices = "three"\n')
    with pytest.raises(ConfigError, match="bad refusal criterion"):
        load_criteria(bad)
    bad.write_text("[[criteria]\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_criteria(bad)
