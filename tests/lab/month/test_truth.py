"""The truth: every key the centre's evaluations read, consistent with the world."""

from __future__ import annotations

from typing import Any

import numpy as np

from iotscope.lab.month import PRIMARY, MonthWorld
from iotscope.lab.month._truth import _distinct_lineages


def test_truth_keys_and_totals(world: MonthWorld, facts: dict[str, Any]) -> None:
    assert set(facts) >= {"seed", "start", "days", "devices", "hidden", "isps", "lineages", "c2",
                          "totals", "interventions", "series", "survey_rounds"}  # fmt: skip
    t = facts["totals"]
    assert t["c2"] == len(facts["c2"]) >= t["c2_contacted"] >= t["c2_seen"]
    assert t["lineages"] == len(facts["lineages"]) >= t["lineages_with_bots"] >= t["lineages_seen"]
    every = {c["endpoint"] for c in facts["c2"]}
    assert every == {e for x in facts["lineages"] for e in x["c2"]}  # each C2 in one lineage
    names = {x["name"] for x in facts["isps"]}
    assert all(set(c["seen_by"]) <= names for c in facts["c2"])


def test_each_intervention_has_its_exact_effect(facts: dict[str, Any]) -> None:
    kinds = {x["kind"] for x in facts["interventions"]}
    assert {"c2_takedown", "notice_campaign"} <= kinds
    for x in facts["interventions"]:
        m = x["metrics"][PRIMARY[x["kind"]]]
        day = x["day"]
        assert m["factual"][:day] == m["counterfactual"][:day]  # nothing differs before it
        assert x["hidden_factor"] > 0
        if x["kind"] == "c2_takedown":
            true = x["metrics"]["true_bots"]
            assert true["factual"][day] <= true["counterfactual"][day]


def test_distinct_lineages_per_device() -> None:
    lin = np.array([[-1, 0, 1], [2, 0, -1], [2, 1, 1]], dtype=np.int16)
    assert _distinct_lineages(lin).tolist() == [1, 2, 1]
