"""The month world's JC-STAR registry: seeded, in the import format, biased the way the
scheme's ★1 baseline (no shared default password) makes it, and its field outcomes in the
centre's ``labels`` view."""

from __future__ import annotations

from pathlib import Path

from iotscope.centre._views import registry
from iotscope.lab.month import MonthWorld, generate, load
from iotscope.lab.month._labels import labels, registry_csv
from iotscope.makers import parse_registry
from iotscope.store import open_store
from iotscope.tenancy import CENTRE


def test_registry_is_seeded_and_round_trips(world: MonthWorld) -> None:
    first = labels(world)
    assert first == labels(world) and first
    assert labels(generate(12, devices=300, isps=5, days=14)) != first
    parsed = parse_registry(registry_csv(first))
    assert not parsed.bad and list(parsed.labels) == first
    assert all(x.registered < world.start.date() < x.expires for x in first if x.expires)
    assert {x.level for x in first} <= {1, 2}


def test_models_without_a_default_credential_are_labelled_more_often(world: MonthWorld) -> None:
    labelled = {(x.vendor, x.model) for x in labels(world)}
    share = {}
    for defaults in (True, False):
        models = [(p.vendor, m) for p in world.products.profiles if bool(p.defaults) == defaults
                  for m in p.all_models()]  # fmt: skip
        share[defaults] = sum(m in labelled for m in models) / len(models)
    assert share[False] > 2 * share[True]


def test_loaded_labels_show_in_the_labels_view(tmp_path: Path) -> None:
    world = generate(5, devices=1500, isps=3, days=14)
    store = open_store(f"sqlite:///{tmp_path / 'm.sqlite'}")
    first = load(store, world)
    assert first.jcstar_labels == len(labels(world))
    assert load(store, world).jcstar_labels == 0  # a reload adds nothing
    view = registry()["labels"].fn(store, CENTRE, {})
    outcomes = {r[0]: r for r in next(t for t in view.tables if t.name == "outcomes").rows}
    cols = next(t for t in view.tables if t.name == "outcomes").columns
    weak_rate = cols.index("weak_rate")
    assert outcomes["labelled"][cols.index("devices")] > 0
    assert outcomes["labelled"][weak_rate] < outcomes["unlabelled"][weak_rate]
