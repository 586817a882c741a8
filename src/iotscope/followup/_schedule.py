"""Follow-up rounds on a schedule: every ``every_days`` days after a trial's enrolment.

What is due is worked out from the store alone (the subjects' enrolment time and the rounds
already checked), so a service that was killed resumes where it was: a round whose checks
were not stored is run again (checks are stored in one batch at the end of a round, keyed by
subject and round, so a repeated round never counts twice), and a period the service slept
through is run once, now (a device cannot be re-checked in the past).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from iotscope.followup import _store as fs
from iotscope.followup._enrol import enrol_notices
from iotscope.followup._model import Locator, Rechecker
from iotscope.followup._round import RoundResult, run_round
from iotscope.store import Store
from iotscope.tenancy import Principal


@dataclass(frozen=True)
class Due:
    """The next scheduled round: its period (days after enrolment) and when it falls due."""

    period_day: int
    at: datetime

    def due(self, now: datetime) -> bool:
        return now >= self.at


def next_round(origin: datetime, done: Iterable[int], every_days: int) -> Due:
    """The first period ``k * every_days`` (k >= 1) after ``origin`` not yet covered by a
    round: a round numbered ``r`` (whole days after enrolment) covers every period <= r."""
    if every_days < 1:
        raise ValueError(f"every_days must be >= 1, got {every_days}")
    k = max(done, default=0) // every_days + 1
    return Due(k * every_days, origin + timedelta(days=k * every_days))


def scheduled_round(
    store: Store,
    principal: Principal,
    isp: str,
    trial: str,
    every_days: int,
    now: datetime,
    rechecker: Rechecker,
    leases: Locator,
) -> tuple[RoundResult | None, Due | None]:
    """Enrol the ISP's new notices into ``trial``, run the round if one is due at ``now``,
    and say when the next one falls due (None, None: nothing enrolled yet)."""
    from iotscope.notify import list_notices

    enrol_notices(store, principal, isp, trial, list_notices(store, principal, isp))
    subjects = fs.subjects(store, principal, isp, trial)
    if not subjects:
        return None, None
    origin = min(x.assigned for x in subjects)
    done = {c.round for c in fs.checks(store, principal, isp, trial)}
    due = next_round(origin, done, every_days)
    if not due.due(now):
        return None, due
    result = run_round(store, principal, isp, trial, now, rechecker, leases)
    return result, next_round(origin, {*done, result.round}, every_days)
