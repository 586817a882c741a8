"""From STIX 2.1 indicators to what an ISP blocks now: a pure function of indicators, policy
and the clock.

An indicator is acted on when its newest version (STIX 2.1 section 3.6: highest ``modified``)
is not revoked, ``valid_from <= now < valid_until``, its confidence reaches the policy's, its
TLP is no more restrictive than the policy allows, and its pattern parses (``_pattern``). Each
target then passes the allowlist and the prefix-length floor. Whatever is dropped is counted
by reason, so the header of a list says why it is shorter than the feed.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from iotscope.block._pattern import PatternError, Target, parse_pattern
from iotscope.block._policy import TLP_LEVELS, TLP_MARKINGS, Policy

NOT_TLP = "-"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_PREFIX = 24
"""Never act on a partner's network wider than a /24: one typo must not drop a country."""
MIN_PREFIX6 = 64
"""The IPv6 floor: one subnet (a /64), never a provider's allocation."""


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One blocklist entry: a target, until when, and the indicator that asked for it."""

    target: Target
    expires: datetime
    indicator_id: str
    confidence: int
    tlp: str


@dataclass(frozen=True, slots=True)
class Selection:
    """The entries to block (sorted by target), and what was left out, by reason."""

    isp: str
    now: datetime
    entries: tuple[Entry, ...]
    skipped: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[tuple[str, str], ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    """Indicator id -> why it is not acted on (revoked, expired, tlp...), for the action log."""

    def addresses(self) -> list[Entry]:
        """IPv4 and IPv6 targets (IPv4 first: entries sort by kind)."""
        return [e for e in self.entries if e.target.kind in ("ipv4", "ipv6")]

    def addresses_v4(self) -> list[Entry]:
        return [e for e in self.entries if e.target.kind == "ipv4"]

    def names(self) -> list[Entry]:
        return [e for e in self.entries if e.target.kind == "domain"]


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def tlp_of(obj: Mapping[str, Any], markings: Mapping[str, str]) -> str:
    """The most restrictive TLP among ``object_marking_refs``; unmarked is clear.

    A marking we have no definition for counts as red (never guess a lower level); a marking
    defined as a non-TLP statement (``NOT_TLP``) does not restrict acting on the object.
    """
    refs = obj.get("object_marking_refs") or []
    levels = [markings.get(r) or TLP_MARKINGS.get(r) or "red" for r in refs if isinstance(r, str)]
    return max((lv for lv in levels if lv != NOT_TLP), key=TLP_LEVELS.index, default="clear")


def bundle_markings(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """TLP levels of marking-definition objects (TLP 1.0 ``definition.tlp``, TLP 2.0 ``name``);
    other definitions (statements) map to ``NOT_TLP``."""
    out: dict[str, str] = {}
    for obj in objects:
        if obj.get("type") != "marking-definition" or not isinstance(obj.get("id"), str):
            continue
        definition = obj.get("definition")
        label = definition.get("tlp") if isinstance(definition, dict) else None
        name = obj.get("name")
        if label is None and isinstance(name, str) and name.upper().startswith("TLP:"):
            label = name[4:]
        if isinstance(label, str):
            label = {"white": "clear"}.get(label.lower(), label.lower())
        out[obj["id"]] = label if label in TLP_LEVELS else NOT_TLP
    return out


def latest_versions(objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The newest version of each indicator (by ``modified`` as a time: partners write
    different sub-second precisions, so the text does not sort), in id order."""
    best: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
    for obj in objects:
        oid = obj.get("id")
        if obj.get("type") != "indicator" or not isinstance(oid, str):
            continue
        when = _time(obj.get("modified")) or _EPOCH
        if oid not in best or when >= best[oid][0]:
            best[oid] = (when, obj)
    return [best[k][1] for k in sorted(best)]


def _gate(ind: Mapping[str, Any], policy: Policy, now: datetime, tlp: str) -> str | None:
    """The reason this indicator is not acted on, or None."""
    if ind.get("revoked") is True:
        return "revoked"
    if ind.get("pattern_type", "stix") != "stix":
        return "pattern_type"
    start, until = _time(ind.get("valid_from")), _time(ind.get("valid_until"))
    if start is None:
        return "bad_valid_from"
    if start > now:
        return "not_yet_valid"
    if until is not None and until <= now:
        return "expired"
    confidence = ind.get("confidence")
    if not isinstance(confidence, int) or confidence < policy.min_confidence:
        return "low_confidence"
    if TLP_LEVELS.index(tlp) > TLP_LEVELS.index(policy.max_tlp):
        return "tlp"
    return None


@functools.lru_cache(maxsize=1 << 17)
def _target_gate(t: Target, policy: Policy) -> str | None:
    # cached like the patterns: a reload sees the same targets under the same policy
    if t.kind == "domain":
        return "allowlisted" if policy.domain_allowed(t.value) else None
    net = ipaddress.ip_network(t.value)
    if net.prefixlen < (MIN_PREFIX if net.version == 4 else MIN_PREFIX6):
        return "too_broad"
    return "allowlisted" if policy.allowed(net) else None


def select(
    objects: Iterable[Mapping[str, Any]],
    policy: Policy,
    now: datetime,
    markings: Mapping[str, str] | None = None,
) -> Selection:
    """The entries ``policy`` acts on at ``now`` from STIX objects (any mix of types)."""
    objs = list(objects)
    marks = {**bundle_markings(objs), **(markings or {})}
    skipped: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    chosen: dict[Target, Entry] = {}
    for ind in latest_versions(objs):
        tlp = tlp_of(ind, marks)
        reason = _gate(ind, policy, now, tlp)
        if reason is None:
            try:
                targets = parse_pattern(ind.get("pattern", ""))
            except PatternError as exc:
                errors.append((str(ind["id"]), str(exc)))
                reason = "bad_pattern"
        if reason is not None:
            skipped[reason] += 1
            reasons[str(ind["id"])] = reason
            continue
        until = _time(ind.get("valid_until")) or now + timedelta(seconds=policy.ttl)
        expires = min(until, now + timedelta(seconds=policy.max_ttl))
        for t in targets:
            why = _target_gate(t, policy)
            if why is not None:
                skipped[why] += 1
                continue
            entry = Entry(t, expires, str(ind["id"]), int(ind["confidence"]), tlp)
            old = chosen.get(t)
            if old is None or (entry.expires, entry.confidence) > (old.expires, old.confidence):
                chosen[t] = entry
    entries = tuple(sorted(chosen.values()))
    return Selection(policy.isp, now, entries, dict(skipped), tuple(errors), reasons)
