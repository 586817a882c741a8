"""Planning ``lab up``: sharding by open-file budget, memory readings."""

from __future__ import annotations

import pytest

import iotscope.lab._up as up
from iotscope.lab import build_world
from tests.lab.labkit import test_catalog


def test_shards_respect_the_budget_and_keep_every_device() -> None:
    world = build_world(200, 1, "127.150.0.0/16", test_catalog())
    groups = up.shards(world.devices, 100)
    assert [d for g in groups for d in g] == list(world.devices)
    assert all(sum(len(d.services) for d in g) <= 100 for g in groups)
    assert len(groups) >= sum(len(d.services) for d in world.devices) // 100


def test_plan_is_one_process_when_the_limit_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_world(100, 1, "127.150.0.0/16", test_catalog())
    monkeypatch.setattr(up, "raise_open_files", lambda needed: needed)
    assert len(up.plan(world)) == 1
    monkeypatch.setattr(up, "raise_open_files", lambda needed: up.HEADROOM * 2 + 256)
    assert len(up.plan(world)) > 1


def test_memory_readings() -> None:
    rss, peak = up.rss_mib()
    assert 0 < rss <= peak
    import os

    assert up.pss_mib(os.getpid()) > 0
