"""The measured effect of notices: remediation per channel and variant against the holdout.

For a follow-up round R: among the subjects that answered in round R (``unreachable`` ones
are left out: whether a device is online at a re-check does not depend on its state), the
share ``remediated``, with a Wilson 95 % interval, per ``channel/variant`` group, per channel
(variants pooled) and for the holdout; each notified group's difference from the holdout with
Newcombe's 95 % interval; and both again as simultaneous 95 % intervals over their family (the
channels, or the channel/variant groups; Bonferroni), which hold every group's true value
together with probability >= 95 %. Time to remediation: per group a Kaplan-Meier curve of the round
at which a subject was first seen remediated, censored at the last round it was seen
otherwise (a replaced device leaves the risk set when first seen replaced), with Greenwood
log-log intervals, and the median.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from iotscope.followup._model import Check, Subject
from iotscope.followup._stats import (
    Difference,
    Proportion,
    Survival,
    family_z,
    kaplan_meier,
    newcombe,
    wilson,
)


@dataclass(frozen=True)
class GroupEffect:
    group: str
    subjects: int
    remediated: Proportion
    difference: Difference | None  # vs the holdout (None: the holdout itself, or none answered)
    survival: Survival
    family: int = 1  # how many groups its simultaneous intervals cover together
    together: Proportion | None = None  # simultaneous 95 % over the family
    together_difference: Difference | None = None

    def to_json(self) -> dict[str, Any]:
        p, d, s = self.remediated, self.difference, self.survival
        t, td = self.together or p, self.together_difference or d
        return {
            "group": self.group, "subjects": self.subjects, "answered": p.n,
            "remediated": p.k, "proportion": p.estimate, "ci95": [p.low, p.high],
            "difference": None if d is None else d.estimate,
            "difference_ci95": None if d is None else [d.low, d.high],
            "family": self.family, "ci95_simultaneous": [t.low, t.high],
            "difference_ci95_simultaneous": None if td is None else [td.low, td.high],
            "median_days": s.median(),
            "survival": [{"day": t, "at_risk": n, "events": e, "s": v, "ci95": [lo, hi]}
                         for t, n, e, v, lo, hi in zip(s.times, s.at_risk, s.events, s.survival,
                                                       s.low, s.high, strict=True)],
        }  # fmt: skip


@dataclass(frozen=True)
class Effect:
    round: int
    groups: tuple[GroupEffect, ...]  # holdout first, then channel/variant, then channel

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "groups": [g.to_json() for g in self.groups]}

    def group(self, name: str) -> GroupEffect:
        return next(g for g in self.groups if g.group == name)

    def table_rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        for g in self.groups:
            p, d = g.remediated, g.difference
            diff = "" if d is None else f"{d.estimate:+.1%} [{d.low:+.1%}, {d.high:+.1%}]"
            median = g.survival.median()
            rows.append((g.group, str(g.subjects), f"{p.k}/{p.n}",
                         f"{p.estimate:.1%} [{p.low:.1%}, {p.high:.1%}]", diff,
                         "-" if median is None else f"{median:g}"))  # fmt: skip
        return rows


TABLE_COLUMNS = ["group", "subjects", "remediated/answered", "share [95% CI]",
                 "vs holdout [95% CI]", "median days"]  # fmt: skip


def _durations(history: Iterable[Check], until: int) -> tuple[float, bool] | None:
    last = None
    for c in sorted(history, key=lambda c: c.round):
        if c.round > until or c.state in ("unreachable", "notified"):
            continue
        if c.state == "remediated":
            return float(c.round), True
        last = float(c.round)
        if c.state == "replaced":
            break
    return None if last is None else (last, False)


def _group_effect(
    name: str,
    members: Sequence[Subject],
    at: dict[str, Check],
    history: dict[str, list[Check]],
    until: int,
    holdout: Proportion | None,
    family: int = 1,
) -> GroupEffect:
    answered = [at[x.id] for x in members if x.id in at and at[x.id].state != "unreachable"]
    k, n = sum(c.state == "remediated" for c in answered), len(answered)
    z = family_z(family)
    compare = holdout is not None and holdout.n > 0 and n > 0
    diff = newcombe(k, n, holdout.k, holdout.n) if compare and holdout else None
    diff_z = newcombe(k, n, holdout.k, holdout.n, z) if compare and holdout else None
    spans = [d for x in members if (d := _durations(history.get(x.id, []), until))]
    surv = kaplan_meier([d for d, _ in spans], [e for _, e in spans])
    return GroupEffect(name, len(members), wilson(k, n), diff, surv, family, wilson(k, n, z),
                       diff_z)  # fmt: skip


def estimate(
    subjects: Sequence[Subject], checks: Sequence[Check], round: int | None = None
) -> Effect:
    """The effect at follow-up ``round`` (default: the latest round checked)."""
    if not checks:
        raise ValueError("no follow-up checks yet: run a round first")
    until = round if round is not None else max(c.round for c in checks)
    history: dict[str, list[Check]] = {}
    for c in checks:
        history.setdefault(c.subject_id, []).append(c)
    at = {c.subject_id: c for c in checks if c.round == until}
    hold = [x for x in subjects if x.arm == "holdout"]
    base = _group_effect("holdout", hold, at, history, until, None)
    out = [base]
    groups = sorted({x.group for x in subjects if x.arm == "notified"})
    for name in groups:
        members = [x for x in subjects if x.group == name]
        out.append(_group_effect(name, members, at, history, until, base.remediated,
                                 len(groups)))  # fmt: skip
    channels = sorted({g.split("/")[0] for g in groups})
    for channel in channels:
        members = [x for x in subjects if x.arm == "notified" and x.channel == channel]
        out.append(_group_effect(channel, members, at, history, until, base.remediated,
                                 len(channels)))  # fmt: skip
    return Effect(until, tuple(out))
