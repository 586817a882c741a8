"""Incidence across ISPs: overlaps, exclusives, counts by number of ISPs."""

from __future__ import annotations

import pytest

from iotscope.centre._correlation import isps_of, only_seen_by, overlaps, seen_by_count


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
