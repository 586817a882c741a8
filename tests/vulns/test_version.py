from __future__ import annotations

import pytest

from iotscope.vulns import compare_versions, in_range


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("1.04b12", "1.05b01", -1),
        ("1.04b12", "1.04B12", 0),
        ("1.10", "1.9", 1),  # numbers by value, not text
        ("1.04", "1.4", 0),  # leading zeros do not count
        ("6.42", "6.42.1", -1),  # a prefix is earlier
        ("1.1.4 Build 20230219", "1.1.4", 1),
        ("V5.4.0 build 160530", "5.4.0 build 160530", 0),  # a leading v is a label
        ("Ver.1.10", "1.10", 0),
        ("1.0b1", "1.0.1", -1),  # a text run sorts before a number at the same place
        ("2.x.1.120", "2.x.2.43", -1),
        ("V100R001C01B016", "V100R001C02B017SP01", -1),
        ("rc1", "rc2", -1),
    ],
)
def test_order(a: str, b: str, order: int) -> None:
    assert compare_versions(a, b) == order
    assert compare_versions(b, a) == -order


def test_range_bounds() -> None:
    assert in_range("1.5", start_incl="1.5", end_excl="2.0")
    assert not in_range("1.5", start_excl="1.5")
    assert in_range("2.0", end_incl="2.0") and not in_range("2.0", end_excl="2.0")
    assert in_range("anything")  # no bound: every version
