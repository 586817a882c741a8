"""create_notices: one per subscriber and device, seeded variants, channel from contact data,
idempotent, tenancy-checked; the store contract on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from iotscope.notify import (
    IspFindings,
    NoticeProfile,
    NotOwned,
    create_notices,
    from_mapping,
    list_notices,
    plan_notices,
    save_profile,
)
from iotscope.notify._db import events_of, notice_by_token, save_contacts
from iotscope.store import Store
from iotscope.tenancy import CENTRE, Principal
from tests.conftest import FIXED_NOW
from tests.notify.conftest import ISP, ISP_P, SUBSCRIBERS, contacts, findings


def _setup(store: Store, profile: NoticeProfile) -> IspFindings:
    save_profile(store, ISP_P, profile)
    save_contacts(store, ISP_P, contacts())
    return IspFindings(ISP, tuple(findings()), from_mapping(SUBSCRIBERS))


def test_one_notice_per_subscriber_and_device(any_store: Store, profile: NoticeProfile) -> None:
    made = create_notices(
        any_store, ISP_P, _setup(any_store, profile), random.Random(1), now=FIXED_NOW
    )
    by_sub = {n.subscriber_id: n for n in made}
    assert sorted(by_sub) == ["sub-1", "sub-2", "sub-3", "sub-4"]  # 127.77.0.99: no subscriber
    cam = by_sub["sub-1"]
    assert cam.kind == "vulnerable" and cam.kinds == ("vulnerable", "weak_login")
    assert cam.ports == (23, 80) and cam.finding_time == FIXED_NOW
    assert cam.details["cves"] == ["CVE-2017-7921"] and cam.details["kev"] is True
    assert [by_sub[s].channel for s in ("sub-1", "sub-2", "sub-3", "sub-4")] == [
        "email",
        "sms",
        "letter",
        "landing",
    ]
    assert by_sub["sub-2"].language == "en" and by_sub["sub-4"].language == "ja"
    assert all(n.token for n in made)
    stored = list_notices(any_store, ISP_P, ISP)
    assert {n.id for n in stored} == {n.id for n in made}
    assert all(n.token is None for n in stored)  # only the hash is kept
    back = notice_by_token(any_store, cam.token or "")
    assert back is not None and back.id == cam.id and back.variant == cam.variant
    assert [e["event"] for e in events_of(any_store, ISP_P, cam.id)] == ["created"]


def test_idempotent(store: Store, profile: NoticeProfile) -> None:
    job = _setup(store, profile)
    first = create_notices(store, ISP_P, job, random.Random(1), now=FIXED_NOW)
    again = create_notices(store, ISP_P, job, random.Random(1), now=FIXED_NOW)
    assert len(first) == 4 and again == []
    assert len(list_notices(store, ISP_P, ISP)) == 4


def test_variants_seeded_and_order_free(profile: NoticeProfile) -> None:
    subs = from_mapping(SUBSCRIBERS)
    cs = {c.subscriber_id: c for c in contacts()}
    a = plan_notices(ISP, findings(), subs, profile, cs, random.Random(5), FIXED_NOW)
    b = plan_notices(ISP, findings()[::-1], subs, profile, cs, random.Random(5), FIXED_NOW)
    assert [(n.id, n.variant) for n in a.notices] == [(n.id, n.variant) for n in b.notices]
    assert a.unresolved == 1 and a.unreachable == 0


def test_variants_are_balanced_over_many(profile: NoticeProfile) -> None:
    import ipaddress

    from iotscope.notify import DeviceFinding

    many = [
        DeviceFinding(
            ip=ipaddress.ip_address(f"127.78.{i // 250}.{i % 250}"),
            port=23,
            time=FIXED_NOW,
            kind="weak_login",
        )
        for i in range(2000)
    ]
    plan = plan_notices(ISP, many, lambda ip, _t: ip, profile, {}, random.Random(3), FIXED_NOW)
    counts = Counter(n.variant for n in plan.notices)
    assert set(counts) == {"A", "B"} and abs(counts["A"] - counts["B"]) < 200


def test_no_allowed_channel_counts_unreachable(profile: NoticeProfile) -> None:
    email_only = profile.model_copy(update={"channels": ("email",)})
    cs = {c.subscriber_id: c for c in contacts()}
    plan = plan_notices(
        ISP, findings(), from_mapping(SUBSCRIBERS), email_only, cs, random.Random(1), FIXED_NOW
    )
    assert [n.subscriber_id for n in plan.notices] == ["sub-1"]
    assert plan.unreachable == 3


def test_tenancy(store: Store, profile: NoticeProfile) -> None:
    job = _setup(store, profile)
    other = Principal("isp", "Kumo Broadband")
    with pytest.raises(NotOwned):
        create_notices(store, other, job, random.Random(1))
    made = create_notices(store, CENTRE, job, random.Random(1), now=FIXED_NOW)
    with pytest.raises(NotOwned):
        list_notices(store, other, ISP)
    from iotscope.notify import get_notice

    with pytest.raises(NotOwned):
        get_notice(store, other, made[0].id)
    assert get_notice(store, ISP_P, made[0].id).id == made[0].id
