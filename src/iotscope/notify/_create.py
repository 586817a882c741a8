"""From one ISP's new findings to notices: one per subscriber and device.

Pure planning (group, pick channel, language and variant) is separate from the store: the
variant is drawn from the caller's seeded RNG in a fixed order, so a run is reproducible and
its assignment is recorded with the notice.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from iotscope.errors import ConfigError
from iotscope.notify import _db
from iotscope.notify._model import (
    KINDS,
    Channel,
    Contact,
    DeviceFinding,
    IspFindings,
    Notice,
    NoticeProfile,
    SubscriberOf,
)
from iotscope.notify._subscribers import from_attribution, resolve_all
from iotscope.records import utc
from iotscope.store import Store
from iotscope.tenancy import Principal


@cache
def variants() -> dict[str, dict[str, Any]]:
    """The A/B variants (``data/variants.toml``): name -> subject/opening per language."""
    text = resources.files("iotscope.notify").joinpath("data/variants.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True, slots=True)
class Plan:
    """What planning made of the findings: notices (not yet stored) and what it could not use."""

    notices: tuple[Notice, ...]
    unresolved: int  # findings whose address and time map to no subscriber
    unreachable: int  # devices whose subscriber has no channel the ISP's policy allows


def notice_id(isp: str, subscriber_id: str, ip: str, when: datetime) -> str:
    """The natural key's digest: creating notices twice yields the same ids (idempotent)."""
    key = "\x1f".join((isp, subscriber_id, ip, utc(when).isoformat()))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def group_findings(
    findings: Iterable[DeviceFinding], subscriber_of: SubscriberOf
) -> tuple[dict[tuple[str, str], list[DeviceFinding]], int]:
    """(subscriber, address) -> that device's findings; and how many had no subscriber."""
    found = list(findings)
    ips = [str(f.ip) for f in found]
    subs = resolve_all(subscriber_of, [(ip, f.time) for ip, f in zip(ips, found, strict=True)])
    groups: dict[tuple[str, str], list[DeviceFinding]] = {}
    unresolved = 0
    for f, ip, sub in zip(found, ips, subs, strict=True):
        if sub is None:
            unresolved += 1
            continue
        groups.setdefault((sub, ip), []).append(f)
    return groups, unresolved


def choose_channel(profile: NoticeProfile, contact: Contact | None) -> Channel | None:
    """The first channel of the ISP's order that the subscriber's contact data allows; the
    walled-garden landing page needs none (the ISP redirects the subscriber's web traffic)."""
    have = {
        "email": bool(contact and contact.email),
        "sms": bool(contact and contact.phone),
        "letter": bool(contact and contact.postal),
        "landing": True,
    }
    return next((c for c in profile.channels if have[c]), None)


def lead_finding(group: Sequence[DeviceFinding]) -> DeviceFinding:
    """The finding a notice leads with: the most pressing kind, then the earliest."""
    return min(group, key=lambda f: (KINDS.index(f.kind), f.time, f.port))


def build_notice(
    isp: str,
    sub: str,
    group: Sequence[DeviceFinding],
    channel: Channel,
    variant: str,
    language: str,
    now: datetime,
) -> Notice:
    lead = lead_finding(group)
    when = min(f.time for f in group)
    kinds = tuple(k for k in KINDS if any(f.kind == k for f in group))
    details = {
        "services": sorted({f"{f.service or '?'}/{f.port}" for f in group}),
        "login_protocols": sorted({f.protocol for f in group if f.protocol}),
        "cves": sorted({c for f in group for c in f.cves}),
        "kev": any(f.kev for f in group),
        "evidence": sorted({f.evidence for f in group if f.evidence}),
        "seen_by": sorted({f.detail for f in group if f.detail}),
    }
    return Notice(
        id=notice_id(isp, sub, str(lead.ip), when),
        isp=isp,
        subscriber_id=sub,
        ip=lead.ip,
        port=lead.port,
        finding_time=when,
        kind=lead.kind,
        kinds=kinds,
        ports=tuple(sorted({f.port for f in group})),
        device=next((f.device for f in group if f.device.vendor), lead.device),
        details=details,
        channel=channel,
        variant=variant,
        language=language,
        created=now,
        token=secrets.token_urlsafe(16),  # 128 bits: short enough for an SMS
    )


def _key_id(isp: str, key: tuple[str, str], group: Sequence[DeviceFinding]) -> str:
    return notice_id(isp, key[0], key[1], min(f.time for f in group))


def plan_notices(
    isp: str,
    findings: Iterable[DeviceFinding],
    subscriber_of: SubscriberOf,
    profile: NoticeProfile,
    contacts: Mapping[str, Contact],
    rng: random.Random,
    now: datetime,
) -> Plan:
    """Group by subscriber and device, pick each notice's channel, language and variant.

    Variants are drawn in the order of the notices' ids, so the same findings and seed give
    the same assignment whatever order the findings came in.
    """
    groups, unresolved = group_findings(findings, subscriber_of)
    names = sorted(variants())
    keyed = sorted((_key_id(isp, key, group), key, group) for key, group in groups.items())
    out, unreachable = [], 0
    for _nid, (sub, _ip), group in keyed:
        variant = rng.choice(names)  # drawn for every device, reachable or not: a fixed stream
        contact = contacts.get(sub)
        channel = choose_channel(profile, contact)
        if channel is None:
            unreachable += 1
            continue
        language = contact.language if contact and contact.language else profile.language
        out.append(build_notice(isp, sub, group, channel, variant, language, now))
    return Plan(tuple(out), unresolved, unreachable)


def create_notices(
    store: Store,
    principal: Principal,
    findings_for_isp: IspFindings,
    rng: random.Random,
    *,
    profile: NoticeProfile | None = None,
    now: datetime | None = None,
) -> list[Notice]:
    """Create and store one notice per subscriber and device for an ISP's new findings.

    Only the ISP itself (or the centre) may; subscribers are resolved inside its tenancy.
    Notices already stored (same subscriber, address and finding time) are not created again;
    the new ones come back with their landing ``token`` (the store keeps only its hash).
    """
    isp = findings_for_isp.isp
    _db.check_isp(principal, isp)
    profile = profile or _db.effective_profile(store, principal, isp)
    if profile is None:
        raise ConfigError(
            "no notice profile for this ISP (`notice profile`, or a domain in the registry)",
            isp=isp,
        )
    subscriber_of = findings_for_isp.subscriber_of or from_attribution(store, principal, isp)
    contacts = _db.load_contacts(store, principal, isp)
    when = utc(now or datetime.now(UTC))
    plan = plan_notices(isp, findings_for_isp.findings, subscriber_of, profile, contacts, rng, when)
    return _db.insert_notices(store, plan.notices, when)
