"""C2 lineages: C2 servers joined when they command the same bots, in succession or at once.

IoT malware binaries carry one hard-coded C2 and live for days, so a botnet moves by
re-infecting its bots with a binary that points elsewhere (Tanabe et al., "Disposable
botnets"): the bots stay, the C2 changes. Two kinds of evidence join C2s ``a`` and ``b``:

- *handover*: a bot's last contact with ``a`` is followed, within ``handover_gap``, by its first
  contact with ``b`` (the next C2 it talks to);
- *concurrency*: a bot talks to ``a`` and ``b`` in overlapping spans (a shared bot set).

One bot proves little (a device cleaned and re-infected by another botnet also moves), so an
edge holds when enough bots carry it: at least ``min_bots`` of them and at least ``min_share``
of the smaller C2's bots. C2s of different known families never join (a C2 whose family the
detector could not tell may join any). The lineages are the connected
components of the held edges. Pure functions over :class:`Tenure` records; no I/O.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from iotscope.centre._contacts import C2, Bot, Tenure

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LineageParams:
    """How much evidence joins two C2s (tuned on lab seeds 1-3; see bench_lineage)."""

    handover_gap: timedelta = timedelta(days=12)
    min_bots: int = 1
    min_share: float = 0.2
    #: a bot with more C2s than this gives evidence only between consecutive ones
    max_pairs_per_bot: int = 12


@dataclass(frozen=True, slots=True)
class Member:
    """One C2 of a lineage: when it was seen and how many bots it held."""

    c2: C2
    first: datetime
    last: datetime
    bots: int
    isps: frozenset[str]


@dataclass(frozen=True, slots=True)
class Lineage:
    """C2s that commanded the same bots; ``id`` is ``family/ip:port`` of its first C2."""

    id: str
    family: str  # "unknown" when no member's family is known
    members: tuple[Member, ...]
    bots: int
    isps: frozenset[str]
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class Migration:
    """Bots moving from C2 ``source`` to C2 ``target`` (the median move time ``at``);
    ``by_isp``: how many of them each ISP holds."""

    lineage: str
    source: C2
    target: C2
    at: datetime
    bots: int
    by_isp: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Bots that tie C2 ``a`` to C2 ``b``: moved from a to b, from b to a, or held both at once."""

    forward: frozenset[Bot]
    backward: frozenset[Bot]
    together: frozenset[Bot]

    @property
    def bots(self) -> int:
        return len(self.forward | self.backward | self.together)


def evidence(tenures: Iterable[Tenure], params: LineageParams) -> dict[tuple[C2, C2], Evidence]:
    """Every pair of C2s (``a < b``) that some bot ties together, with the bots that do."""
    per_bot: dict[Bot, list[Tenure]] = defaultdict(list)
    for t in tenures:
        per_bot[t.who].append(t)
    raw: dict[tuple[C2, C2], tuple[set[Bot], set[Bot], set[Bot]]] = {}
    for bot, spans in per_bot.items():
        for kind, a, b in _bot_pairs(sorted(spans, key=lambda t: (t.first, t.c2)), params):
            key, flip = ((a, b), False) if a < b else ((b, a), True)
            sets = raw.setdefault(key, (set(), set(), set()))
            slot = 2 if kind == "together" else (1 if flip else 0)
            sets[slot].add(bot)
    return {k: Evidence(frozenset(f), frozenset(b), frozenset(t)) for k, (f, b, t) in raw.items()}


def _bot_pairs(spans: Sequence[Tenure], params: LineageParams) -> Iterable[tuple[str, C2, C2]]:
    """(kind, from, to) for one bot's spans sorted by start: overlaps and next-C2 handovers."""
    dense = len(spans) <= params.max_pairs_per_bot
    for i, t in enumerate(spans):
        handed = False
        for u in spans[i + 1 :] if dense else spans[i + 1 : i + 2]:
            if u.c2 == t.c2 or (u.family and t.family and u.family != t.family):
                continue
            if u.first <= t.last:
                yield ("together", t.c2, u.c2)
            elif not handed and u.first - t.last <= params.handover_gap:
                handed = True
                yield ("handover", t.c2, u.c2)


def holds(ev: Evidence, size_a: int, size_b: int, params: LineageParams) -> bool:
    """Is the tie strong enough: enough bots, and enough of the smaller side's bots?"""
    n = ev.bots
    return n >= params.min_bots and n >= params.min_share * min(size_a, size_b)


def assign(
    tenures: Sequence[Tenure], params: LineageParams | None = None
) -> tuple[dict[C2, str], dict[tuple[C2, C2], Evidence]]:
    """Each C2's lineage id, and the evidence of the edges that held.

    Edges are taken strongest first (share of the smaller C2's bots, then bots); each must
    hold against the two lineages it would join as they stand by then, not only against its
    two C2s: a bot or two moving between two grown lineages (a device cleaned and infected
    anew) does not merge them, while a small C2 still joins the lineage its bots came from."""
    params = params or LineageParams()
    bots = _bots_per_c2(tenures)
    parent, held = _join(evidence(tenures, params), bots, params)
    first = _first_seen(tenures)
    family = _group_family(tenures, {c2: _find(parent, c2) for c2 in bots})
    groups: dict[C2, list[C2]] = defaultdict(list)
    for c2 in bots:
        groups[_find(parent, c2)].append(c2)
    out: dict[C2, str] = {}
    for root, group in groups.items():
        founder = min(group, key=lambda c: (first[c], c))
        out.update(dict.fromkeys(group, f"{family[root]}/{founder[0]}:{founder[1]}"))
    return out, held


def _join(
    ties: Mapping[tuple[C2, C2], Evidence],
    bots: Mapping[C2, set[Bot]],
    params: LineageParams,
) -> tuple[dict[C2, C2], dict[tuple[C2, C2], Evidence]]:
    """Union-find over the ties that hold against the lineages they join, strongest first."""

    def strength(kv: tuple[tuple[C2, C2], Evidence]) -> tuple[float, int, tuple[C2, C2]]:
        (a, b), ev = kv
        return (-ev.bots / min(len(bots[a]), len(bots[b])), -ev.bots, (a, b))

    parent = {c2: c2 for c2 in bots}
    held_bots: dict[C2, set[Bot]] = {c2: set(b) for c2, b in bots.items()}
    held = {}
    for (a, b), ev in sorted(ties.items(), key=strength):
        ra, rb = _find(parent, a), _find(parent, b)
        if ra == rb or holds(ev, len(held_bots[ra]), len(held_bots[rb]), params):
            held[(a, b)] = ev
        if ra != rb and (a, b) in held:
            _union(parent, a, b)
            held_bots[_find(parent, a)] = held_bots[ra] | held_bots[rb]
    return parent, held


Assignment = tuple[dict[C2, str], dict[tuple[C2, C2], Evidence]]


def lineages(
    tenures: Sequence[Tenure],
    params: LineageParams | None = None,
    assigned: Assignment | None = None,
) -> list[Lineage]:
    """The lineages of ``tenures``, largest (by bots) first (``assigned``: :func:`assign`'s
    answer for the same tenures and params, to save computing it again)."""
    of, _ = assigned or assign(tenures, params)
    by_lineage: dict[str, list[Tenure]] = defaultdict(list)
    for t in tenures:
        by_lineage[of[t.c2]].append(t)
    out = [_lineage(lid, spans) for lid, spans in by_lineage.items()]
    out.sort(key=lambda x: (-x.bots, x.id))
    return out


def migrations(
    tenures: Sequence[Tenure],
    params: LineageParams | None = None,
    assigned: Assignment | None = None,
) -> list[Migration]:
    """Handovers that held (the edges joining lineages), oldest first."""
    of, held = assigned or assign(tenures, params)
    starts = {(t.who, t.c2): t.first for t in tenures}
    out = []
    for (a, b), ev in held.items():
        if len(ev.forward) + len(ev.backward) == 0:
            continue
        src, dst, moved = (
            (a, b, ev.forward)
            if len(ev.forward) >= len(ev.backward)
            else (
                b,
                a,
                ev.backward,
            )
        )
        times = sorted(starts[(bot, dst)] for bot in moved)
        by_isp = tuple(sorted(Counter(isp for isp, _ in moved).items()))
        out.append(Migration(of[a], src, dst, times[len(times) // 2], len(moved), by_isp))
    out.sort(key=lambda m: (m.at, m.source, m.target))
    return out


def _lineage(lid: str, spans: list[Tenure]) -> Lineage:
    per_c2: dict[C2, list[Tenure]] = defaultdict(list)
    for t in spans:
        per_c2[t.c2].append(t)
    members = tuple(
        sorted(
            (
                Member(
                    c2,
                    min(t.first for t in ts),
                    max(t.last for t in ts),
                    len({t.who for t in ts}),
                    frozenset(t.isp for t in ts),
                )
                for c2, ts in per_c2.items()
            ),
            key=lambda m: (m.first, m.c2),
        )
    )
    return Lineage(
        id=lid,
        family=lid.split("/", 1)[0],
        members=members,
        bots=len({t.who for t in spans}),
        isps=frozenset(t.isp for t in spans),
        first=members[0].first,
        last=max(m.last for m in members),
    )


def _bots_per_c2(tenures: Iterable[Tenure]) -> dict[C2, set[Bot]]:
    out: dict[C2, set[Bot]] = defaultdict(set)
    for t in tenures:
        out[t.c2].add(t.who)
    return out


def _first_seen(tenures: Iterable[Tenure]) -> dict[C2, datetime]:
    out: dict[C2, datetime] = {}
    for t in tenures:
        if t.c2 not in out or t.first < out[t.c2]:
            out[t.c2] = t.first
    return out


def _group_family(tenures: Iterable[Tenure], group: Mapping[C2, C2]) -> dict[C2, str]:
    """Each group's family: the most common known family among its spans."""
    votes: dict[C2, Counter[str]] = defaultdict(Counter)
    for t in tenures:
        if t.family:
            votes[group[t.c2]][t.family] += 1
    return {
        g: (votes[g].most_common(1)[0][0] if votes[g] else UNKNOWN) for g in set(group.values())
    }


def _find(parent: dict[C2, C2], x: C2) -> C2:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _union(parent: dict[C2, C2], a: C2, b: C2) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)
