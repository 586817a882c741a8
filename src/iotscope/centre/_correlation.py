"""What the ISPs see in common: item x ISP incidence, pairwise Jaccard overlaps, exclusives.

An *item* is a C2 (``ip, port``) or a lineage id; its incidence is the set of ISPs whose
detectors saw it. Each ISP sees different lineages (DOMAIN.md, "C2 detection by ISPs"), and
the items only one ISP sees are what the others would lose without it. Pure functions.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from iotscope.centre._contacts import C2, Tenure
from iotscope.centre._lineage import Lineage

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
