"""Protections: which measures each finding calls for; proposed -> applied -> lifted, audited."""

from __future__ import annotations

import ipaddress
import random

import pytest

from iotscope.errors import ConfigError
from iotscope.notify import IspFindings, NoticeProfile, NotOwned, create_notices, from_mapping
from iotscope.notify._db import list_protections, protection_history, save_contacts, save_profile
from iotscope.notify._protect import move, propose_protections
from iotscope.records import C2Candidate, C2Run
from iotscope.store import Store
from iotscope.tenancy import Principal
from tests.conftest import FIXED_NOW
from tests.notify.conftest import ISP, ISP_P, SUBSCRIBERS, contacts, findings


def _c2(store: Store) -> None:
    cand = C2Candidate(
        ip=ipaddress.ip_address("127.66.0.5"),
        port=23,
        proto="tcp",
        score=0.9,
        clients=3,
        infected_clients=3,
        first_seen=FIXED_NOW,
        last_seen=FIXED_NOW,
        site=ISP,
    )
    store.save_c2_run(C2Run(id="r1", site=ISP, started=FIXED_NOW), [cand])


def test_measures_per_finding_and_lifecycle(any_store: Store, profile: NoticeProfile) -> None:
    st = any_store
    save_profile(st, ISP_P, profile)
    save_contacts(st, ISP_P, contacts())
    _c2(st)
    job = IspFindings(ISP, tuple(findings()), from_mapping(SUBSCRIBERS))
    made = create_notices(st, ISP_P, job, random.Random(1), now=FIXED_NOW)
    new = propose_protections(st, ISP_P, ISP, made, now=FIXED_NOW)
    assert propose_protections(st, ISP_P, ISP, made, now=FIXED_NOW) == []  # idempotent
    by = {(str(p.ip), p.measure): p for p in new}
    cam = by[("127.77.0.10", "inbound_filter")]
    assert cam.params["ports"] == [23, 80]
    assert "ip daddr 127.77.0.10 tcp dport { 23, 80 } ct state new drop" in cam.params["nft"]
    c2 = by[("127.77.0.11", "c2_block")]  # the infected router
    assert c2.params["c2"] == ["127.66.0.5:23/tcp"]
    assert ("127.77.0.11", "firmware_push") in by  # infected + managed CPE router
    assert ("127.77.0.10", "c2_block") not in by and ("127.77.0.10", "firmware_push") not in by
    assert ("127.77.0.12", "firmware_push") not in by  # weak login only: a password, not firmware
    applied = move(st, ISP_P, cam.id, "apply", "Suzuki", "weak telnet", now=FIXED_NOW)
    assert applied.state == "applied" and applied.applied_by == f"Suzuki (isp:{ISP})"
    with pytest.raises(ConfigError):
        move(st, ISP_P, cam.id, "apply", "Suzuki")
    lifted = move(st, ISP_P, cam.id, "lift", "Tanaka", "device replaced", now=FIXED_NOW)
    assert lifted.state == "lifted" and lifted.lifted_by == f"Tanaka (isp:{ISP})"
    history = protection_history(st, ISP_P, cam.id)
    assert [(h["state"], h["reason"]) for h in history] == [
        ("proposed", None),
        ("applied", "weak telnet"),
        ("lifted", "device replaced"),
    ]
    assert [p.id for p in list_protections(st, ISP_P, ISP, "lifted")] == [cam.id]


def test_tenancy_and_who(store: Store, profile: NoticeProfile) -> None:
    save_profile(store, ISP_P, profile)
    job = IspFindings(ISP, tuple(findings()), from_mapping(SUBSCRIBERS))
    made = create_notices(store, ISP_P, job, random.Random(1), now=FIXED_NOW)
    pid = propose_protections(store, ISP_P, ISP, made, now=FIXED_NOW)[0].id
    with pytest.raises(NotOwned):
        move(store, Principal("isp", "Kumo Broadband"), pid, "apply", "Eve")
    with pytest.raises(NotOwned):
        list_protections(store, Principal("isp", "Kumo Broadband"), ISP)
    with pytest.raises(ConfigError):
        move(store, ISP_P, pid, "apply", "  ")  # who must be said
    with pytest.raises(ConfigError):
        move(store, ISP_P, pid, "lift", "Suzuki")  # not applied yet
