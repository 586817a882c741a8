"""The interventions a month world injects, with hidden effect sizes drawn from the seed.

- two ``c2_takedown`` (national): the C2 active that day of a big domestic lineage goes down;
  a hidden share of its bots is orphaned, the rest move to the next C2 at once;
- one ``blocklist`` at one ISP: every C2 endpoint active that day that some ISP had detected
  by then (the shared feed); a hidden share of its bots' contacts to them disappears;
- one ``bgp_blackhole`` at another ISP: the C2 address its bots contact most, the same way;
- one ``notice_campaign`` at a regional ISP: from its day on, the clean-up and login-fix
  hazards of that ISP's devices are multiplied by a hidden factor.
"""

from __future__ import annotations

import numpy as np

from iotscope.lab.month._botnets import C2, Lineage
from iotscope.lab.month._simulate import Action


def _window(days: int, lo: float, hi: float) -> tuple[int, int]:
    a = max(1, int(days * lo))
    return a, max(a + 1, min(days - 1, int(days * hi)))


def _big_lineages(lineages: tuple[Lineage, ...], days: int, t: int) -> list[int]:
    """Lineages alive around ``t``, the largest expected presence first."""
    ok = [i for i, x in enumerate(lineages) if x.start <= t - 2 and x.end > min(t + 5, days)]
    return sorted(ok, key=lambda i: -lineages[i].strength * sum(lineages[i].reach))


def takedowns(
    rng: np.random.Generator, lineages: tuple[Lineage, ...], days: int, count: int = 2
) -> tuple[Action, ...]:
    out: list[Action] = []
    used: set[int] = set()
    for j in range(count):
        t = int(rng.integers(*_window(days, 0.3, 0.7)))
        pick = [i for i in _big_lineages(lineages, days, t)[:4] if i not in used]
        if not pick:
            continue
        li = int(pick[int(rng.integers(len(pick)))])
        used.add(li)
        factor = float(rng.uniform(0.3, 0.8))
        out.append(Action(f"td-{j + 1}", "c2_takedown", t, None, None, li, factor))
    return tuple(out)


def with_targets(actions: tuple[Action, ...], c2s: tuple[C2, ...]) -> tuple[Action, ...]:
    """Takedowns name the C2 they took down (known once the schedule is)."""
    out = []
    for a in actions:
        if a.kind == "c2_takedown":
            hit = [c for c in c2s if c.lineage == a.lineage and c.end == a.day]
            a = Action(a.id, a.kind, a.day, a.end, a.isp, a.lineage, a.factor,
                       tuple((c.ip, c.port) for c in hit))  # fmt: skip
        out.append(a)
    return tuple(out)


def blocks_and_campaign(
    rng: np.random.Generator,
    c2s: tuple[C2, ...],
    detected_by: dict[int, int],
    seen: dict[tuple[int, int], int],
    nisps: int,
    days: int,
) -> tuple[Action, ...]:
    """The ISP-level actions; ``detected_by``: C2 index -> first day any ISP reported it;
    ``seen``: (C2 index, ISP) -> contacts that ISP reported (the blackhole goes where it bites)."""
    isps = rng.permutation(nisps)
    out = []
    t = int(rng.integers(*_window(days, 0.35, 0.65)))
    feed = tuple(sorted({(c.ip, c.port) for i, c in enumerate(c2s)
                         if c.start <= t < c.end and detected_by.get(i, days) < t}))  # fmt: skip
    if feed:
        out.append(Action("bl-1", "blocklist", t, None, int(isps[0]), None,
                          float(rng.uniform(0.5, 0.9)), feed))  # fmt: skip
    t2 = int(rng.integers(*_window(days, 0.3, 0.6)))
    pairs = [(n, c, k) for (c, k), n in seen.items()
             if k != isps[0] and c2s[c].start <= t2 < c2s[c].end - 2]  # fmt: skip
    if pairs and nisps > 1:
        _, c, k = max(pairs)
        out.append(Action("bh-1", "bgp_blackhole", t2, None, k, c2s[c].lineage,
                          float(rng.uniform(0.6, 0.95)), ((c2s[c].ip, c2s[c].port),)))  # fmt: skip
    t3 = int(rng.integers(*_window(days, 0.25, 0.5)))
    regional = [k for k in range(nisps) if k != 0] or [0]
    k = int(regional[int(rng.integers(len(regional)))])
    out.append(Action("nc-1", "notice_campaign", t3, None, k, None, float(rng.uniform(1.8, 4.0))))
    return tuple(out)
