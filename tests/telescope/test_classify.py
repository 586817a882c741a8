"""The classification rules, replayed on hand-made per-source trait counts."""

from __future__ import annotations

import numpy as np
import pytest

from iotscope.telescope import RULES
from iotscope.telescope._aggregate import TRAITS
from iotscope.telescope._classify import classify, columns, mirai_share

# (packets, {trait: count}, known research, expected class)
EXAMPLES = [
    (100, {"syn": 100, "mirai": 100, "iot": 100}, False, "mirai"),
    (100, {"syn": 100, "mirai": 49, "iot": 100}, False, "iot"),
    (100, {"syn": 100, "zmap": 100}, False, "research"),
    (100, {"syn": 100, "masscan": 60}, False, "research"),
    (10, {"syn": 10}, True, "research"),
    (100, {"reply": 50}, False, "backscatter"),
    (100, {"reply": 49, "syn": 51}, False, "other"),
    (3, {}, False, "other"),
]


def _cols(examples: list[tuple[int, dict[str, int], bool, str]]) -> dict[str, np.ndarray]:
    traits = np.array([[t.get(name, 0) for name in TRAITS] for _, t, _, _ in examples])
    packets = np.array([p for p, _, _, _ in examples])
    known = np.array([k for _, _, k, _ in examples])
    return columns(packets, traits, known)


def test_examples() -> None:
    assert classify(_cols(EXAMPLES)).tolist() == [e[-1] for e in EXAMPLES]


def test_mirai_share_is_a_fraction_of_syns() -> None:
    share = mirai_share(_cols(EXAMPLES)).tolist()
    assert share[:2] == [1.0, 0.49] and share[-1] == 0.0


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_rule_has_an_example(rule: object) -> None:
    assert any(e[-1] == rule.name for e in EXAMPLES)  # type: ignore[attr-defined]
