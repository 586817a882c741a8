"""Incidence across ISPs: overlaps, exclusives, counts by number of ISPs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iotscope.centre._correlation import (
    chain_incidence,
    isps_of,
    only_seen_by,
    overlaps,
    seen_by_count,
)
from iotscope.centre._lineage import Lineage, Member


def test_overlaps_exclusives_and_counts() -> None:
    inc = {
        "x": frozenset({"A", "B"}),
        "y": frozenset({"A"}),
        "z": frozenset({"B", "C"}),
        "w": frozenset({"A"}),
    }
    isps = isps_of(inc)
    assert isps == ["A", "B", "C"]
    ab, ac, bc = overlaps(inc, isps)
    assert (ab.a, ab.b, ab.both, ab.either) == ("A", "B", 1, 4)
    assert ab.jaccard == pytest.approx(0.25) and ac.jaccard == 0.0
    assert bc.jaccard == pytest.approx(0.5)
    assert only_seen_by(inc, "A") == ["w", "y"] and only_seen_by(inc, "C") == []
    assert seen_by_count(inc) == {1: 2, 2: 2}


def _lineage(lid: str, family: str, first: int, last: int, isps: str) -> Lineage:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    start, end = t0 + timedelta(days=first), t0 + timedelta(days=last)
    member = Member(("192.0.2.1", 23), start, end, 1, frozenset(isps))
    return Lineage(lid, family, (member,), 1, frozenset(isps), start, end)


def test_chains_join_a_familys_lineages_in_time_and_keep_concurrent_ones_apart() -> None:
    found = [
        _lineage("m1", "mirai", 0, 10, "A"),
        _lineage("m2", "mirai", 9, 20, "B"),  # starts a day before m1 ends: may continue it
        _lineage("m3", "mirai", 2, 25, "C"),  # runs beside m1: another lineage
        _lineage("g1", "gafgyt", 11, 15, "D"),  # another family never joins
        _lineage("u1", "unknown", 21, 29, "E"),  # nor does a lineage of unknown family
    ]
    assert chain_incidence(found) == {
        "m1": frozenset("AB"),
        "m3": frozenset("C"),
        "g1": frozenset("D"),
        "u1": frozenset("E"),
    }
    assert len(chain_incidence(found, slack=timedelta(0))) == 5  # m2 overlaps m1 and m3
