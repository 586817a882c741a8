"""A real re-survey: the lab as it stands after a simulated month, bound on loopback, and the
follow-up's survey backend re-checking the subscribers at their current addresses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotscope.followup import (
    LeaseBook,
    LeaseRow,
    SurveyRechecker,
    checks,
    make_subject,
    run_round,
    save_subjects,
    with_notice,
)
from iotscope.lab import build_world, start_lab
from iotscope.lab._dynamics import (
    REMEDIATED,
    REPLACED,
    STATES,
    ResponseModel,
    Treatment,
    simulate,
    subscriber_ids,
    world_at,
)
from iotscope.records import Finding
from iotscope.store import open_store
from iotscope.survey import LoginPolicy, SurveyConfig, Timeouts, prepare, run_survey
from iotscope.tenancy import CENTRE
from tests.followup.test_round import F
from tests.lab.labkit import test_catalog

pytestmark = [pytest.mark.network, pytest.mark.slow]
QUICK = Timeouts(connect=3.0, read=2.5, probe=8.0, login=30.0)  # CI machines are loaded
POLICY = LoginPolicy(max_attempts=25, budget=40.0)
PORTS = "22,23,80,554,1883,2323,8080"
START = datetime(2026, 10, 1, tzinfo=UTC)
MODEL = ResponseModel(baseline=0.01, remediate={"landing/A": 0.04}, replace=0.01, infect=0.0,
                      revert=0.0, offline=0.0, infected_share=0.0, address_change=0.02)  # fmt: skip


async def _survey(addresses: list[str]) -> list[Finding]:
    found: list[Finding] = []
    config = SurveyConfig(networks=tuple(f"{a}/32" for a in addresses), rate=None,
                          timeouts=QUICK, policy=POLICY, ports=PORTS, seed=1)  # fmt: skip
    await run_survey(prepare(config), found.extend)
    return found


async def test_real_recheck_of_a_simulated_month(lab_network: str, tmp_path: Path) -> None:
    world = build_world(40, 8, lab_network, test_catalog())
    weak_truth = [str(d.ip) for d in world.manifest.devices
                  if not d.hostile and any(c.weak for c in d.credentials)]  # fmt: skip
    async with await start_lab(world):
        found = await _survey(weak_truth)
    weak = {}
    for f in found:
        if f.login.outcome in ("accepted", "no_auth") and str(f.ip) not in weak:
            weak[str(f.ip)] = f
    index = {str(d.ip): i for i, d in enumerate(world.manifest.devices)}
    chosen = sorted(index[ip] for ip in weak)[:12]
    assert len(chosen) >= 6
    subs = subscriber_ids(world.manifest)
    treat = {i: Treatment(0, "landing", "A") for i in chosen}
    sim = simulate(world.manifest, treat, 30, START, 5, model=MODEL, devices=chosen)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    rows = []
    for i in chosen:
        f = weak[str(world.manifest.devices[i].ip)]
        ident = f.identity
        identity = {"vendor": ident.vendor, "product": ident.product,
                    "model": ident.model} if ident else {}  # fmt: skip
        x = make_subject("real", "lab", F(str(f.ip), f.port, START, subs[i]), identity, START)
        rows.append(with_notice(x, f"n-{i}", "landing", "A", START))
    save_subjects(store, CENTRE, rows)
    book = LeaseBook(LeaseRow(x.address, x.start, x.end, x.subscriber_id) for x in sim.leases)
    backend = SurveyRechecker(PORTS, QUICK, policy=POLICY)
    when = START + timedelta(days=30)
    async with await start_lab(world_at(world, sim, 30)):
        result = await asyncio.to_thread(run_round, store, CENTRE, "lab", "real", when,
                                         backend, book)  # fmt: skip
    truth = {subs[i]: STATES[sim.states[30, k]] for k, i in enumerate(chosen)}
    got = {c.subject_id: c for c in checks(store, CENTRE, "lab", "real")}
    by_sub = {x.subscriber_id: got[x.id] for x in rows}
    expect = {"weak": "still_weak", "remediated": "remediated", "replaced": "replaced"}
    agree = [s for s, c in by_sub.items() if c.state == expect[truth[s]]]
    assert sum(result.states.values()) == len(chosen)
    assert {c.backend for c in got.values()} == {"survey"}
    # every remediated or still-weak device is classified as the lab's state says; a
    # replacement the survey cannot tell apart by name may read as the same device
    for sub, c in by_sub.items():
        if truth[sub] != "replaced":
            assert c.state == expect[truth[sub]], (sub, truth[sub], c.evidence)
    assert len(agree) >= len(chosen) - sum(t == "replaced" for t in truth.values())
    moved = [x for x in rows if book.address_at(x.subscriber_id, when) != x.ip]
    assert all(by_sub[x.subscriber_id].address != x.ip for x in moved)
    assert any(sim.states[30, k] == REMEDIATED for k in range(len(chosen))) or any(
        sim.states[30, k] == REPLACED for k in range(len(chosen)))  # fmt: skip
    store.engine.dispose()
