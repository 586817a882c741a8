"""Bot-to-C2 contacts per day, and which of them each ISP's detector reports.

Every infected device contacts its lineage's active C2 each day; on a handover day (two C2s
active) a bot talks to the new one, the old one, or both. A block at an ISP (blocklist or BGP
blackhole) removes a hidden share of its bots' contacts to the blocked endpoints from its flows.
Each ISP's detector finds a C2 with a chance that grows with the number of its own bots on it
(one coin per ISP and C2, drawn once) and then reports every contact of its own subscribers
with it; it names the family only sometimes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iotscope.lab.month._botnets import C2, FAMILIES, Lineage
from iotscope.lab.month._simulate import Action, Hidden

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Contacts:
    """One row per (day, device, C2): all true contacts, with what the ISP reports."""

    day: I64
    device: I64
    c2: I64  # index into the world's C2s
    flows: I64
    first_s: I64  # seconds into the day
    last_s: I64
    reported: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.day)


@dataclass(frozen=True)
class Coins:
    """Per-ISP detector coins over (lineage, chain position), drawn once per world."""

    detect: npt.NDArray[np.float64]  # [isp, lineage, position]
    family: npt.NDArray[np.float64]
    seed: int  # of the per-day contact draws

    @classmethod
    def draw(cls, rng: np.random.Generator, nisps: int, nlineages: int, positions: int) -> Coins:
        shape = (nisps, nlineages, positions)
        return cls(rng.random(shape), rng.random(shape), int(rng.integers(2**62)))


def contacts(
    lin: npt.NDArray[np.int16],
    isp: I64,
    c2s: tuple[C2, ...],
    active: I64,
    lineages: tuple[Lineage, ...],
    actions: tuple[Action, ...],
    hidden: Hidden,
    coins: Coins,
) -> Contacts:
    """All contacts of the month (``lin`` [day, device]; ``active`` [day, lineage, 2])."""
    rng = np.random.default_rng(coins.seed)
    days, n = lin.shape
    mean = np.array([FAMILIES[x.family][1] for x in lineages])
    c2_lin = np.array([c.lineage for c in c2s] or [0])
    c2_pos = np.array([c.position for c in c2s] or [0])
    blocks = _blocks(c2s, actions)
    parts: list[tuple[I64, ...]] = []
    for d in range(days):
        u = rng.random((5, n))
        g = np.asarray(rng.gamma(2.0, 0.5, n), dtype=np.float64)
        dd, cc = _pairs(lin[d], active[d], u)
        blocked = _blocked(blocks, d, isp[dd], cc, u[2, dd])
        fl = 1 + np.floor(mean[c2_lin[cc]] * g[dd]).astype(np.int64)
        t0 = (u[3, dd] * 43_200).astype(np.int64)
        t1 = t0 + ((86_399 - t0) * u[4, dd] * (fl > 1)).astype(np.int64)
        parts.append((np.full(len(dd), d), dd, cc, fl, t0, t1, (~blocked).astype(np.int64)))
    day, dev, c2, fl, t0, t1, ok = (np.concatenate([p[i] for p in parts]).astype(np.int64)
                                    for i in range(7))  # fmt: skip
    passed = ok.astype(bool)  # what a block leaves in the flows is all a detector can use
    seen = np.zeros(len(day), dtype=bool)
    seen[passed] = _detected(dev[passed], c2[passed], isp, c2_lin, c2_pos, hidden, coins)
    return Contacts(day, dev, c2, fl, t0, t1, seen)


def _pairs(lin: npt.NDArray[np.int16], active: I64, u: npt.NDArray[np.float64]) -> tuple[I64, I64]:
    """One day's (device, C2) contacts: each bot talks to its lineage's C2; on a handover day
    to the new one (60 %) or the old one, and to both a quarter of the time."""
    dev = np.nonzero(lin >= 0)[0]
    lid = lin[dev].astype(np.int64)
    new, old = active[lid, 0], active[lid, 1]
    two = old >= 0
    first = np.where(two & (u[0, dev] < 0.4), old, new)
    both = two & (u[1, dev] < 0.25)
    second = np.where(first == new, old, new)
    dd = np.concatenate([dev, dev[both]])
    cc = np.concatenate([first, second[both]])
    keep = cc >= 0
    return dd[keep], cc[keep]


def _detected(
    dev: I64, c2: I64, isp: I64, c2_lin: I64, c2_pos: I64, hidden: Hidden, coins: Coins
) -> npt.NDArray[np.bool_]:
    """Per contact row: does its ISP's detector find its C2? The chance grows with the ISP's
    distinct bots on that C2 over the month: ``1 - (1 - p_isp) ** bots`` (one coin each)."""
    k = isp[dev]
    pair = k * (len(c2_lin) + 1) + c2
    uniq = np.unique(np.stack([pair, dev]), axis=1)[0]
    keys, bots = np.unique(uniq, return_counts=True)
    per_row = bots[np.searchsorted(keys, pair)]
    chance = 1.0 - (1.0 - np.array(hidden.detect)[k]) ** per_row
    return coins.detect[k, c2_lin[c2], c2_pos[c2]] < chance


def _blocks(c2s: tuple[C2, ...], actions: tuple[Action, ...]) -> list[tuple[Action, I64]]:
    """Each block with the indexes of the C2s it names."""
    out = []
    for a in actions:
        if a.kind in ("blocklist", "bgp_blackhole"):
            names = set(a.targets)
            out.append((a, np.array([i for i, c in enumerate(c2s) if (c.ip, c.port) in names])))
    return out


def _blocked(
    blocks: list[tuple[Action, I64]], day: int, isp: I64, c2: I64, u: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(c2), dtype=bool)
    for a, idx in blocks:
        if a.day <= day and (a.end is None or day < a.end):
            out |= (isp == a.isp) & np.isin(c2, idx) & (u < a.factor)
    return out


def family_named(coins: Coins, hidden: Hidden, isp: I64, c2s: tuple[C2, ...], c2: I64) -> I64:
    """1 where the ISP's detector names the C2's family, per contact row."""
    lin = np.array([c.lineage for c in c2s] or [0])[c2]
    pos = np.array([c.position for c in c2s] or [0])[c2]
    return (coins.family[isp, lin, pos] < np.array(hidden.names_family)[isp]).astype(np.int64)
