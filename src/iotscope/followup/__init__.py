"""Follow-up of notified devices and the measured effect of notices (issue 8, item 6).

- Enrolment: :func:`split_holdout` (a randomised comparison group, notified later),
  :func:`make_subject`, :func:`with_notice`, stored with :func:`save_subjects`.
- A round: :func:`run_round` re-checks every subject at the subscriber's current address
  (a :class:`Locator` over the ISP's lease log, e.g. :class:`LeaseBook`) through a
  :class:`Rechecker`: :class:`SurveyRechecker` (the real survey, for ``lab up`` devices and
  deployments) or :class:`SimulatedRechecker` (the lab's simulated state, for month-scale runs).
- The effect: :func:`estimate` (Wilson / Newcombe intervals against the holdout, Kaplan-Meier
  with Greenwood log-log intervals); :func:`notice_status` for a notice's landing page.
"""

from iotscope.followup._api import router
from iotscope.followup._effect import TABLE_COLUMNS, Effect, GroupEffect, estimate
from iotscope.followup._leases import LeaseBook, LeaseRow, read_lease_csv
from iotscope.followup._model import (
    STATES,
    AccessError,
    Check,
    Locator,
    Observation,
    Rechecker,
    Subject,
    classify,
    same_device,
    subject_id,
)
from iotscope.followup._round import (
    RoundResult,
    make_subject,
    run_round,
    split_holdout,
    with_notice,
)
from iotscope.followup._simulated import SimulatedRechecker
from iotscope.followup._stats import kaplan_meier, newcombe, wilson
from iotscope.followup._status import notice_status
from iotscope.followup._store import checks, holdout_due, save_checks, save_subjects, subjects
from iotscope.followup._survey import SurveyRechecker

__all__ = [
    "STATES",
    "TABLE_COLUMNS",
    "AccessError",
    "Check",
    "Effect",
    "GroupEffect",
    "LeaseBook",
    "LeaseRow",
    "Locator",
    "Observation",
    "Rechecker",
    "RoundResult",
    "SimulatedRechecker",
    "Subject",
    "SurveyRechecker",
    "checks",
    "classify",
    "estimate",
    "holdout_due",
    "kaplan_meier",
    "make_subject",
    "newcombe",
    "notice_status",
    "read_lease_csv",
    "router",
    "run_round",
    "same_device",
    "save_checks",
    "save_subjects",
    "split_holdout",
    "subject_id",
    "subjects",
    "wilson",
    "with_notice",
]
