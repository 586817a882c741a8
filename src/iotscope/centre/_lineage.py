"""C2 lineages: C2 servers joined when they command the same bots, in succession or at once.

IoT malware binaries carry one hard-coded C2 and live for days, so a botnet moves by
re-infecting its bots with a binary that points elsewhere (Tanabe et al., "Disposable
botnets"): the bots stay, the C2 changes. Two kinds of evidence join C2s ``a`` and ``b``:

- *handover*: a bot's last contact with ``a`` is followed, within ``handover_gap``, by its first
  contact with ``b`` (the next C2 it talks to), in ``b``'s first wave (within ``wave`` of
  ``b``'s first sighting: a device cleaned and caught anew turns up later);
- *concurrency*: a bot talks to ``a`` and ``b`` in overlapping spans (a shared bot set).

One bot proves little (a device cleaned and re-infected by another botnet also moves), so an
edge holds when enough bots carry it: at least ``min_bots`` of them and at least ``min_share``
of the smaller C2's bots, judged against the two lineages it would join (bots churn, so a
junction where one lineage's last C2 meets the other's first is judged against those two C2s).
C2s of different known families never join (a C2 whose family the detector could not tell
may join any). The lineages are the connected components of the held edges.

Bot pseudonyms are keyed per ISP, so a lineage whose old C2 only ISP X detected and whose new
one only ISP Y did leaves two parts with no shared bot. An optional *relay* join (off by
default: on the tuning seeds it joined two lineages of one family handing over on the same day
more often than two parts of one) uses the timing of the move alone. Pure functions over
:class:`Tenure` records; no I/O.
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
    """How much evidence joins two C2s (gap, bots, share tuned on lab seeds 1-10; wave and
    junction set from reading those seeds' truth; see bench_lineage)."""

    handover_gap: timedelta = timedelta(days=12)
    min_bots: int = 1
    min_share: float = 0.2
    #: a bot with more C2s than this gives evidence only between consecutive ones
    max_pairs_per_bot: int = 12
    #: a bot's move counts as a handover only when it reaches the new C2 within this of the
    #: C2's first sighting (the wave of a re-infection; None: any time)
    wave: timedelta | None = timedelta(days=2)
    #: a tie where one lineage's last C2 meets the other's first (this close) is judged
    #: against the two C2s alone (None: always against the lineages)
    junction: timedelta | None = timedelta(days=1)
    #: relay: a lineage that ends joins one of its family, seen by other ISPs, that starts
    #: within this of its end, when each is the other's only such match. None (off): on the
    #: tuning seeds it joined wrongly more often than rightly (bench_lineage, "ablation")
    relay: timedelta | None = None
    #: a relay needs this many bots leaving A on its last day and reaching B on its first
    relay_bots: int = 3


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
    first = _first_seen(t for spans in per_bot.values() for t in spans)
    raw: dict[tuple[C2, C2], tuple[set[Bot], set[Bot], set[Bot]]] = {}
    for bot, spans in per_bot.items():
        ordered = sorted(spans, key=lambda t: (t.first, t.c2))
        for kind, a, b in _bot_pairs(ordered, first, params):
            key, flip = ((a, b), False) if a < b else ((b, a), True)
            sets = raw.setdefault(key, (set(), set(), set()))
            slot = 2 if kind == "together" else (1 if flip else 0)
            sets[slot].add(bot)
    return {k: Evidence(frozenset(f), frozenset(b), frozenset(t)) for k, (f, b, t) in raw.items()}


def _bot_pairs(
    spans: Sequence[Tenure], first: Mapping[C2, datetime], params: LineageParams
) -> Iterable[tuple[str, C2, C2]]:
    """(kind, from, to) for one bot's spans sorted by start: overlaps and next-C2 handovers.

    A handover needs the bot to reach the new C2 in its first wave (``params.wave`` after the
    C2's first sighting): a botnet moves its bots when it starts a C2, while a device cleaned
    and infected anew by another botnet of the family turns up at any time of that C2's life."""
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
                if params.wave is None or u.first - first[u.c2] <= params.wave:
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
    anew) does not merge them, while a small C2 still joins the lineage its bots came from. At
    a junction (one lineage's last C2, the other's first) the tie is judged against its two
    C2s: a long lineage's bots churn, so only some of them are there when it moves on."""
    params = params or LineageParams()
    bots = _bots_per_c2(tenures)
    parent, held = _join(evidence(tenures, params), bots, _seen(tenures), params)
    for a, b in _relays(tenures, parent, params):
        _union(parent, a, b)
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


@dataclass(frozen=True, slots=True)
class _Span:
    """A lineage as bot evidence left it: its family, when it was seen, where, and its first
    and last C2."""

    family: str
    first: datetime
    last: datetime
    isps: frozenset[str]
    head: C2
    tail: C2
    leaving: int  # bots whose last contact is within a day of the lineage's last
    arriving: int  # bots whose first contact is within a day of the lineage's first


def _spans(tenures: Sequence[Tenure], parent: dict[C2, C2]) -> dict[C2, _Span]:
    """Each group (by its root) as a :class:`_Span`."""
    by: dict[C2, list[Tenure]] = defaultdict(list)
    for t in tenures:
        by[_find(parent, t.c2)].append(t)
    family = _group_family(tenures, {c2: _find(parent, c2) for c2 in parent})
    out = {}
    for root, ts in by.items():
        head = min(ts, key=lambda t: (t.first, t.c2))
        tail = max(ts, key=lambda t: (t.last, t.c2))
        isps = frozenset(t.isp for t in ts)
        day = timedelta(days=1)
        leaving = len({t.who for t in ts if t.last >= tail.last - day})
        arriving = len({t.who for t in ts if t.first <= head.first + day})
        out[root] = _Span(
            family[root], head.first, tail.last, isps, head.c2, tail.c2, leaving, arriving
        )
    return out


def _relays(
    tenures: Sequence[Tenure], parent: dict[C2, C2], params: LineageParams
) -> list[tuple[C2, C2]]:
    """Relay joins ``(tail of A, head of B)``: lineage A of a known family stops before the
    data's last day with ``relay_bots`` bots leaving, B of that family, seen by none of A's
    ISPs, starts within ``relay`` of A's last contact with as many bots arriving, and each is
    the other's only candidate. Bots of one ISP cannot be linked to another's, so a lineage
    whose old C2 only ISP X detected and whose new one only ISP Y did leaves two parts with no
    shared bot; the timing of the move is what is left. Two lineages of one family moving at
    the same time make both candidates ambiguous, and neither is joined."""
    if params.relay is None or not tenures:
        return []
    spans = _spans(tenures, parent)
    begin = min(t.first for t in tenures) + timedelta(days=1)
    end = max(t.last for t in tenures) - timedelta(days=1)
    known = [(r, x) for r, x in spans.items() if x.family != UNKNOWN]
    ends = [(r, x) for r, x in known if x.last < end and x.leaving >= params.relay_bots]
    starts = [(r, x) for r, x in known if x.first > begin and x.arriving >= params.relay_bots]
    cand: dict[C2, list[C2]] = defaultdict(list)
    back: dict[C2, list[C2]] = defaultdict(list)
    for ra, a in ends:
        for rb, b in starts:
            if ra == rb or a.family != b.family or a.isps & b.isps:
                continue
            if abs(b.first - a.last) <= params.relay:
                cand[ra].append(rb)
                back[rb].append(ra)
    return [
        (spans[ra].tail, spans[rbs[0]].head)
        for ra, rbs in cand.items()
        if len(rbs) == 1 and len(back[rbs[0]]) == 1
    ]


def _join(
    ties: Mapping[tuple[C2, C2], Evidence],
    bots: Mapping[C2, set[Bot]],
    seen: Mapping[C2, tuple[datetime, datetime]],
    params: LineageParams,
) -> tuple[dict[C2, C2], dict[tuple[C2, C2], Evidence]]:
    """Union-find over the ties that hold, strongest first: against the lineages they join, or,
    at a junction (one lineage's last C2 handing over to the other's first), against the two
    C2s (``seen``: each C2's first and last contact)."""

    def strength(kv: tuple[tuple[C2, C2], Evidence]) -> tuple[float, int, tuple[C2, C2]]:
        (a, b), ev = kv
        return (-ev.bots / min(len(bots[a]), len(bots[b])), -ev.bots, (a, b))

    parent = {c2: c2 for c2 in bots}
    held_bots: dict[C2, set[Bot]] = {c2: set(b) for c2, b in bots.items()}
    span = dict(seen)
    held = {}
    for (a, b), ev in sorted(ties.items(), key=strength):
        ra, rb = _find(parent, a), _find(parent, b)
        grown = holds(ev, len(held_bots[ra]), len(held_bots[rb]), params)
        meet = _junction(seen[a], seen[b], span[ra], span[rb], params)
        if ra == rb or grown or (meet and holds(ev, len(bots[a]), len(bots[b]), params)):
            held[(a, b)] = ev
        if ra != rb and (a, b) in held:
            _union(parent, a, b)
            root = _find(parent, a)
            held_bots[root] = held_bots[ra] | held_bots[rb]
            span[root] = (min(span[ra][0], span[rb][0]), max(span[ra][1], span[rb][1]))
    return parent, held


def _junction(
    a: tuple[datetime, datetime],
    b: tuple[datetime, datetime],
    la: tuple[datetime, datetime],
    lb: tuple[datetime, datetime],
    params: LineageParams,
) -> bool:
    """Do C2s ``a`` and ``b`` (first, last) sit where their lineages ``la`` and ``lb`` meet: one
    the last C2 of its lineage, the other the first of its own? A botnet moving on hands its
    bots over there; a device cleaned and caught anew by another botnet moves at any time."""
    near = params.junction
    if near is None:
        return False
    return (a[1] >= la[1] - near and b[0] <= lb[0] + near) or (
        b[1] >= lb[1] - near and a[0] <= la[0] + near
    )


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


def _seen(tenures: Iterable[Tenure]) -> dict[C2, tuple[datetime, datetime]]:
    """Each C2's first and last contact."""
    out: dict[C2, tuple[datetime, datetime]] = {}
    for t in tenures:
        first, last = out.get(t.c2, (t.first, t.last))
        out[t.c2] = (min(first, t.first), max(last, t.last))
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
