"""Enrolment with a randomised holdout, and one follow-up round.

Enrolment splits an ISP's findings at random: most are notified now, a share (the holdout)
is deliberately notified later, after the follow-up window; the arm of every finding is
recorded. Without that comparison group, the remediation that happens anyway (DOMAIN.md: more
than half at some ISPs) would be credited to the notices.

A round re-checks every subject of a trial through an injected :class:`Rechecker`, at the
address the lease log gives for the subscriber at that time, and stores one :class:`Check`
per subject (round number = whole days since enrolment).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from iotscope.followup import _store as fs
from iotscope.followup._model import Check, Locator, Rechecker, Subject, classify, subject_id
from iotscope.store import Store
from iotscope.tenancy import Principal

T = TypeVar("T")


class FindingLike(Protocol):
    """What enrolment needs of a finding attributed to a subscriber."""

    @property
    def ip(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def finding_time(self) -> datetime: ...
    @property
    def subscriber_id(self) -> str: ...
    @property
    def kind(self) -> str: ...


def split_holdout(items: Sequence[T], share: float, rng: random.Random) -> tuple[list[T], list[T]]:
    """(notify now, holdout): a simple random sample of ``round(share * n)`` is held out."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"holdout share must be in [0, 1), got {share}")
    held = set(rng.sample(range(len(items)), round(share * len(items))))
    now = [x for i, x in enumerate(items) if i not in held]
    return now, [x for i, x in enumerate(items) if i in held]


def make_subject(
    trial: str,
    isp: str,
    finding: FindingLike,
    identity: dict[str, str | None],
    assigned: datetime,
    holdout_until: datetime | None = None,
) -> Subject:
    """A subject for ``finding``: a holdout one when ``holdout_until`` is given."""
    ip = str(finding.ip)
    return Subject(
        id=subject_id(trial, isp, ip, finding.port, finding.finding_time), trial=trial,
        isp=isp, subscriber_id=finding.subscriber_id, ip=ip, port=finding.port,
        finding_time=finding.finding_time, kind=finding.kind, identity=identity,
        arm="holdout" if holdout_until else "notified", assigned=assigned,
        notify_after=holdout_until,
    )  # fmt: skip


def with_notice(
    subject: Subject, notice_id: str, channel: str, variant: str, sent: datetime
) -> Subject:
    """The subject once its notice went out (channel and variant as the notice recorded)."""
    return replace(subject, notice_id=notice_id, channel=channel, variant=variant, notified=sent)


@dataclass(frozen=True)
class RoundResult:
    round: int
    when: datetime
    backend: str
    states: Counter[str]
    moved: int


def run_round(
    store: Store,
    principal: Principal,
    isp: str,
    trial: str,
    when: datetime,
    rechecker: Rechecker,
    leases: Locator,
    recent: timedelta = timedelta(days=1),
) -> RoundResult:
    """Re-check every subject of ``trial`` at ``when``; store and count the states."""
    subjects = fs.subjects(store, principal, isp, trial)
    if not subjects:
        return RoundResult(0, when, rechecker.name, Counter(), 0)
    number = max(0, (when - min(x.assigned for x in subjects)) // timedelta(days=1))
    where = {x.id: leases.address_at(x.subscriber_id, when) for x in subjects}
    targets = [(x, a) for x in subjects if (a := where[x.id]) is not None]
    seen = dict(zip((x.id for x, _ in targets), rechecker.recheck(targets, when), strict=True))
    scanning = fs.scanning_sources(store, when - recent, when)
    out = []
    for x in subjects:
        hot = bool(scanning) and any(
            a in scanning for a, _, _ in leases.addresses(x.subscriber_id, when - recent, when)
        )
        state, evidence = classify(x, where[x.id], seen.get(x.id), hot)
        out.append(Check(x.id, number, when, rechecker.name, where[x.id], state, evidence))
    fs.save_checks(store, out)
    moved = sum(1 for c in out if c.evidence.get("moved"))
    return RoundResult(number, when, rechecker.name, Counter(c.state for c in out), moved)
