"""Follow-up rounds on a schedule: what is due comes from the store alone, so a service that
was killed resumes (a round not stored runs again; a period slept through runs once, now)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from iotscope.followup import LeaseBook, LeaseRow, Observation, Subject, checks
from iotscope.followup._schedule import Due, next_round, scheduled_round
from iotscope.isp._followup import FollowUpOptions, follow_up_loop
from iotscope.notify import IspFindings, NoticeProfile, create_notices, from_mapping
from iotscope.notify._db import NotOwned
from iotscope.notify._model import Device, DeviceFinding
from iotscope.store import Store
from iotscope.tenancy import Principal

T0 = datetime(2026, 10, 1, tzinfo=UTC)
ISP = "Kumo"
ME = Principal("isp", ISP)
CAM = Device(vendor="Hikvision", product="DS-2CD", model="DS-2CD2032")


class Scripted:
    """Every device answers, still weak unless its address is in ``fixed``; ``fail`` raises
    (a round killed half-way: nothing of it is stored)."""

    name = "scripted"

    def __init__(self, fixed: set[str] | None = None, fail: bool = False) -> None:
        self.fixed, self.fail, self.rounds = fixed or set(), fail, 0

    def recheck(self, targets: Sequence[tuple[Subject, str]], when: datetime) -> list[
            Observation | None]:  # fmt: skip
        if self.fail:
            raise ConnectionError("killed mid-round")
        self.rounds += 1
        ident = {"vendor": CAM.vendor, "product": CAM.product, "model": CAM.model}
        return [Observation(a, ident, a not in self.fixed) for _, a in targets]


def _notify(store: Store) -> LeaseBook:
    ips = [f"127.81.0.{i}" for i in range(1, 5)]
    found = tuple(DeviceFinding(ip=ip, port=23, time=T0 - timedelta(hours=1), kind="weak_login",
                                device=CAM, protocol="telnet") for ip in ips)  # fmt: skip
    profile = NoticeProfile(isp=ISP, domain="kumo.example", channels=("landing",))
    subs = from_mapping({ip: f"sub-{k}" for k, ip in enumerate(ips)})
    create_notices(store, ME, IspFindings(ISP, found, subs), random.Random(1), profile=profile,
                   now=T0)  # fmt: skip
    return LeaseBook(LeaseRow(ip, T0 - timedelta(days=9), None, f"sub-{k}")
                     for k, ip in enumerate(ips))  # fmt: skip


def test_next_round_covers_periods() -> None:
    assert next_round(T0, [], 7) == Due(7, T0 + timedelta(days=7))
    assert next_round(T0, [7], 7) == Due(14, T0 + timedelta(days=14))
    assert next_round(T0, [16], 7) == Due(21, T0 + timedelta(days=21))  # a late round counts
    assert not next_round(T0, [], 7).due(T0 + timedelta(days=6, hours=23))
    with pytest.raises(ValueError):
        next_round(T0, [], 0)


def test_rounds_when_due_and_once_per_period(store: Store) -> None:
    leases = _notify(store)
    backend = Scripted({"127.81.0.1"})
    none, due = scheduled_round(store, ME, ISP, ISP, 7, T0 + timedelta(days=3), backend, leases)
    assert none is None and due == Due(7, T0 + timedelta(days=7)) and backend.rounds == 0
    late = T0 + timedelta(days=9)  # the service slept through day 7: the round runs now, once
    result, due = scheduled_round(store, ME, ISP, ISP, 7, late, backend, leases)
    assert result is not None and result.round == 9 and result.states["remediated"] == 1
    assert due == Due(14, T0 + timedelta(days=14))
    again, _ = scheduled_round(store, ME, ISP, ISP, 7, late + timedelta(hours=1), backend, leases)
    assert again is None and backend.rounds == 1
    with pytest.raises(NotOwned):  # another ISP cannot drive this one's rounds
        scheduled_round(store, Principal("isp", "Other"), ISP, ISP, 7, late, backend, leases)


def test_the_service_resumes_a_round_a_kill_interrupted(store: Store) -> None:
    leases = _notify(store)
    now = T0 + timedelta(days=15)
    lines: list[str] = []

    async def run(backend: Scripted) -> int:
        stop = asyncio.Event()
        opts = FollowUpOptions(ISP, every_days=14, poll=0.05, rechecker=backend, leases=leases)
        loop = asyncio.create_task(follow_up_loop(store, opts, stop, lines.append, lambda: now))
        await asyncio.sleep(0.3)
        stop.set()
        return await loop

    assert asyncio.run(run(Scripted(fail=True))) == 0  # killed mid-round: nothing stored
    assert checks(store, ME, ISP, ISP) == [] and "follow-up round failed" in lines[0]
    backend = Scripted()
    assert asyncio.run(run(backend)) == 1  # the restarted service runs the due round, once
    assert backend.rounds == 1 and {c.round for c in checks(store, ME, ISP, ISP)} == {15}
    assert any(line.startswith("follow-up round 15 for Kumo: still_weak 4") for line in lines)
