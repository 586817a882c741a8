"""Day by day: infection, clean-up, remediation, firmware updates, and the interventions.

Every random number is drawn up front (``Draws``), one per device and day and purpose, so the
world with an intervention and the world without it (its counterfactual) differ only by the
intervention: the effect in the truth is that difference, exact, not a model's guess.

Per device and day: a susceptible device (weak login, or vulnerable firmware at a lower rate)
is infected with the daily hazard ``1 - exp(-H)``, ``H`` summed over the lineages alive that day
(each lineage's strength x its reach into the device's ISP); an infected device is cleaned with
the clean-up hazard and then fixes its login with a hidden chance; weak devices fix their login
and devices update their firmware at small daily hazards. A notice campaign multiplies the
clean-up and login-fix hazards of its ISP from its start; a takedown orphans a hidden share of
its lineage's bots on its day; a lineage that ends orphans all its bots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iotscope.lab.month._botnets import Lineage, alive
from iotscope.lab.month._population import Devices, Products

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Hidden:
    """The world's hidden rates (drawn from the seed; only the truth file states them)."""

    infect: float  # scale of the daily infection hazard
    vuln_only: float  # susceptibility of a vulnerable device with a strong login (weak = 1)
    clean: float  # daily clean-up hazard of an infected device
    fix_after_clean: float  # chance a cleaned device also changes its login
    fix: float  # daily hazard that a weak device's login gets changed
    update: float  # daily hazard of a firmware update to its line's current release
    address_change: float  # daily hazard of a new address
    offline: float  # a device misses a survey round
    overlap: float  # share of handovers with both C2s active
    detect: tuple[float, ...]  # per ISP: chance one bot's traffic reveals its C2
    names_family: tuple[float, ...]  # per ISP: its detector names the family

    @classmethod
    def draw(cls, rng: np.random.Generator, nisps: int) -> Hidden:
        u = rng.uniform
        return cls(
            infect=u(0.006, 0.02), vuln_only=u(0.2, 0.5), clean=u(0.03, 0.07),
            fix_after_clean=u(0.2, 0.5), fix=u(0.002, 0.006), update=u(0.002, 0.006),
            address_change=u(0.005, 0.03), offline=u(0.03, 0.12), overlap=u(0.15, 0.45),
            detect=tuple(float(x) for x in u(0.1, 0.4, nisps)),
            names_family=tuple(float(x) for x in u(0.3, 0.9, nisps)),
        )  # fmt: skip


@dataclass(frozen=True)
class Action:
    """An intervention as the world applies it. ``factor`` is hidden: the share of bots a
    takedown orphans, the share of contacts a block removes, a campaign's hazard multiplier."""

    id: str
    kind: str
    day: int
    end: int | None
    isp: int | None
    lineage: int | None
    factor: float
    targets: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Draws:
    """Uniforms per ``[day, device]`` for each purpose (float32), and per takedown."""

    infect: F32
    pick: F32
    clean: F32
    fix_after: F32
    fix: F32
    update: F32
    orphan: F32  # [takedown slot, device]

    @classmethod
    def draw(cls, rng: np.random.Generator, days: int, n: int, slots: int) -> Draws:
        def u(*shape: int) -> F32:
            return rng.random(shape, dtype=np.float32)

        return cls(u(days, n), u(days, n), u(days, n), u(days, n), u(days, n), u(days, n),
                   u(max(slots, 1), n))  # fmt: skip


@dataclass(frozen=True)
class States:
    """``[day, device]``: the lineage holding it (-1 none), weak login, firmware index."""

    lineage: npt.NDArray[np.int16]
    weak: npt.NDArray[np.bool_]
    version: npt.NDArray[np.int16]


def simulate(
    devices: Devices,
    products: Products,
    lineages: tuple[Lineage, ...],
    hidden: Hidden,
    actions: tuple[Action, ...],
    draws: Draws,
    days: int,
) -> States:
    n = len(devices)
    lin = np.full((days, n), -1, dtype=np.int16)
    weak = np.zeros((days, n), dtype=bool)
    ver = np.zeros((days, n), dtype=np.int16)
    live = alive(lineages, days)
    pressure = _pressure(devices, lineages, hidden)  # [device, lineage]
    cur_lin = np.full(n, -1, dtype=np.int16)
    cur_weak, cur_ver = devices.weak0.copy(), devices.version0.copy()
    takedowns = [(i, a) for i, a in enumerate(a for a in actions if a.kind == "c2_takedown")]
    for d in range(days):
        if d > 0:
            boost = _campaign_boost(actions, devices.isp, d)
            cleaned = (cur_lin >= 0) & (draws.clean[d] < hidden.clean * boost)
            cur_lin[cleaned] = -1
            cur_weak &= ~(cleaned & (draws.fix_after[d] < hidden.fix_after_clean))
            cur_weak &= ~((cur_lin < 0) & (draws.fix[d] < hidden.fix * boost))
            updated = draws.update[d] < hidden.update
            cur_ver[updated] = products.update_to[devices.profile[updated], cur_ver[updated]]
        for slot, a in takedowns:
            if a.day == d:
                cur_lin[(cur_lin == a.lineage) & (draws.orphan[slot] < a.factor)] = -1
        cur_lin[(cur_lin >= 0) & ~live[d][np.maximum(cur_lin, 0)]] = -1  # the lineage ended
        vuln = products.vulnerable[devices.profile, cur_ver]
        susc = np.where(cur_weak, 1.0, np.where(vuln, hidden.vuln_only, 0.0))
        h = pressure * live[d][None, :] * susc[:, None]  # [device, lineage] hazards today
        _infect(cur_lin, h, draws.infect[d], draws.pick[d], None if d else hidden.clean)
        lin[d], weak[d], ver[d] = cur_lin, cur_weak, cur_ver
    return States(lin, weak, ver)


def _infect(
    lin: npt.NDArray[np.int16], h: npt.NDArray[np.float64], u: F32, pick: F32,
    steady: float | None,
) -> None:  # fmt: skip
    """Infect (in place) the devices not infected whose coin ``u`` falls under the daily
    chance ``1 - exp(-sum h)`` (on day 0: the steady-state share ``H / (H + clean)``), each by
    a lineage drawn in proportion to its hazard."""
    total = h.sum(axis=1)
    rate = 1.0 - np.exp(-total) if steady is None else total / (total + steady)
    new = (lin < 0) & (u < rate)
    cum = np.cumsum(h[new], axis=1) / np.maximum(total[new], 1e-12)[:, None]
    lin[new] = (pick[new][:, None] > cum).sum(axis=1).clip(0, h.shape[1] - 1)


def _pressure(
    devices: Devices, lineages: tuple[Lineage, ...], hidden: Hidden
) -> npt.NDArray[np.float64]:
    """``[device, lineage]``: each lineage's daily infection hazard for a fully weak device."""
    strength = np.array([x.strength for x in lineages])
    reach = np.array([x.reach for x in lineages])  # [lineage, isp]
    return hidden.infect * strength[None, :] * reach[:, devices.isp].T


def _campaign_boost(
    actions: tuple[Action, ...], isp: npt.NDArray[np.int64], day: int
) -> npt.NDArray[np.float64]:
    boost = np.ones(len(isp))
    for a in actions:
        if a.kind == "notice_campaign" and a.day <= day and (a.end is None or day < a.end):
            boost[isp == a.isp] *= a.factor
    return boost
