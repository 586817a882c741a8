"""Lineages from hand-built contacts: handover, shared bots, noise that must not join."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from iotscope.centre._contacts import Contact, tenures
from iotscope.centre._lineage import LineageParams, assign, lineages, migrations

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _contacts(
    isp: str, c2: str, bots: Iterable[int], start: int, end: int, family: str | None = "mirai"
) -> list[Contact]:
    """Each bot in ``bots`` contacts ``c2`` (port 23) daily from day ``start`` to ``end``."""
    out = []
    for b in bots:
        for d in range(start, end + 1):
            t = T0 + timedelta(days=d, hours=1)
            out.append(
                Contact(
                    isp,
                    c2,
                    23,
                    family,
                    f"b{b}",
                    date.fromordinal(t.toordinal()),
                    t,
                    t + timedelta(hours=20),
                    5,
                )
            )
    return out


def test_handover_joins_and_bots_keep_identity() -> None:
    rows = _contacts("A", "198.51.100.1", range(10), 0, 4)
    rows += _contacts("A", "198.51.100.2", range(10), 5, 9)  # the same bots, next day
    rows += _contacts("A", "203.0.113.9", range(20, 30), 0, 9)  # another botnet
    found = lineages(tenures(rows))
    assert [len(x.members) for x in found] == [2, 1]
    first = found[0]
    assert first.id == "mirai/198.51.100.1:23" and first.bots == 10
    assert [m.c2 for m in first.members] == [("198.51.100.1", 23), ("198.51.100.2", 23)]
    (move,) = migrations(tenures(rows))
    assert move.source == ("198.51.100.1", 23) and move.target == ("198.51.100.2", 23)
    assert move.bots == 10 and move.at == T0 + timedelta(days=5, hours=1)


def test_shared_bots_at_once_join_across_isps() -> None:
    rows = _contacts("A", "192.0.2.1", range(6), 0, 3) + _contacts("A", "192.0.2.2", range(6), 0, 3)
    rows += _contacts("B", "192.0.2.2", range(6), 0, 3)
    (only,) = lineages(tenures(rows))
    assert only.isps == frozenset({"A", "B"}) and only.bots == 12
    assert migrations(tenures(rows)) == []


def test_long_gap_and_other_family_do_not_join() -> None:
    rows = _contacts("A", "192.0.2.1", range(10), 0, 2)
    rows += _contacts("A", "192.0.2.2", range(10), 17, 18)  # the same bots, two weeks on
    rows += _contacts("A", "192.0.2.4", range(10), 3, 4, family="gafgyt")  # another family
    of, _ = assign(tenures(rows))
    assert len(set(of.values())) == 3
    strict = LineageParams(min_bots=2)
    one = _contacts("A", "192.0.2.1", range(10), 0, 2) + _contacts("A", "192.0.2.3", range(1), 3, 4)
    assert len(set(assign(tenures(one), strict)[0].values())) == 2
    assert len(set(assign(tenures(one))[0].values())) == 1  # the default: one bot may do


def test_one_bot_does_not_merge_grown_lineages() -> None:
    x = _contacts("A", "192.0.2.1", range(20), 0, 4) + _contacts("A", "192.0.2.2", range(20), 5, 9)
    x += _contacts("A", "192.0.2.3", range(2), 10, 11)  # two of X's bots on a small C2
    y = _contacts("A", "198.51.100.5", range(100, 120), 0, 4)
    y += _contacts("A", "198.51.100.6", range(100, 102), 5, 6)  # two of Y's on a small C2
    y += _contacts("A", "198.51.100.6", range(1), 12, 13)  # X's bot 0, cleaned and reinfected
    of, held = assign(tenures(x + y))
    assert len(set(of.values())) == 2
    assert (("192.0.2.3", 23), ("198.51.100.6", 23)) not in held


def test_unknown_family_may_join_and_thresholds_are_parameters() -> None:
    rows = _contacts("A", "192.0.2.1", range(10), 0, 2)
    rows += _contacts("A", "192.0.2.2", range(3), 3, 4, family=None)
    rows += _contacts("A", "192.0.2.2", range(40, 50), 3, 4, family=None)
    spans = tenures(rows)
    assert len(set(assign(spans)[0].values())) == 1  # 3 of the smaller C2's 13 bots
    strict = LineageParams(min_share=0.5)
    assert len(set(assign(spans, strict)[0].values())) == 2
    (joined,) = lineages(spans)
    assert joined.family == "mirai"


def test_a_move_outside_the_new_c2s_first_wave_is_not_a_handover() -> None:
    """Two bots leave a small C2 and turn up at a C2 of the family that has run for a week:
    devices cleaned and caught anew, not a botnet moving its bots."""
    rows = _contacts("A", "192.0.2.1", range(2), 0, 4)
    rows += _contacts("A", "198.51.100.7", range(100, 110), 0, 20)
    rows += _contacts("A", "198.51.100.7", range(2), 8, 20)
    spans = tenures(rows)
    assert len(set(assign(spans)[0].values())) == 2
    anytime = LineageParams(wave=None)
    assert len(set(assign(spans, anytime)[0].values())) == 1


def _churning() -> list[Contact]:
    """Two grown parts of one lineage whose bots churn: X (p then q) and Y (r then s); only 8
    of q's 30 bots are still there when q hands over to r."""
    rows = _contacts("A", "192.0.2.1", range(30), 0, 4)  # p
    rows += _contacts("A", "192.0.2.2", range(20, 50), 5, 9)  # q: 10 of p's bots, 20 new
    rows += _contacts("A", "192.0.2.3", [*range(42, 50), *range(60, 90)], 10, 14)  # r
    rows += _contacts("A", "192.0.2.4", range(70, 110), 15, 19)  # s
    return rows


def test_a_junction_is_judged_against_its_two_c2s() -> None:
    spans = tenures(_churning())
    of, held = assign(spans)
    assert len(set(of.values())) == 1
    assert (("192.0.2.2", 23), ("192.0.2.3", 23)) in held
    # judged against the grown lineages (50 and 58 bots) the 8 bots are too few
    assert len(set(assign(spans, LineageParams(junction=None))[0].values())) == 2


def _relayed(rival: bool) -> list[Contact]:
    """A mirai lineage whose old C2 only ISP A saw and whose new one only ISP B saw (the same
    day), a gafgyt lineage spanning the data; with ``rival`` a second mirai lineage at ISP C
    stops that day too."""
    rows = _contacts("A", "192.0.2.1", range(5), 0, 5)
    rows += _contacts("B", "192.0.2.2", range(5), 6, 10)
    rows += _contacts("C", "203.0.113.1", range(50, 60), 0, 15, family="gafgyt")
    if rival:
        rows += _contacts("C", "203.0.113.2", range(20, 25), 0, 5)
    return rows


def test_relay_joins_parts_seen_by_different_isps_only_when_unambiguous() -> None:
    relay = LineageParams(relay=timedelta(days=1))
    of, _ = assign(tenures(_relayed(rival=False)), relay)
    assert of[("192.0.2.1", 23)] == of[("192.0.2.2", 23)]
    assert len(set(assign(tenures(_relayed(rival=False)))[0].values())) == 3  # off by default
    of, _ = assign(tenures(_relayed(rival=True)), relay)
    assert len(set(of.values())) == 4  # two mirai lineages stop that day: neither is joined
