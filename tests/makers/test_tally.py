"""Counts per group and the Pareto table's arithmetic."""

from __future__ import annotations

import pytest

from iotscope.makers import cve_counts, load_devices, pareto, tally, vital_few
from iotscope.store import Store
from iotscope.tenancy import CENTRE


def test_pareto_sorts_and_accumulates() -> None:
    rows = pareto(["c", "a", "b", "d"], [10, 50, 30, 10])
    assert [r.name for r in rows] == ["a", "b", "c", "d"]  # ties by name
    assert [r.share for r in rows] == [0.5, 0.3, 0.1, 0.1]
    assert [r.cum_share for r in rows] == [0.5, 0.8, 0.9, 1.0]
    assert [r.rank for r in rows] == [1, 2, 3, 4]
    assert vital_few(rows, 0.5) == 1 and vital_few(rows, 0.8) == 2 and vital_few(rows, 0.95) == 4


def test_pareto_without_infections_is_all_zero() -> None:
    rows = pareto(["a", "b"], [0, 0])
    assert [(r.share, r.cum_share) for r in rows] == [(0.0, 0.0), (0.0, 0.0)]
    assert vital_few(rows) == 0 and pareto([], []) == []


def test_pareto_cumulative_reaches_one_with_rounding() -> None:
    rows = pareto([str(i) for i in range(7)], [1] * 7)
    assert rows[-1].cum_share == 1.0
    assert rows[2].cum_share == pytest.approx(3 / 7, abs=1e-4)


def test_tally_by_vendor_and_model_in_one_round(world: Store) -> None:
    dev = load_devices(world, CENTRE)
    by = {t.key: t for t in tally(dev, ("vendor", "model"), [1])}
    a100 = by[("Acme Corp.", "A-100")]  # "A 100" is the same model
    assert (a100.devices, a100.weak, a100.vulnerable, a100.infected) == (60, 20, 40, 8)
    assert a100.kev == 40 and a100.rate("infected") == round(8 / 60, 4)
    assert ("Acme Corp.", "A 100") not in by
    assert by[("(unknown)", "")].devices == 10
    assert sum(t.devices for t in by.values()) == 110


def test_cve_counts_per_firmware(world: Store) -> None:
    found = cve_counts(load_devices(world, CENTRE), [1])
    assert [(c.model, c.cve, c.devices, c.evidence, c.kev) for c in found] == [
        ("A-100", "CVE-2014-8361", 40, "verified", True),
        ("A-100", "CVE-2020-0001", 40, "verified", False),
    ]
