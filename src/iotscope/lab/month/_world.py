"""``generate``: a month of a lab world, pure and seeded, with its counterfactuals.

The seed fixes everything, hidden rates included, through independent child streams (numpy
``SeedSequence.spawn``): population, botnets, hidden rates, interventions, per-day draws and
detector coins. Each intervention's effect is measured by simulating the same world without it
(same draws) and comparing: :func:`effects`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from iotscope.lab._catalog import Catalog, load_catalog
from iotscope.lab.month import _actions
from iotscope.lab.month._botnets import (
    C2,
    Lineage,
    Plan,
    active_table,
    make_lineages,
    make_plans,
    schedule,
)
from iotscope.lab.month._contacts import Coins, Contacts, contacts
from iotscope.lab.month._population import (
    Devices,
    MonthIsp,
    Products,
    address_days,
    make_devices,
    make_isps,
)
from iotscope.lab.month._simulate import Action, Draws, Hidden, States, simulate

DEFAULT_START = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    """What happened in one version of the world (the factual one or a counterfactual)."""

    actions: tuple[Action, ...]
    c2s: tuple[C2, ...]
    states: States
    contacts: Contacts


@dataclass(frozen=True)
class MonthWorld:
    """A month of the lab world: who, what, and what happened (``run``), plus the ground truth
    of what would have happened without each intervention (``counterfactuals`` by action id)."""

    seed: int
    start: datetime
    days: int
    isps: tuple[MonthIsp, ...]
    products: Products
    devices: Devices
    addresses: npt.NDArray[np.uint32]  # [day, device]
    hidden: Hidden
    lineages: tuple[Lineage, ...]
    plans: tuple[Plan, ...]
    coins: Coins
    run: Run
    counterfactuals: dict[str, Run]

    def day_start(self, day: int) -> datetime:
        return self.start + timedelta(days=day)


@dataclass(frozen=True)
class _Static:
    devices: Devices
    products: Products
    lineages: tuple[Lineage, ...]
    plans: tuple[Plan, ...]
    hidden: Hidden
    draws: Draws
    coins: Coins
    days: int


def generate(
    seed: int,
    *,
    devices: int = 10_000,
    isps: int = 5,
    days: int = 30,
    start: datetime = DEFAULT_START,
    catalog: Catalog | None = None,
) -> MonthWorld:
    """A month world of ``devices`` subscribers' devices in ``isps`` ISPs over ``days`` days."""
    if devices < 1 or days < 7:
        raise ValueError("a month world needs at least one device and seven days")
    ss = np.random.SeedSequence(seed).spawn(6)
    pop, bot, hid, act, drw, coin = (np.random.default_rng(s) for s in ss)
    products = Products.of(catalog or load_catalog())
    the_isps = make_isps(pop, isps)
    devs = make_devices(pop, the_isps, products, devices)
    hidden = Hidden.draw(hid, len(the_isps))
    lineages = make_lineages(bot, days, len(the_isps), int(bot.integers(12, 21)))
    plans = make_plans(bot, lineages, days, hidden.overlap)
    positions = max(len(p.durations) for p in plans)
    static = _Static(devs, products, lineages, plans, hidden,
                     Draws.draw(drw, days, devices, 2), Coins.draw(coin, len(the_isps),
                     len(lineages), positions), days)  # fmt: skip
    tds = _actions.takedowns(act, lineages, days)
    first = _play(static, tds)
    found = _first_reported(first)
    seen = _reported_pairs(first, devs.isp)
    others = _actions.blocks_and_campaign(act, first.c2s, found, seen, len(the_isps), days)
    actions = _actions.with_targets(tds + others, first.c2s)
    run = _play(static, actions)
    cfs = {a.id: _play(static, tuple(b for b in actions if b.id != a.id)) for a in actions}
    addresses = address_days(pop, devs.isp, days, hidden.address_change, len(the_isps))
    start = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return MonthWorld(seed, start, days, the_isps, products, devs, addresses, hidden, lineages,
                      plans, static.coins, run, cfs)  # fmt: skip


def _play(st: _Static, actions: tuple[Action, ...]) -> Run:
    downs: dict[int, set[int]] = {}
    for a in actions:
        if a.kind == "c2_takedown" and a.lineage is not None:
            downs.setdefault(a.lineage, set()).add(a.day)
    planned = schedule(st.lineages, st.plans, downs)
    c2s = tuple(c for c in planned if c.end > 0 and c.start < st.days)
    states = simulate(st.devices, st.products, st.lineages, st.hidden, actions, st.draws, st.days)
    active = active_table(c2s, len(st.lineages), st.days)
    found = contacts(states.lineage, st.devices.isp, c2s, active, st.lineages, actions,
                     st.hidden, st.coins)  # fmt: skip
    return Run(actions, c2s, states, found)


def _first_reported(run: Run) -> dict[int, int]:
    """C2 index -> the first day any ISP reported a contact with it."""
    c = run.contacts
    out: dict[int, int] = {}
    for c2, day in zip(c.c2[c.reported].tolist(), c.day[c.reported].tolist(), strict=True):
        out[c2] = min(out.get(c2, day), day)
    return out


def _reported_pairs(run: Run, isp: npt.NDArray[np.int64]) -> dict[tuple[int, int], int]:
    """(C2 index, ISP) -> reported contacts."""
    c = run.contacts
    keys, counts = np.unique(np.stack([c.c2[c.reported], isp[c.device[c.reported]]]), axis=1,
                             return_counts=True)  # fmt: skip
    return {(int(a), int(b)): int(n) for (a, b), n in zip(keys.T.tolist(), counts.tolist(),
                                                           strict=True)}  # fmt: skip


def without(world: MonthWorld, action_id: str) -> MonthWorld:
    """The same world as if ``action_id`` had not happened (its counterfactual run)."""
    return replace(world, run=world.counterfactuals[action_id], counterfactuals={})
