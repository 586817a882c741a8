"""Labelled against unlabelled: which devices count as which, and the intervals."""

from __future__ import annotations

from datetime import date

from iotscope.makers import Label, levels, load_devices, outcomes
from iotscope.store import Store
from iotscope.tenancy import CENTRE

LABELS = [
    Label("JC-1", "ACME", "A-100", 1, date(2025, 5, 21), None),
    Label("JC-2", "Acme Corp", "A100", 2, date(2025, 6, 1), None),  # same product, higher level
    Label("JC-3", "Beta Networks", "Z-1", 3, date(2025, 6, 1), None),  # not in the field
]


def test_levels_take_the_highest_registration_and_skip_unidentified(world: Store) -> None:
    dev = load_devices(world, CENTRE)
    lv = levels(dev, LABELS)
    r1 = dev.round == 1
    assert int((lv[r1] == 2).sum()) == 60  # A-100 and "A 100"
    assert int((lv[r1] == 0).sum()) == 40  # X9 and B200
    assert int((lv[r1] == -1).sum()) == 10


def test_outcomes_and_gap_intervals(world: Store) -> None:
    found, gaps, unidentified = outcomes(load_devices(world, CENTRE), LABELS, [1])
    by = {o.group: o for o in found}
    assert unidentified == 10 and by["★2"].devices == 60 and by["★1"].devices == 0
    lab, unl = by["labelled"].rates["infected"], by["unlabelled"].rates["infected"]
    assert (lab.k, lab.n, unl.k, unl.n) == (8, 60, 2, 40)
    assert lab.low < lab.estimate < lab.high
    gap = next(g for g in gaps if g.outcome == "infected").difference
    assert gap.low < 8 / 60 - 2 / 40 < gap.high
    assert by["labelled"].products == 1 and by["unlabelled"].products == 2
