"""The notice campaign's notices and their follow-up, through the real notify and followup code.

A month world's ``notice_campaign`` at ISP ``k`` on day ``t`` is, in the store, what an ISP
running iotscope would leave behind:

1. ``notice create``: one notice per subscriber and device the survey round before ``t`` found
   with a weak login at that ISP (``findings`` read back from the store, subscribers resolved
   through the ISP's lease log), by :func:`iotscope.notify.create_notices`; channel: the
   walled-garden landing page (the lab knows no contact data);
2. ``notice send``: each notice's ``sent`` event at 09:00 UTC on day ``t`` (no mail leaves the
   lab; the event is what sending records);
3. ``notice follow-up``: the notices enrolled as subjects
   (:func:`iotscope.followup._enrol.enrol_notices`) and re-checked every
   :data:`ROUND_EVERY` days after the notice, and once at the month's close, by
   :func:`iotscope.followup.run_round` at the subscriber's address of the day (the ISP's lease
   log as its DHCP export, :class:`iotscope.followup.LeaseBook`, what ``--leases FILE`` reads:
   the same rows ``_sources`` writes to the store, without a query per subscriber) through
   :class:`iotscope.followup.SimulatedRechecker` over :class:`MonthObserver`, which answers
   from the world's observable state only (who sits at an address, and whether its login is
   still weak), never from its hazards.

The KPI "share of notified devices remediated within 30 days"
(:func:`iotscope.centre._kpi_data.remediated_within`) reads these rows; it judges a notice only
once a re-check is 30 days after it, so a world needs ``days`` >= campaign day + 31 for a value
(the default 30-day month has none, and says why). The truth of each notified device (the day
its login stopped being weak) is :func:`followup_truth`.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from iotscope.followup import LeaseBook, LeaseRow, SimulatedRechecker, run_round
from iotscope.followup._enrol import enrol_notices
from iotscope.lab.month._simulate import Action
from iotscope.lab.month._sources import lease_rows
from iotscope.lab.month._truth import survey_days
from iotscope.lab.month._world import MonthWorld
from iotscope.notify import (
    Device,
    DeviceFinding,
    IspFindings,
    NoticeProfile,
    create_notices,
    list_notices,
)
from iotscope.notify._db import record_event
from iotscope.store import Store
from iotscope.store import _schema as s
from iotscope.tenancy import CENTRE, site_name

ROUND_EVERY = 7  # days between re-checks
SEND_HOUR = 9  # UTC hour the campaign's notices go out
WEAK = ("accepted", "no_auth")


def campaign(world: MonthWorld) -> Action | None:
    """The world's notice campaign (None: it has none)."""
    return next((a for a in world.run.actions if a.kind == "notice_campaign"), None)


def trial_name(world: MonthWorld) -> str:
    return f"lab-month-{world.seed}"


def notice_round(world: MonthWorld, a: Action) -> int:
    """The survey round the campaign notifies from: the last one on or before its day."""
    return max(d for d in survey_days(world.days) if d <= a.day)


@dataclass(frozen=True)
class Seen:
    """What a re-check sees at an address (:class:`iotscope.followup._simulated.SeenLike`)."""

    address: str
    identity: dict[str, str | None]
    exposed: bool


class MonthObserver:
    """The world's observable state on a day: the device at an address and its login.

    A :class:`iotscope.followup._simulated.SimulatedWorld`. A time after the month's last day
    sees the state at its end."""

    def __init__(self, world: MonthWorld) -> None:
        self.world = world
        self._at: dict[int, dict[int, int]] = {}

    def _device(self, day: int, address: str) -> int | None:
        if day not in self._at:
            self._at[day] = {int(a): i for i, a in enumerate(self.world.addresses[day].tolist())}
        return self._at[day].get(int(ipaddress.IPv4Address(address)))

    def observe(self, address: str, when: datetime) -> Seen | None:
        w = self.world
        day = min(max((when - w.start) // timedelta(days=1), 0), w.days - 1)
        i = self._device(day, address)
        if i is None:
            return None
        p = w.products.profiles[int(w.devices.profile[i])]
        identity: dict[str, str | None] = {"vendor": p.vendor, "product": p.product,
                    "model": p.all_models()[int(w.devices.model[i])]}  # fmt: skip
        return Seen(address, identity, bool(w.run.states.weak[day, i]))


def _findings(store: Store, world: MonthWorld, k: int, day: int) -> list[DeviceFinding]:
    """The weak-login findings of the survey round on ``day`` inside ISP ``k``'s prefix."""
    from iotscope.lab.month._load import survey_id

    f = s.findings.c
    net = ipaddress.ip_network(world.isps[k].prefix)
    stmt = select(f.ip, f.port, f.time, f.service, f.identity, f.login).where(
        f.survey_id == survey_id(world, day)
    )
    out = []
    with store.engine.connect() as conn:
        for ip, port, time, service, ident, login in conn.execute(stmt):
            if (login or {}).get("outcome") not in WEAK or ipaddress.ip_address(ip) not in net:
                continue
            dev = Device(**{x: (ident or {}).get(x) for x in
                            ("vendor", "product", "model", "version", "device_type")})  # fmt: skip
            out.append(DeviceFinding(ip=ip, port=port, time=time, kind="weak_login",
                                     service=service, device=dev,
                                     protocol=login.get("protocol")))  # fmt: skip
    return out


def _round_times(world: MonthWorld, sent: datetime) -> list[datetime]:
    """Every :data:`ROUND_EVERY` days after ``sent`` within the month, and its close."""
    end = world.day_start(world.days)
    times = [sent + timedelta(days=ROUND_EVERY * n) for n in range(1, world.days)]
    return [t for t in times if t < end] + [end]


def load_followup(store: Store, world: MonthWorld) -> dict[str, int]:
    """Notices, their ``sent`` events, subjects and re-checks of the world's campaign
    (idempotent: notices and subjects are keyed; a re-check round replaces its rows)."""
    a = campaign(world)
    if a is None or a.isp is None:
        return {"notices": 0, "followup_checks": 0}
    isp = world.isps[a.isp].name
    sent = world.day_start(a.day) + timedelta(hours=SEND_HOUR)
    found = _findings(store, world, a.isp, notice_round(world, a))
    profile = NoticeProfile(isp=isp, domain=f"{site_name(isp)}.lab.example",
                            channels=("landing",))  # fmt: skip
    rng = random.Random(world.seed)
    create_notices(store, CENTRE, IspFindings(isp, tuple(found)), rng, profile=profile, now=sent)
    notices = list_notices(store, CENTRE, isp)
    for n in notices:
        if n.sent is None:
            record_event(store, n.id, "sent", sent, {"channel": n.channel, "lab": True})
    notices = list_notices(store, CENTRE, isp)
    enrol_notices(store, CENTRE, isp, trial_name(world), notices)
    book = LeaseBook(LeaseRow(**r) for r in lease_rows(world, a.isp))
    checker = SimulatedRechecker(MonthObserver(world))
    checked = 0
    for when in _round_times(world, sent):
        result = run_round(store, CENTRE, isp, trial_name(world), when, checker, book)
        checked += sum(result.states.values())
    return {"notices": len(notices), "followup_checks": checked}


def followup_truth(world: MonthWorld) -> dict[str, Any] | None:
    """Per device of the campaign's ISP with a weak login on the notice round's day: the
    first day from the campaign on that its login was no longer weak (None: weak to the
    month's end), and the share fixed within 30 days where the month shows it."""
    a = campaign(world)
    if a is None or a.isp is None:
        return None
    weak = world.run.states.weak
    day0 = notice_round(world, a)
    mine = np.nonzero((world.devices.isp == a.isp) & weak[day0])[0]
    fixed: dict[str, int | None] = {}
    for i in mine.tolist():
        off = np.nonzero(~weak[a.day :, i])[0]
        fixed[world.devices.subscriber[i]] = int(a.day + off[0]) if len(off) else None
    horizon = a.day + 30
    within = sum(d is not None and d <= horizon for d in fixed.values())
    return {
        "isp": world.isps[a.isp].name, "notice_round_day": day0, "campaign_day": a.day,
        "sent": (world.day_start(a.day) + timedelta(hours=SEND_HOUR)).isoformat(),
        "trial": trial_name(world), "weak_devices": len(fixed),
        "fixed_day_by_subscriber": fixed,
        "share_fixed_within_30_days": (within / len(fixed)) if horizon < world.days and fixed
        else None,
    }  # fmt: skip
