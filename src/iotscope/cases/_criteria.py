"""Refusal criteria as data (``criteria.toml``) and their evaluation (pure).

A criterion holds for a subscriber when (1) at least ``min_notices`` notices were sent,
(2) the first of them at least ``min_days`` before now, and (3) the latest
``consecutive_checks`` follow-up re-checks all concluded one of ``states``. The evaluation
returns every reason, met or not, so the audit log shows why a case could (not) open.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from iotscope.errors import ConfigError

_FIELDS = {"name": str, "rule": str, "description": str, "min_notices": int, "min_days": int,
           "states": list, "consecutive_checks": int, "notice_days": int}  # fmt: skip


@dataclass(frozen=True)
class Criterion:
    name: str
    rule: str
    description: str
    min_notices: int
    min_days: int
    states: tuple[str, ...]
    consecutive_checks: int
    notice_days: int


@dataclass(frozen=True)
class Evidence:
    """What the store holds on one subscriber: the notices' send times and keys, and the
    follow-up checks (round, time, state), oldest first."""

    notices: Sequence[tuple[datetime, dict[str, Any]]]
    checks: Sequence[tuple[datetime, str, dict[str, Any]]]


@dataclass(frozen=True)
class Decision:
    criterion: str
    holds: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)


def load_criteria(path: Path | None = None) -> dict[str, Criterion]:
    """The criteria of ``path`` (default: the shipped ``criteria.toml``), by name."""
    try:
        if path is None:
            text = resources.files("iotscope.cases").joinpath("criteria.toml").read_text("utf-8")
            where = "criteria.toml (shipped)"
        else:
            text, where = path.read_text(encoding="utf-8"), str(path)
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("cannot read refusal criteria", file=str(path), reason=str(exc)) from exc
    out = {}
    for n, entry in enumerate(data.get("criteria", []), start=1):
        crit = _criterion(entry, where, n)
        out[crit.name] = crit
    if not out:
        raise ConfigError("no [[criteria]] entries", file=where)
    return out


def _criterion(entry: dict[str, Any], where: str, n: int) -> Criterion:
    missing = [k for k in _FIELDS if k not in entry]
    wrong = [k for k, kind in _FIELDS.items() if k in entry and not isinstance(entry[k], kind)]
    if missing or wrong or entry.get("min_notices", 0) < 1 or entry.get("consecutive_checks",
                                                                         0) < 1:  # fmt: skip
        raise ConfigError("bad refusal criterion", file=where, entry=n, missing=missing,
                          wrong_type=wrong)  # fmt: skip
    return Criterion(**{**entry, "states": tuple(entry["states"])})


def evaluate(criterion: Criterion, evidence: Evidence, now: datetime) -> Decision:
    """Does ``criterion`` hold on ``evidence`` at ``now``? With a reason per condition."""
    sent = sorted(t for t, _ in evidence.notices)
    reasons = []
    ok_count = len(sent) >= criterion.min_notices
    reasons.append(f"{len(sent)} notices sent (at least {criterion.min_notices} needed)")
    span = (now - sent[0]) if sent else timedelta(0)
    ok_span = bool(sent) and span >= timedelta(days=criterion.min_days)
    reasons.append(f"first notice {span.days} days ago (at least {criterion.min_days} needed)")
    latest = [state for _, state, _ in evidence.checks][-criterion.consecutive_checks :]
    ok_checks = len(latest) == criterion.consecutive_checks and all(
        s in criterion.states for s in latest
    )
    need = f"the last {criterion.consecutive_checks} must be in {list(criterion.states)}"
    reasons.append(f"latest re-checks {latest or 'none'} ({need})")
    return Decision(criterion.name, ok_count and ok_span and ok_checks, tuple(reasons))
