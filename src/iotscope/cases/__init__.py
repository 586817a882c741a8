"""Connection-refusal cases: criteria as data, an audited, reversible, four-eyes workflow.

Telecommunications Business Act Art. 52 lets a carrier refuse to connect terminal equipment
that fails the technical standards (Terminal Equipment Rules Art. 34-10 for IP devices); no
public procedure exists, so iotscope makes each step explicit: a case opens only when the
criteria (``criteria.toml``) hold on the store's evidence, needs two different approvers, an
advance notice with a deadline, and is lifted when a re-check shows the device fixed. Every
step goes to an append-only audit log (who, when, why, the findings' keys).
"""

from iotscope.cases._criteria import Criterion, Decision, Evidence, evaluate, load_criteria
from iotscope.cases._store import (
    CaseView,
    advance,
    audit_log,
    candidates,
    evidence_for,
    open_cases,
    propose,
)
from iotscope.cases._workflow import STEPS, CaseError, CaseState, Event, apply, fold

__all__ = [
    "STEPS",
    "CaseError",
    "CaseState",
    "CaseView",
    "Criterion",
    "Decision",
    "Event",
    "Evidence",
    "advance",
    "apply",
    "audit_log",
    "candidates",
    "evaluate",
    "evidence_for",
    "fold",
    "load_criteria",
    "open_cases",
    "propose",
]
