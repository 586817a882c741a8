"""Refusal cases in the store: evidence, proposal, steps, the report of open cases.

Both tables are append-only (triggers refuse UPDATE and DELETE); this module only inserts.
Every function takes the caller's Principal: an ISP sees and acts on its own cases only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from iotscope.cases._criteria import Criterion, Decision, Evidence, evaluate
from iotscope.cases._workflow import OPEN_STATUSES, CaseError, CaseState, Event, apply, fold
from iotscope.followup import _store as fs
from iotscope.followup._store import aware, require_isp
from iotscope.store import Store
from iotscope.store import _schema_followup as t
from iotscope.tenancy import Principal

FIXED = ("remediated", "replaced")


def evidence_for(store: Store, principal: Principal, isp: str, subscriber_id: str) -> Evidence:
    """The notices sent to ``subscriber_id`` and the follow-up checks of their devices."""
    mine = [x for x in fs.subjects(store, principal, isp) if x.subscriber_id == subscriber_id]
    notices = sorted(
        (x.notified, {"subject": x.id, "notice_id": x.notice_id, "ip": x.ip, "port": x.port,
                      "finding_time": x.finding_time.isoformat(), "channel": x.channel})
        for x in mine if x.notified is not None
    )  # fmt: skip
    checks = sorted(
        ((c.checked, c.state, {"subject": c.subject_id, "round": c.round, "address": c.address})
         for x in mine for c in fs.checks_of(store, x.id)),
        key=lambda c: c[0],
    )  # fmt: skip
    return Evidence(notices, checks)


def _keys(evidence: Evidence) -> dict[str, Any]:
    """The evidence an audit row keeps: the findings' keys and the checks' conclusions."""
    return {"notices": [k for _, k in evidence.notices],
            "checks": [{**k, "state": s, "checked": w.isoformat()}
                       for w, s, k in evidence.checks[-5:]]}  # fmt: skip


def candidates(
    store: Store, principal: Principal, isp: str, criterion: Criterion, now: datetime
) -> list[tuple[str, Decision]]:
    """Subscribers of ``isp`` for whom ``criterion`` holds now."""
    subs = sorted({x.subscriber_id for x in fs.subjects(store, principal, isp)})
    out = []
    for sub in subs:
        decision = evaluate(criterion, evidence_for(store, principal, isp, sub), now)
        if decision.holds:
            out.append((sub, decision))
    return out


@dataclass(frozen=True)
class CaseView:
    id: str
    isp: str
    subscriber_id: str
    criteria: str
    opened: datetime
    state: CaseState


def _events(store: Store, case_id: str) -> list[Event]:
    rows = store._query(select(t.case_events).where(t.case_events.c.case_id == case_id)
                        .order_by(t.case_events.c.seq), t.case_events.name)  # fmt: skip
    return [Event(**aware(r)) for r in rows]


def _case_row(store: Store, principal: Principal, case_id: str) -> dict[str, Any]:
    rows = store._select(t.cases, id=case_id)
    if not rows:
        raise CaseError("no such case", case=case_id)
    require_isp(principal, rows[0]["isp"])
    return aware(rows[0])


def _record(store: Store, event: dict[str, Any], case: dict[str, Any] | None = None) -> None:
    with store._write(t.case_events.name) as conn:
        if case is not None:
            conn.execute(insert(t.cases), [case])
        conn.execute(insert(t.case_events), [event])


def propose(
    store: Store, principal: Principal, isp: str, subscriber_id: str, criterion: Criterion,
    actor: str, reason: str, now: datetime,
) -> str:  # fmt: skip
    """Open a case: only when ``criterion`` holds on the store's evidence (else CaseError
    with every reason). Returns the case id."""
    require_isp(principal, isp)
    evidence = evidence_for(store, principal, isp, subscriber_id)
    decision = evaluate(criterion, evidence, now)
    if not decision.holds:
        raise CaseError("the refusal criteria do not hold", criterion=criterion.name,
                        reasons=list(decision.reasons))  # fmt: skip
    for view in open_cases(store, principal, isp):
        if view.subscriber_id == subscriber_id:
            raise CaseError("the subscriber already has an open case", case=view.id)
    apply(CaseState("new", None, (), None, None), "propose", actor, now)
    case_id = hashlib.sha256(f"{isp}|{subscriber_id}|{criterion.name}|{now.isoformat()}"
                             .encode()).hexdigest()[:24]  # fmt: skip
    keys = _keys(evidence) | {"criterion": criterion.name, "rule": criterion.rule,
                              "reasons": list(decision.reasons)}  # fmt: skip
    case = {"id": case_id, "isp": isp, "subscriber_id": subscriber_id,
            "criteria": criterion.name, "opened": now, "evidence": keys}  # fmt: skip
    _record(store, _event(case_id, isp, "propose", actor, now, reason, keys), case)
    return case_id


def _event(
    case_id: str, isp: str, step: str, actor: str, at: datetime, reason: str,
    evidence: dict[str, Any], deadline: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"case_id": case_id, "isp": isp, "step": step, "actor": actor, "at": at,
            "reason": reason, "evidence": evidence, "deadline": deadline}  # fmt: skip


def advance(
    store: Store, principal: Principal, case_id: str, step: str, actor: str, reason: str,
    now: datetime, criterion: Criterion, deadline: datetime | None = None,
) -> CaseState:  # fmt: skip
    """Take one more step (approve, notify, refuse, lift, withdraw) after the workflow's
    rules and the evidence allow it; append it to the audit log; the new state."""
    case = _case_row(store, principal, case_id)
    if not reason.strip():
        raise CaseError("every step needs a reason", step=step)
    state = fold(_events(store, case_id))
    evidence = evidence_for(store, principal, case["isp"], case["subscriber_id"])
    if step == "notify" and deadline is not None and deadline < now + timedelta(
            days=criterion.notice_days):  # fmt: skip
        raise CaseError("the deadline is shorter than the criterion allows",
                        notice_days=criterion.notice_days)  # fmt: skip
    if step == "refuse" and not evaluate(criterion, evidence, now).holds:
        raise CaseError("the criteria no longer hold: lift or withdraw instead",
                        reasons=list(evaluate(criterion, evidence, now).reasons))  # fmt: skip
    latest = evidence.checks[-1][1] if evidence.checks else None
    if step == "lift" and latest not in FIXED:
        raise CaseError("lift needs a re-check showing the device fixed", latest=latest)
    new = apply(state, step, actor, now, deadline)
    _record(store, _event(case_id, case["isp"], step, actor, now, reason, _keys(evidence),
                          deadline))  # fmt: skip
    return new


def audit_log(store: Store, principal: Principal, case_id: str) -> list[Event]:
    _case_row(store, principal, case_id)
    return _events(store, case_id)


def open_cases(store: Store, principal: Principal, isp: str) -> list[CaseView]:
    """The report of ``isp``'s open cases (not lifted or withdrawn), oldest first."""
    require_isp(principal, isp)
    out = []
    for row in sorted(map(aware, store._select(t.cases, isp=isp)), key=lambda r: r["opened"]):
        state = fold(_events(store, row["id"]))
        if state.status in OPEN_STATUSES:
            out.append(CaseView(row["id"], row["isp"], row["subscriber_id"], row["criteria"],
                                row["opened"], state))  # fmt: skip
    return out
