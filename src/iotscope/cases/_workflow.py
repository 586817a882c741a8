"""The refusal case's steps as a state machine over its audit events (pure).

A case's status is the fold of its append-only events; no status is stored, so the log is
the whole truth. Steps and the statuses they are allowed from:

======== ================================ ==========
step     from                             to
======== ================================ ==========
propose  (none: opens the case)           proposed
approve  proposed, approving              approving, then approved at the second approver
notify   approved                         noticed (advance notice with a deadline)
refuse   noticed, once the deadline passed refused
lift     noticed, refused                 lifted (on remediation: the device re-checked fixed)
withdraw proposed, approving, approved,   withdrawn
         noticed, refused
======== ================================ ==========

Two approvals by two different people are needed, and neither may be the proposer (four
eyes besides the one asking): the same person approving twice is refused. ``lift`` and
``withdraw`` make every case reversible; a closed case (lifted, withdrawn) takes no more steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from iotscope.errors import IotscopeError

Step = Literal["propose", "approve", "notify", "refuse", "lift", "withdraw"]
STEPS: tuple[Step, ...] = ("propose", "approve", "notify", "refuse", "lift", "withdraw")
OPEN_STATUSES = ("proposed", "approving", "approved", "noticed", "refused")
_FROM: dict[str, tuple[str, ...]] = {
    "approve": ("proposed", "approving"),
    "notify": ("approved",),
    "refuse": ("noticed",),
    "lift": ("noticed", "refused"),
    "withdraw": OPEN_STATUSES,
}
_TO = {"notify": "noticed", "refuse": "refused", "lift": "lifted", "withdraw": "withdrawn"}


class CaseError(IotscopeError):
    """A step the case's rules refuse (wrong order, same approver twice, criteria unmet)."""


@dataclass(frozen=True)
class Event:
    seq: int
    case_id: str
    isp: str
    step: str
    actor: str
    at: datetime
    reason: str
    evidence: dict[str, Any]
    deadline: datetime | None = None


@dataclass(frozen=True)
class CaseState:
    status: str
    proposer: str | None
    approvers: tuple[str, ...]
    deadline: datetime | None
    updated: datetime | None


def fold(events: Sequence[Event]) -> CaseState:
    """The case's state after ``events`` (in ``seq`` order)."""
    state = CaseState("new", None, (), None, None)
    for e in sorted(events, key=lambda e: e.seq):
        state = apply(state, e.step, e.actor, e.at, e.deadline)
    return state


def apply(
    state: CaseState, step: str, actor: str, at: datetime, deadline: datetime | None = None
) -> CaseState:
    """The state after one more step; ``CaseError`` when the rules refuse it."""
    if not actor.strip():
        raise CaseError("every step needs a named person", step=step)
    if step == "propose":
        if state.status != "new":
            raise CaseError("the case is already open", status=state.status)
        return CaseState("proposed", actor, (), None, at)
    if step not in _FROM:
        raise CaseError("unknown step", step=step, known=list(STEPS))
    if state.status not in _FROM[step]:
        raise CaseError(f"cannot {step} a case that is {state.status}", step=step,
                        status=state.status, allowed_from=list(_FROM[step]))  # fmt: skip
    if step == "approve":
        if actor == state.proposer:
            raise CaseError("the proposer cannot approve the own case", actor=actor)
        if actor in state.approvers:
            raise CaseError("the same person cannot approve twice", actor=actor)
        approvers = (*state.approvers, actor)
        status = "approved" if len(approvers) >= 2 else "approving"
        return CaseState(status, state.proposer, approvers, None, at)
    if step == "notify":
        if deadline is None or deadline <= at:
            raise CaseError("an advance notice needs a deadline in the future", deadline=deadline)
        return CaseState("noticed", state.proposer, state.approvers, deadline, at)
    if step == "refuse" and state.deadline is not None and at < state.deadline:
        raise CaseError("the subscriber's deadline has not passed", deadline=state.deadline)
    return CaseState(_TO[step], state.proposer, state.approvers, state.deadline, at)
