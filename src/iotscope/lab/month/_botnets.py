"""Botnet lineages and their C2 chains.

A lineage is one botnet operation: a family, a life span, an infection strength and a reach
over the ISPs (foreign lineages barely touch them). Its bots take orders from one C2 endpoint
after another: each C2 lives a planned number of days, then the bots move to the next (a
handover), sometimes with both active for a day or two; a few lineages always run two C2s at
once, staggered (each starts halfway through the last one's life). A takedown ends the C2
active that day and the bots that survive move to the next C2 at once. The chain is planned in
advance (``Plan``) so that a world with and without an intervention share every draw (common
random numbers).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# name, C2 ports, mean flows per bot-day, scans (a telescope sees it), share of lineages
FAMILIES: dict[str, tuple[tuple[int, ...], float, bool, float]] = {
    "mirai": ((23, 48101, 1312), 4.0, True, 0.25),
    "mirai-moobot": ((23, 5555, 9506), 4.0, True, 0.15),
    "mirai-satori": ((7547, 37215, 23), 5.0, True, 0.15),
    "gafgyt": ((666, 6667, 3074), 20.0, True, 0.2),
    "mozi": ((6881, 8443), 30.0, True, 0.1),
    "emotet": ((443, 8080, 7080), 40.0, False, 0.15),
}
C2_NET = int(ipaddress.IPv4Address("127.200.0.0"))  # C2 endpoints: 127.200.0.0/14


@dataclass(frozen=True)
class Lineage:
    """One botnet operation; days are world days (0 = the month's first)."""

    id: str
    family: str
    start: int
    end: int
    strength: float  # share of the world's infection pressure
    reach: tuple[float, ...]  # per ISP, mean 1 for a domestic lineage


@dataclass(frozen=True)
class Plan:
    """A lineage's C2 chain as planned: position i lives ``durations[i]`` days and overlaps the
    next by ``overlaps[i]`` days; ``endpoints[i]`` is its (ip, port)."""

    durations: tuple[int, ...]
    overlaps: tuple[int, ...]
    endpoints: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class C2:
    """A C2 endpoint as it lived: active on days ``start <= d < end``."""

    lineage: int
    position: int
    ip: str
    port: int
    start: int
    end: int


def make_lineages(
    rng: np.random.Generator, days: int, nisps: int, count: int
) -> tuple[Lineage, ...]:
    names = list(FAMILIES)
    share = np.array([FAMILIES[f][3] for f in names])
    strength = rng.lognormal(0.0, 1.2, size=count)
    strength /= strength.sum()
    out = []
    for i in range(count):
        family = names[int(rng.choice(len(names), p=share / share.sum()))]
        start = -int(rng.integers(1, 60)) if rng.random() < 0.6 else int(rng.integers(0, days - 4))
        end = days + 30 if rng.random() < 0.7 else start + int(rng.integers(6, 3 * days))
        domestic = float(rng.uniform(0.01, 0.08)) if rng.random() < 0.25 else 1.0
        reach = rng.dirichlet(np.full(nisps, 0.6)) * nisps * domestic
        out.append(Lineage(f"L{i + 1:02d}", family, start, max(end, start + 3),
                           float(strength[i]), tuple(float(x) for x in reach)))  # fmt: skip
    return tuple(out)


def make_plans(
    rng: np.random.Generator, lineages: Iterable[Lineage], days: int, overlap_share: float
) -> tuple[Plan, ...]:
    """Each lineage's chain, long enough to cover its life even after takedowns."""
    plans = []
    serial = 0
    for lin in lineages:
        ports = FAMILIES[lin.family][0]
        mean = float(rng.uniform(2.0, 9.0)) * (1.5 if lin.family == "emotet" else 1.0)
        span = min(lin.end, days) - lin.start + days
        durs: list[int] = []
        while sum(durs) < span:
            durs.append(int(rng.geometric(1.0 / mean)) + 1)
        laps = [int(rng.integers(1, 3)) if rng.random() < overlap_share else 0 for _ in durs]
        if rng.random() < 0.15:  # a lineage that runs two C2s at once, staggered
            durs = [d + 2 for d in durs]
            laps = [max(1, d // 2) for d in durs]
        port = int(rng.choice(ports))
        ends = []
        for _ in durs:
            if rng.random() < 0.2:
                port = int(rng.choice(ports))
            serial += 1
            ip = ipaddress.IPv4Address(C2_NET + serial * 7 + int(rng.integers(0, 7)))
            ends.append((str(ip), port))
        plans.append(Plan(tuple(durs), tuple(laps), tuple(ends)))
    return tuple(plans)


def schedule(
    lineages: tuple[Lineage, ...], plans: tuple[Plan, ...], takedowns: dict[int, set[int]]
) -> tuple[C2, ...]:
    """The C2s as they lived, given takedowns (lineage index -> days of a takedown)."""
    out = []
    for li, (lin, plan) in enumerate(zip(lineages, plans, strict=True)):
        start, downs = lin.start, sorted(takedowns.get(li, ()))
        for pos, dur in enumerate(plan.durations):
            if start >= lin.end:
                break
            end = min(start + dur, lin.end)
            cut = next((t for t in downs if start <= t < end), None)
            end = cut if cut is not None else end
            ip, port = plan.endpoints[pos]
            if end > start:
                out.append(C2(li, pos, ip, port, start, end))
            start = cut if cut is not None else end - min(plan.overlaps[pos], end - start - 1)
            if cut is not None:
                downs.remove(cut)
    return tuple(out)


def active_table(c2s: tuple[C2, ...], nlineages: int, days: int) -> npt.NDArray[np.int64]:
    """``[day, lineage, 2]``: the newest and the older active C2 (indexes into ``c2s``; -1)."""
    table = np.full((days, nlineages, 2), -1, dtype=np.int64)
    for i, c in enumerate(c2s):  # in chain order: a later C2 is the newer one
        for d in range(max(c.start, 0), min(c.end, days)):
            table[d, c.lineage, 1] = table[d, c.lineage, 0]
            table[d, c.lineage, 0] = i
    return table


def alive(lineages: tuple[Lineage, ...], days: int) -> npt.NDArray[np.bool_]:
    """``[day, lineage]``: the lineage operates that day (some C2 is always active then)."""
    d = np.arange(days)[:, None]
    start = np.array([x.start for x in lineages])[None, :]
    end = np.array([x.end for x in lineages])[None, :]
    return (d >= start) & (d < end)
