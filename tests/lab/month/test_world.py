"""The month world: seeded, consistent, its C2s handing over, its ISPs seeing only their own."""

from __future__ import annotations

import itertools

import numpy as np

from iotscope.lab.month import MonthWorld, generate, without
from iotscope.lab.month._botnets import schedule


def test_same_seed_same_world_other_seed_other_hidden_rates(world: MonthWorld) -> None:
    again = generate(11, devices=300, isps=5, days=14)
    assert np.array_equal(again.run.states.lineage, world.run.states.lineage)
    assert again.hidden == world.hidden
    assert generate(12, devices=300, isps=5, days=14).hidden != world.hidden


def test_isps_and_devices(world: MonthWorld) -> None:
    assert len(world.isps) == 5 and len({x.name for x in world.isps}) == 5
    assert len(world.isps[0].prefectures) == 47  # the national ISP
    assert np.bincount(world.devices.isp, minlength=5).min() > 0
    # every device sits in a prefecture its ISP serves, at an address in its ISP's prefix
    for k, x in enumerate(world.isps):
        mine = world.devices.isp == k
        codes = {f"{p + 1:02d}" for p in world.devices.pref[mine].tolist()}
        assert codes <= set(x.prefectures)
    per_day = world.addresses
    assert all(len(set(row.tolist())) == len(row) for row in per_day)  # no address twice a day


def test_c2_chains_hand_over_without_gaps(world: MonthWorld) -> None:
    for li, _lin in enumerate(world.lineages):
        mine = [c for c in world.run.c2s if c.lineage == li]
        for a, b in itertools.pairwise(mine):
            assert b.start <= a.end  # the next C2 is up when the last goes (or before)
            assert b.position == a.position + 1


def test_takedown_ends_its_c2_that_day(world: MonthWorld) -> None:
    for a in world.run.actions:
        if a.kind == "c2_takedown":
            assert a.targets
            c2s = schedule(world.lineages, world.plans, {a.lineage: {a.day}})  # type: ignore[dict-item]
            assert any(c.end == a.day and (c.ip, c.port) in a.targets for c in c2s)


def test_isps_report_only_their_own_subscribers(world: MonthWorld) -> None:
    c = world.run.contacts
    assert c.reported.any() and not c.reported.all()
    # a reported contact comes from an infected device of the lineage whose C2 it names
    lin_of = np.array([x.lineage for x in world.run.c2s])
    assert np.array_equal(world.run.states.lineage[c.day, c.device], lin_of[c.c2])


def test_counterfactual_differs_only_by_its_intervention(world: MonthWorld) -> None:
    campaign = next(a for a in world.run.actions if a.kind == "notice_campaign")
    other = without(world, campaign.id)
    before = slice(0, campaign.day)
    assert np.array_equal(other.run.states.lineage[before], world.run.states.lineage[before])
    assert campaign not in other.run.actions


def test_firmware_updates_go_to_the_current_release_of_the_line(world: MonthWorld) -> None:
    from iotscope.vulns import default_releases

    releases, products = default_releases(), world.products
    for i, p in enumerate(products.profiles):
        vendor, product = (p.cpe or "::::").split(":")[3:5]
        for j in range(len(p.versions)):
            target = p.versions[int(products.update_to[i, j])].version
            assert releases.outdated(vendor, product, target) in (False, None)
    # and the world's devices only ever move to such versions
    changed = world.run.states.version[-1] != world.run.states.version[0]
    prof, last = world.devices.profile[changed], world.run.states.version[-1][changed]
    assert np.array_equal(products.update_to[prof, last], last)
