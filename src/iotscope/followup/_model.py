"""The follow-up's records and its state machine (pure).

A subject is one finding enrolled in a follow-up trial. A re-check round looks for the
subscriber's device at the address the subscriber holds then (the lease log), and concludes
one state:

``notified`` (enrolled, not yet re-checked) -> after a round, one of
- ``unreachable``: the subscriber holds no address then, or nothing answered there;
- ``replaced``: something answered, but a different device (vendor, product or model differ);
- ``reinfected``: the telescope saw one of the subscriber's addresses scanning recently;
- ``still_weak``: the same device, still accepting the weak login (or still vulnerable);
- ``remediated``: the same device, no longer accepting it.

A later round may conclude another state: these are observations, not absorbing states
(a factory reset brings a remediated device back to ``still_weak``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from iotscope.errors import IotscopeError

State = Literal["notified", "remediated", "still_weak", "unreachable", "replaced", "reinfected"]
STATES: tuple[State, ...] = (
    "notified", "remediated", "still_weak", "unreachable", "replaced", "reinfected",
)  # fmt: skip
Arm = Literal["notified", "holdout"]
IDENTITY_KEYS = ("vendor", "product", "model")


class AccessError(IotscopeError):
    """A caller asked for rows of a tenant it is not (an ISP sees only its own)."""

    exit_code = 4


@dataclass(frozen=True)
class Subject:
    """One finding in a follow-up trial, its arm and (when notified) its notice."""

    id: str
    trial: str
    isp: str
    subscriber_id: str
    ip: str
    port: int
    finding_time: datetime
    kind: str
    identity: Mapping[str, str | None]
    arm: Arm
    assigned: datetime
    notice_id: str | None = None
    channel: str | None = None
    variant: str | None = None
    notified: datetime | None = None
    notify_after: datetime | None = None

    @property
    def group(self) -> str:
        """``channel/variant`` for the notified, ``holdout`` for the comparison group."""
        return f"{self.channel}/{self.variant}" if self.arm == "notified" else "holdout"


def subject_id(trial: str, isp: str, ip: str, port: int, finding_time: datetime) -> str:
    """A stable id: enrolling the same finding twice in a trial is one subject."""
    key = f"{trial}|{isp}|{ip}|{port}|{finding_time.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Observation:
    """What a re-check saw at an address: the device's identity and whether it still
    accepts the weak login (or still runs the vulnerable firmware: ``exposed``)."""

    address: str
    identity: Mapping[str, str | None]
    exposed: bool
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    subject_id: str
    round: int
    checked: datetime
    backend: str
    address: str | None
    state: State
    evidence: Mapping[str, Any]


class Rechecker(Protocol):
    """A re-check backend: the real survey against devices, or the lab's simulated state.
    ``targets`` are (subject, address) pairs; one observation or None (no answer) each."""

    name: str

    def recheck(
        self, targets: Sequence[tuple[Subject, str]], when: datetime
    ) -> list[Observation | None]: ...


class Locator(Protocol):
    """The ISP's lease log, seen from inside its tenancy."""

    def address_at(self, subscriber_id: str, when: datetime) -> str | None: ...

    def addresses(
        self, subscriber_id: str, since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime | None]]: ...


def same_device(before: Mapping[str, str | None], now: Mapping[str, str | None]) -> bool:
    """Vendor, product and model agree wherever both name them (a firmware update changes
    the version, not the device; nothing named on either side is no evidence of a change)."""
    return all(
        (before.get(k) or "").casefold() == (now.get(k) or "").casefold()
        for k in IDENTITY_KEYS
        if before.get(k) and now.get(k)
    )


def classify(
    subject: Subject, address: str | None, seen: Observation | None, scanning: bool
) -> tuple[State, dict[str, Any]]:
    """The state one re-check concludes, with its evidence (see the module docstring)."""
    evidence: dict[str, Any] = {"address": address, "moved": address not in (None, subject.ip)}
    if address is None:
        return "unreachable", evidence | {"reason": "no lease for the subscriber"}
    if seen is None:
        return "unreachable", evidence | {"reason": "no answer"}
    evidence["identity"] = dict(seen.identity)
    if not same_device(subject.identity, seen.identity):
        return "replaced", evidence
    if scanning:
        return "reinfected", evidence | {"reason": "telescope sighting"}
    if seen.exposed:
        return "still_weak", evidence | dict(seen.details)
    return "remediated", evidence | dict(seen.details)
