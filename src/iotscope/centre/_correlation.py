"""What the ISPs see in common: item x ISP incidence, pairwise Jaccard overlaps, exclusives.

An *item* is a C2 (``ip, port``) or a lineage id; its incidence is the set of ISPs whose
detectors saw it. Each ISP sees different lineages (DOMAIN.md, "C2 detection by ISPs"), and
the items only one ISP sees are what the others would lose without it. Pure functions.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from iotscope.centre._contacts import C2, Tenure
from iotscope.centre._lineage import UNKNOWN, Lineage

#: a lineage starting this long before another of its family ends may still continue it (a
#: handover with both C2s active for a day or two); tuned on seeds 1-10 (bench_capture)
CHAIN_SLACK = timedelta(days=3)

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two ISPs' shared items: the counts and the Jaccard index ``|A & B| / |A | B|``."""

    a: str
    b: str
    both: int
    either: int

    @property
    def jaccard(self) -> float:
        return self.both / self.either if self.either else 0.0


def c2_incidence(tenures: Iterable[Tenure]) -> dict[C2, frozenset[str]]:
    """Each C2 and the ISPs whose bots contacted it."""
    seen: dict[C2, set[str]] = {}
    for t in tenures:
        seen.setdefault(t.c2, set()).add(t.isp)
    return {c2: frozenset(s) for c2, s in seen.items()}


def lineage_incidence(lineages: Iterable[Lineage]) -> dict[str, frozenset[str]]:
    """Each lineage and the ISPs that see any of its C2s."""
    return {x.id: x.isps for x in lineages}


def chain_incidence(
    lineages: Iterable[Lineage], slack: timedelta = CHAIN_SLACK
) -> dict[str, frozenset[str]]:
    """The coarsest grouping the found lineages allow, with each group's ISPs: the lineages of
    one known family chained in time (one that starts after, or within ``slack`` before, the
    end of a chain's last lineage may continue that chain), as few chains as possible.

    A lineage split in parts (its C2s seen by ISPs whose bots cannot be linked) is counted
    once per part; chains count it once, but also join different lineages of a family that
    run one after the other. The true count lies between the two: capture-recapture on both
    brackets it (:func:`iotscope.centre._capture.bracket`). Keys: the first lineage's id."""
    chains: list[tuple[str, str, datetime, set[str]]] = []  # id, family, end, ISPs
    for x in sorted(lineages, key=lambda x: (x.first, x.id)):
        open_ = [
            i
            for i, (_, fam, end, _) in enumerate(chains)
            if x.family != UNKNOWN and fam == x.family and end - slack <= x.first
        ]
        if open_:
            i = max(open_, key=lambda i: chains[i][2])  # the one that ended last: best fit
            cid, fam, end, isps = chains[i]
            chains[i] = (cid, fam, max(end, x.last), isps | x.isps)
        else:
            chains.append((x.id, x.family, x.last, set(x.isps)))
    return {cid: frozenset(isps) for cid, _, _, isps in chains}


def isps_of(incidence: Mapping[K, frozenset[str]]) -> list[str]:
    """Every ISP that sees something, sorted."""
    return sorted({s for seen in incidence.values() for s in seen})


def overlaps(incidence: Mapping[K, frozenset[str]], isps: Sequence[str]) -> list[Overlap]:
    """Every pair of ``isps`` (in the given order) with their shared and combined counts."""
    held: dict[str, set[K]] = {s: set() for s in isps}
    for item, seen in incidence.items():
        for s in seen:
            if s in held:
                held[s].add(item)
    return [
        Overlap(a, b, len(held[a] & held[b]), len(held[a] | held[b]))
        for i, a in enumerate(isps)
        for b in isps[i + 1 :]
    ]


def only_seen_by(incidence: Mapping[K, frozenset[str]], isp: str) -> list[K]:
    """The items ``isp`` sees and no other ISP does (sorted)."""
    return sorted((k for k, seen in incidence.items() if seen == frozenset((isp,))), key=str)


def seen_by_count(incidence: Mapping[K, frozenset[str]]) -> dict[int, int]:
    """How many items are seen by exactly ``k`` ISPs, for each ``k`` that occurs."""
    out: dict[int, int] = {}
    for seen in incidence.values():
        out[len(seen)] = out.get(len(seen), 0) + 1
    return dict(sorted(out.items()))
