"""Lab dynamics: seeded, consistent with its own truth, leases that track every move."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from iotscope.errors import ConfigError
from iotscope.followup import LeaseBook, read_lease_csv
from iotscope.lab import World, build_world
from iotscope.lab._dynamics import (
    REMEDIATED,
    LabState,
    Treatment,
    hidden_model,
    load_simulation,
    save_simulation,
    simulate,
    state_distribution,
    truth,
    weak_devices,
    world_at,
    write_leases,
)
from tests.lab.labkit import test_catalog

START = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(300, 5, "127.81.0.0/16", test_catalog())


def test_same_seed_same_month_and_rates_hidden_per_seed(world: World) -> None:
    weak = weak_devices(world.manifest)
    treat = {i: Treatment(0, "letter", "A") for i in weak[::2]}
    a = simulate(world.manifest, treat, 20, START, 9)
    b = simulate(world.manifest, treat, 20, START, 9)
    assert np.array_equal(a.states, b.states) and np.array_equal(a.address, b.address)
    assert hidden_model(1) != hidden_model(2)
    assert hidden_model(1) == hidden_model(1)


def test_simulated_frequencies_match_the_exact_distribution(world: World) -> None:
    weak = weak_devices(world.manifest)
    model = hidden_model(3)
    treat = {i: Treatment(0, "landing", "B") for i in weak}
    hits, total = 0, 0
    for seed in range(12):
        sim = simulate(world.manifest, treat, 30, START, seed, model=model)
        hits += int((sim.states[30] == REMEDIATED).sum())
        total += len(weak)
    p = state_distribution(model, "landing", "B", 30)[REMEDIATED]
    se = (p * (1 - p) / total) ** 0.5
    assert abs(hits / total - p) < 4 * se


def test_leases_follow_every_move(tmp_path: Path, world: World) -> None:
    sim = simulate(world.manifest, {}, 30, START, 4)
    path = tmp_path / "leases.csv"
    write_leases(sim.leases, path)
    book = LeaseBook(read_lease_csv(path))
    for day in (0, 10, 30):
        when = START + timedelta(days=day)
        for i, sub in enumerate(sim.subscribers):
            want = str(ipaddress.IPv4Address(int(sim.address[day, i])))
            assert book.address_at(sub, when) == want
    moved = int((sim.address[30] != sim.address[0]).sum())
    assert moved > 0  # a month at 1 % a day moves some subscribers
    assert len(set(sim.address[30].tolist())) == len(sim.subscribers)  # no address shared


def test_truth_and_observation(world: World) -> None:
    weak = weak_devices(world.manifest)
    treat = {i: Treatment(0, "email", "A") for i in weak[:50]}
    sim = simulate(world.manifest, treat, 30, START, 2)
    real = truth(sim, 30)
    assert set(real["arms"]) == {"email/A"} and real["arms"]["email/A"]["n"] == 50
    assert 0 < real["holdout"]["remediated"] < real["arms"]["email/A"]["remediated"] + 0.2
    assert len(real["devices"]) == len(weak)
    state = LabState(world.manifest, sim)
    i = 0
    seen = state.observe(str(world.manifest.devices[weak[i]].ip), START)
    assert seen is None or seen.identity["vendor"] == world.manifest.devices[weak[i]].vendor


def test_world_at_applies_the_day(world: World) -> None:
    weak = weak_devices(world.manifest)
    sim = simulate(world.manifest, {i: Treatment(0, "landing", "A") for i in weak}, 30, START, 1)
    later = world_at(world, sim, 30)
    by_ip = {r.ip: r for r in later.devices}
    assert len(by_ip) == len(later.devices)  # no two devices on one address
    for i, n in enumerate(sim.devices):
        if not sim.online[30, i]:
            continue
        runtime = by_ip[str(ipaddress.IPv4Address(int(sim.address[30, i])))]
        if sim.states[30, i] == REMEDIATED:
            assert not any(s.pair is not None and s.pair.weak for s in runtime.services)
        elif sim.states[30, i] in (0, 1):
            assert runtime.device.profile == world.devices[n].device.profile


def test_saved_simulation_serves_the_same_day(tmp_path: Path, world: World) -> None:
    weak = weak_devices(world.manifest)
    sim = simulate(world.manifest, {i: Treatment(0, "sms", "B") for i in weak}, 10, START, 3)
    save_simulation(sim, tmp_path / "sim")
    back = load_simulation(tmp_path / "sim")
    assert np.array_equal(back.states, sim.states) and back.devices == sim.devices
    assert back.start == START and back.model.remediate == {}  # no hidden rates on disk
    a, b = world_at(world, sim, 10), world_at(world, back, 10)
    assert [d.ip for d in a.devices] == [d.ip for d in b.devices]
    with pytest.raises(ConfigError):
        load_simulation(tmp_path / "nothing")
