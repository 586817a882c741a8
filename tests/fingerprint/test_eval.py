"""Vendor accuracy on real banners held out from rule writing (Recog's telnet examples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iotscope.fingerprint import load_rules
from iotscope.fingerprint._eval import (
    Labelled,
    by_split,
    labelled_examples,
    normalize_vendor,
    rules_namer,
    score,
    split_of,
)

GOAL = 0.8  # issue 7, item 8


def test_split_is_fixed_and_blind_to_content() -> None:
    assert split_of("MikroTik v6.42.3 (stable)") == split_of("MikroTik v6.42.3 (stable)")
    halves = {split_of(f"banner {i}") for i in range(50)}
    assert halves == {"tuning", "held-out"}


def test_vendor_spellings_of_one_company_compare_equal() -> None:
    assert normalize_vendor("D-Link Corporation") == normalize_vendor("DLink")
    assert normalize_vendor("Hewlett-Packard") == normalize_vendor("HP")
    assert normalize_vendor("TP-LINK") == normalize_vendor("TP-Link")
    assert normalize_vendor("Yocto Project") == normalize_vendor("Yocto")
    assert normalize_vendor("Cisco") != normalize_vendor("Huawei")


def test_score_counts_right_wrong_and_unnamed() -> None:
    examples = [Labelled("a", "Acme", "fp", "held-out"), Labelled("b", "Acme", "fp", "held-out"),
                Labelled("c", "Acme", "fp", "held-out")]  # fmt: skip
    named = {"a": "ACME Inc.", "b": "Other"}
    result = score(examples, named.get)
    assert (result.right, result.wrong, result.unnamed) == (1, 1, 1)
    assert result.accuracy == pytest.approx(1 / 3)


@pytest.fixture
def real_telnet(shared_data: Path) -> list[Labelled]:
    return labelled_examples(shared_data / "recog" / "telnet_banners.xml")


def test_real_banners_split_in_two_halves(real_telnet: list[Labelled]) -> None:
    tuning, held = by_split(real_telnet, "tuning"), by_split(real_telnet, "held-out")
    assert len(tuning) + len(held) == len(real_telnet) > 100
    assert min(len(tuning), len(held)) > 0.3 * len(real_telnet)


def held_out_accuracy(real_telnet: list[Labelled]) -> float:
    """Shipped rules (no nmap: it names none of these trimmed banners), held-out half only."""
    result = score(by_split(real_telnet, "held-out"), rules_namer("telnet", load_rules()))
    print(f"held-out vendor accuracy {result.accuracy:.3f} on {result.total}")
    return result.accuracy


def test_held_out_vendor_accuracy_meets_the_goal(real_telnet: list[Labelled]) -> None:
    assert held_out_accuracy(real_telnet) >= GOAL


def test_tuning_half_names_no_wrong_vendor(real_telnet: list[Labelled]) -> None:
    result = score(by_split(real_telnet, "tuning"), rules_namer("telnet", load_rules()))
    assert result.wrong == 0, result.misses
