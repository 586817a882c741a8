"""Store access for follow-up subjects and checks (tables in ``store/_schema_followup``).

Every read takes the caller's :class:`~iotscope.tenancy.Principal`: an ISP reads only its own
subjects (``AccessError`` otherwise); the centre reads all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select

from iotscope.followup._model import AccessError, Check, Subject
from iotscope.store import Store
from iotscope.store import _schema as s
from iotscope.store import _schema_followup as t
from iotscope.store._hosts import INFECTED_CLASSES
from iotscope.tenancy import Principal


def aware(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every datetime in UTC (SQLite hands back naive ones)."""
    return {k: (v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None
                else v.astimezone(UTC) if isinstance(v, datetime) else v)
            for k, v in row.items()}  # fmt: skip


def require_isp(principal: Principal, isp: str) -> None:
    """Refuse a caller that is neither ``isp`` nor the centre."""
    if not principal.isp(isp):
        raise AccessError("not this ISP's data", isp=isp, role=principal.role)


def _subject_row(x: Subject) -> dict[str, Any]:
    return {
        "id": x.id, "trial": x.trial, "isp": x.isp, "subscriber_id": x.subscriber_id,
        "ip": x.ip, "port": x.port, "finding_time": x.finding_time, "kind": x.kind,
        "identity": dict(x.identity), "arm": x.arm, "notice_id": x.notice_id,
        "channel": x.channel, "variant": x.variant, "notified": x.notified,
        "notify_after": x.notify_after, "assigned": x.assigned,
    }  # fmt: skip


def save_subjects(store: Store, principal: Principal, subjects: Sequence[Subject]) -> int:
    """Upsert ``subjects`` (idempotent by id); each must be of an ISP the caller is."""
    for isp in {x.isp for x in subjects}:
        require_isp(principal, isp)
    return store._upsert(t.followup_subjects, [_subject_row(x) for x in subjects])


def subjects(
    store: Store, principal: Principal, isp: str, trial: str | None = None
) -> list[Subject]:
    """The ISP's subjects (of ``trial``, or every trial)."""
    require_isp(principal, isp)
    rows = store._select(t.followup_subjects, isp=isp, trial=trial)
    return [Subject(**aware(r)) for r in rows]


def holdout_due(store: Store, principal: Principal, isp: str, now: datetime) -> list[Subject]:
    """The ISP's holdout subjects whose deliberate delay is over and that have no notice yet:
    the findings ``notice send`` owes a notice now (the comparison group is notified too)."""
    return [
        x for x in subjects(store, principal, isp)
        if x.arm == "holdout" and x.notice_id is None
        and x.notify_after is not None and x.notify_after <= now
    ]  # fmt: skip


def subject_of_notice(store: Store, notice_id: str) -> Subject | None:
    rows = store._select(t.followup_subjects, notice_id=notice_id)
    return Subject(**aware(rows[0])) if rows else None


def save_checks(store: Store, checks: Iterable[Check]) -> int:
    rows = [
        {"subject_id": c.subject_id, "round": c.round, "checked": c.checked,
         "backend": c.backend, "address": c.address, "state": c.state,
         "evidence": dict(c.evidence)}
        for c in checks
    ]  # fmt: skip
    return store._upsert(t.followup_checks, rows)


def checks(store: Store, principal: Principal, isp: str, trial: str | None = None) -> list[Check]:
    """Every check of the ISP's subjects, ordered by subject and round."""
    require_isp(principal, isp)
    subj, chk = t.followup_subjects, t.followup_checks
    where = [subj.c.isp == isp] + ([subj.c.trial == trial] if trial else [])
    stmt = (
        select(chk)
        .join(subj, subj.c.id == chk.c.subject_id)
        .where(and_(*where))
        .order_by(chk.c.subject_id, chk.c.round)
    )
    return [Check(**aware(r)) for r in store._query(stmt, chk.name)]


def checks_of(store: Store, subject_id: str) -> list[Check]:
    rows = store._select(t.followup_checks, subject_id=subject_id)
    return sorted((Check(**aware(r)) for r in rows), key=lambda c: c.round)


def scanning_sources(store: Store, since: datetime, until: datetime) -> set[str]:
    """Sources the telescope saw (any sensor) with a sighting overlapping [since, until],
    classified as infected-device scanning (not research scanners or backscatter)."""
    sg = s.sightings
    stmt = select(sg.c.src).where(
        sg.c.last_seen >= since, sg.c.first_seen <= until,
        sg.c.classification.in_(INFECTED_CLASSES),
    ).distinct()  # fmt: skip
    return {r["src"] for r in store._query(stmt, sg.name)}


def last_round(store: Store, principal: Principal, isp: str) -> int | None:
    require_isp(principal, isp)
    subj, chk = t.followup_subjects, t.followup_checks
    stmt = select(func.max(chk.c.round).label("m")).join(subj, subj.c.id == chk.c.subject_id)
    rows = store._query(stmt.where(subj.c.isp == isp), chk.name)
    value = rows[0]["m"] if rows else None
    return int(value) if value is not None else None
