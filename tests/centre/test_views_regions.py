"""The ``regions`` view over a small month world: sums per prefecture and ISP match the stored
region counts, an ISP sees its own network only, a prefecture drills down, bad input is a 400."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi import HTTPException

from iotscope.centre._views import registry
from iotscope.lab.month import generate, load
from iotscope.store import Store, open_store
from iotscope.store.centre import list_region_counts
from iotscope.tenancy import CENTRE, Principal


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[str]]]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('regions') / 'db.sqlite'}")
    w = generate(4, devices=400, isps=3, days=10)
    load(store, w)
    yield store, [i.name for i in w.isps]
    store.engine.dispose()


def _regions(store: Store, who: Principal, **params: str) -> dict[str, list[list[object]]]:
    v = registry()["regions"].fn(store, who, params)
    return {t.name: [list(r) for r in t.rows] for t in v.tables}


def test_sums_match_the_stored_counts(world: tuple[Store, list[str]]) -> None:
    store, _ = world
    counts = list_region_counts(store, CENTRE)
    last = max(c.day for c in counts)
    want: Counter[tuple[str, str]] = Counter()
    for c in counts:
        if c.day == last:
            want[(c.pref_code, c.kind)] += c.count
    got = _regions(store, CENTRE)["by_prefecture"]
    kinds = ("weak", "vulnerable", "infected")
    shown = {(r[0], k): r[2 + i] for r in got for i, k in enumerate(kinds)}
    assert {k: v for k, v in shown.items() if v} == {k: v for k, v in want.items() if v}
    assert {r[0] for r in got} == {p for p, _ in want}
    daily = _regions(store, CENTRE)["daily"]
    assert sum(r[2] for r in daily if r[0] == last.isoformat()) == sum(
        c.count for c in counts if c.day == last
    )


def test_an_isp_sees_its_own_network(world: tuple[Store, list[str]]) -> None:
    store, isps = world
    mine = Principal("isp", isps[1])
    rows = _regions(store, mine)["by_isp_prefecture"]
    assert rows and {r[0] for r in rows} == {isps[1]}
    assert {r[0] for r in _regions(store, CENTRE)["by_isp_prefecture"]} == set(isps)
    assert registry()["regions"].roles == frozenset({"centre", "isp"})


def test_prefecture_drilldown_and_bad_input(world: tuple[Store, list[str]]) -> None:
    store, _ = world
    first = _regions(store, CENTRE)["by_prefecture"][0]
    one = _regions(store, CENTRE, pref=str(int(str(first[0]))), kind="weak")
    assert [r[0] for r in one["by_prefecture"]] == [first[0]]
    assert one["by_prefecture"][0] == first
    for bad in ({"kind": "evil"}, {"pref": "48"}, {"day": "yesterday"}):
        with pytest.raises(HTTPException) as e:
            _regions(store, CENTRE, **bad)
        assert e.value.status_code == 400
