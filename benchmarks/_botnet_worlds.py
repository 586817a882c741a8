"""Month lab worlds for the botnet benchmarks: generated, loaded into a fresh SQLite store, with
their truth (shared by ``bench_lineage`` and ``bench_capture``)."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iotscope.lab.month import generate, load, truth
from iotscope.store import Store, open_store

TUNING_SEEDS = tuple(range(1, 11))  # 1-3 at first; extended to 1-10 (see bench_lineage)
HELD_OUT_SEEDS = tuple(range(101, 111))  # never used while tuning
FRESH_SEEDS = tuple(range(201, 211))  # never looked at before the final runs
NEVER_SEEN_SEEDS = tuple(range(301, 311))  # new for issue 10: never looked at before its runs
WORLD = {"devices": 10_000, "isps": 5, "days": 30}
SMALL = {"devices": 2_000, "isps": 5, "days": 30}


@dataclass(frozen=True)
class Loaded:
    seed: int
    store: Store
    truth: dict[str, Any]
    seconds: float  # generate + load


def worlds(seeds: tuple[int, ...], size: dict[str, int]) -> Iterator[Loaded]:
    """Each seed's world in its own temporary store (removed after use)."""
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="iotscope-bench-") as tmp:
            t0 = time.perf_counter()
            world = generate(seed, **size)
            store = open_store(f"sqlite:///{Path(tmp) / 'db.sqlite'}")
            load(store, world)
            yield Loaded(seed, store, truth(world), time.perf_counter() - t0)
            store.engine.dispose()


def machine() -> dict[str, Any]:
    """What the figures were measured on (these runs shared the machine with other work)."""
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "note": "shared machine: other helpers ran builds and tests at the same time",
    }
