"""The demo's follow-up step: a lab month on a small world, the effect table, the truth file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotscope.demo._followup import coverage, follow_up_step
from iotscope.lab import build_world
from iotscope.store import open_store

pytestmark = pytest.mark.slow


def test_follow_up_step_measures_against_the_truth(tmp_path: Path) -> None:
    world = build_world(700, 4, "127.83.0.0/16")
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    trial = follow_up_step(store, world.manifest, 4, datetime(2026, 10, 1, tzinfo=UTC), tmp_path)
    truth = json.loads((tmp_path / "followup" / "truth.json").read_text())
    assert set(truth["channels"]) <= {"email", "letter", "sms", "landing"}
    assert (tmp_path / "followup" / "leases.csv").read_text().startswith(
        "address,start,end,subscriber_id")  # fmt: skip
    rows = coverage(trial.effect, trial.truth)
    assert rows and all(r["n"] > 0 for r in rows)
    # a 95 % interval misses now and then; most of a dozen must hold the truth
    assert sum(r["covered"] for r in rows) >= len(rows) - 3
    assert trial.effect.group("holdout").remediated.n > 0
    states = trial.rounds[-1]["states"]
    assert states.get("remediated", 0) > 0 and states.get("still_weak", 0) > 0
    store.engine.dispose()
