"""Protection that does not wait for the user: network-side measures per finding.

For each notice the ISP is offered, as proposals it applies or not:
- ``inbound_filter``: drop new connections from the internet to the device's exposed
  management ports (the ones the survey reached);
- ``c2_block``: for an infected device, block its traffic to the C2 servers known in the store;
- ``firmware_push``: where the ISP manages the CPE (router/ONU), push the current firmware.

Each is tracked proposed -> applied -> lifted (and re-applied), with times and who, in an
append-only event log. Rule text is given in nftables syntax as a concrete starting point.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from iotscope.errors import ConfigError
from iotscope.notify import _db
from iotscope.notify._compose import CPE_TYPES
from iotscope.notify._model import Measure, Notice, NoticeProfile, Protection
from iotscope.records import C2Candidate, utc
from iotscope.store import Store
from iotscope.tenancy import Principal

MAX_C2 = 50
TRANSITIONS = {"apply": ({"proposed", "lifted"}, "applied"), "lift": ({"applied"}, "lifted")}


def protection_id(n: Notice, measure: Measure) -> str:
    key = "\x1f".join((n.isp, n.subscriber_id, str(n.ip), n.finding_time.isoformat(), measure))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _family(ip: str) -> str:
    return "ip6" if ":" in ip else "ip"


def inbound_filter(n: Notice) -> dict[str, object] | None:
    ports = sorted(p for p in n.ports if p > 0)
    if not ports:
        return None
    ip, fam = str(n.ip), _family(str(n.ip))
    rule = (
        f"add rule inet filter forward {fam} daddr {ip} tcp dport "
        f"{{ {', '.join(map(str, ports))} }} ct state new drop"
    )
    return {"ip": ip, "ports": ports, "direction": "inbound", "nft": rule}


def c2_block(n: Notice, c2s: Sequence[C2Candidate]) -> dict[str, object] | None:
    if "infected" not in n.kinds or not c2s:
        return None
    top = c2s[:MAX_C2]  # best first (plan_protections sorts them once)
    ip, fam = str(n.ip), _family(str(n.ip))
    rules = [
        f"add rule inet filter forward {fam} saddr {ip} {_family(str(c.ip))} daddr {c.ip} "
        f"{c.proto} dport {c.port} drop"
        for c in top
        if c.proto in ("tcp", "udp")
    ]
    return {"ip": ip, "c2": [f"{c.ip}:{c.port}/{c.proto}" for c in top], "nft": "\n".join(rules)}


def firmware_push(n: Notice, profile: NoticeProfile) -> dict[str, object] | None:
    d = n.device
    if not profile.manages_cpe or d.device_type not in CPE_TYPES:
        return None
    if not set(n.kinds) & {"vulnerable", "infected"}:
        return None
    return {"ip": str(n.ip), "vendor": d.vendor, "model": d.model, "current_version": d.version}


def plan_protections(
    notices: Sequence[Notice], profile: NoticeProfile, c2s: Sequence[C2Candidate], now: datetime
) -> list[Protection]:
    """The measures each notice's findings call for (pure)."""
    c2s = sorted(c2s, key=lambda c: (-c.score, str(c.ip), c.port))
    out = []
    for n in notices:
        candidates: list[tuple[Measure, dict[str, object] | None]] = [
            ("inbound_filter", inbound_filter(n)),
            ("c2_block", c2_block(n, c2s)),
            ("firmware_push", firmware_push(n, profile)),
        ]
        for measure, params in candidates:
            if params is not None:
                out.append(
                    Protection(
                        id=protection_id(n, measure),
                        isp=n.isp,
                        subscriber_id=n.subscriber_id,
                        notice_id=n.id,
                        ip=n.ip,
                        finding_time=n.finding_time,
                        measure=measure,
                        params=params,
                        proposed=now,
                    )
                )
    return out


def propose_protections(
    store: Store,
    principal: Principal,
    isp: str,
    notices: Sequence[Notice],
    now: datetime | None = None,
) -> list[Protection]:
    """Store the proposals for ``notices`` (those not proposed before); returns the new ones."""
    profile = _db.load_profile(store, principal, isp)
    if profile is None:
        raise ConfigError("no notice profile for this ISP", isp=isp)
    c2s = [c for c in store.c2_candidates() if not c.site or c.site == isp] or store.c2_candidates()
    mine = [n for n in notices if n.isp == isp]
    plan = plan_protections(mine, profile, c2s, utc(now or datetime.now(UTC)))
    return _db.insert_protections(store, plan, actor=_actor(principal, "iotscope"))


def move(
    store: Store,
    principal: Principal,
    protection_id: str,
    action: str,
    by: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Protection:
    """``apply`` or ``lift`` a protection as ``by`` (a person of the ISP, recorded with the
    caller's role); refuses moves the state does not allow."""
    p = _db.get_protection(store, principal, protection_id)  # first: others learn nothing
    if action not in TRANSITIONS:
        raise ConfigError("action must be apply or lift", action=action)
    if not by.strip():
        raise ConfigError("say who does it (--by NAME)")
    allowed, target = TRANSITIONS[action]
    if p.state not in allowed:
        raise ConfigError(f"cannot {action} a protection that is {p.state}", protection_id=p.id)
    when = utc(now or datetime.now(UTC))
    _db.move_protection(store, p, target, when, _actor(principal, by.strip()), reason)
    return _db.get_protection(store, principal, protection_id)


def _actor(principal: Principal, by: str) -> str:
    who = f"{principal.role}:{principal.tenant}" if principal.tenant else principal.role
    return f"{by} ({who})"[:128]
