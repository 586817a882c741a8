"""The botnet views over a store: exact numbers on a hand-built case, every role's cut, and a
300-device lab world (no ISP ever sees another ISP's bots)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from iotscope.centre import registry
from iotscope.centre._botnets import analysis
from iotscope.centre.views_botnets import exclusive_lineages
from iotscope.errors import ConfigError
from iotscope.lab.month import generate, load
from iotscope.service import create_app
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token
from iotscope.store.centre import C2Contact, list_c2_contacts, save_c2_contacts
from iotscope.tenancy import CENTRE, Principal

T0 = datetime(2026, 10, 1, tzinfo=UTC)
VIEWS = ("lineages", "migrations", "correlation", "unseen")


def _rows(isp: str, c2: str, bots: range, start: int, end: int) -> list[C2Contact]:
    out = []
    for b in bots:
        for d in range(start, end + 1):
            t = T0 + timedelta(days=d, hours=2)
            out.append(
                C2Contact(
                    isp,
                    c2,
                    23,
                    "mirai",
                    f"{isp[0]}{b:03d}",
                    date(2026, 10, 1 + d),
                    t,
                    t + timedelta(hours=3),
                    4,
                )
            )
    return out


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """ISP A: 6 bots move from C2 .1 to .2 on day 3; ISP B: 4 bots on .2; ISP A alone: .9."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('hand') / 'db.sqlite'}")
    rows = _rows("A", "192.0.2.1", range(6), 0, 2) + _rows("A", "192.0.2.2", range(6), 3, 5)
    rows += _rows("B", "192.0.2.2", range(4), 3, 5) + _rows("A", "192.0.2.9", range(10, 13), 0, 5)
    save_c2_contacts(store, CENTRE, rows)
    return store


@pytest.fixture(scope="module")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('world') / 'db.sqlite'}")
    load(store, generate(6, devices=300, isps=3, days=30))
    yield store


def _view(store: Store, who: Principal, name: str, **params: str) -> dict:
    return registry()[name].fn(store, who, params).to_json()


def _table(body: dict, name: str) -> list[dict]:
    (t,) = [t for t in body["tables"] if t["name"] == name]
    return [dict(zip(t["columns"], r, strict=True)) for r in t["rows"]]


def test_hand_case_centre(hand: Store) -> None:
    body = _view(hand, CENTRE, "lineages")
    rows = {r["lineage"]: r for r in _table(body, "lineages")}
    assert set(rows) == {"mirai/192.0.2.1:23", "mirai/192.0.2.9:23"}
    big = rows["mirai/192.0.2.1:23"]
    assert (big["c2s"], big["bots"], big["isps"], big["only_isp"]) == (2, 10, 2, None)
    assert rows["mirai/192.0.2.9:23"]["only_isp"] == "A"
    graph = _table(body, "graph")
    assert {
        "day": "2026-10-04",
        "source": "B bots",
        "target": "192.0.2.2:23",
        "lineage": "mirai/192.0.2.1:23",
        "bots": 4,
    } in graph
    (move,) = _table(_view(hand, CENTRE, "migrations"), "migrations")
    assert (move["source"], move["target"], move["bots"]) == ("192.0.2.1:23", "192.0.2.2:23", 6)
    corr = _view(hand, CENTRE, "correlation")
    lin = {(r["item"], r["isp_a"], r["isp_b"]): r for r in _table(corr, "overlap")}
    assert lin[("lineage", "A", "B")]["jaccard"] == 0.5
    assert lin[("c2", "A", "B")]["jaccard"] == pytest.approx(1 / 3, abs=1e-4)


def test_hand_case_isp_sees_own_bots_only(hand: Store) -> None:
    b = Principal("isp", "B")
    body = _view(hand, b, "lineages")
    rows = {r["lineage"]: r for r in _table(body, "lineages")}
    assert rows["mirai/192.0.2.1:23"]["your_bots"] == 4  # not A's 6
    assert rows["mirai/192.0.2.9:23"] == {
        "lineage": "mirai/192.0.2.9:23",
        "family": "mirai",
        "c2s": 1,
        "first_seen": "2026-10-01T02:00:00+00:00",
        "last_seen": "2026-10-06T05:00:00+00:00",
        "your_bots": 0,
        "isps": 1,
        "only_isp": False,
    }
    assert {r["source"] for r in _table(body, "graph")} == {"B bots"}
    (move,) = _table(_view(hand, b, "migrations"), "migrations")
    assert move["your_bots"] == 0
    corr = _view(hand, b, "correlation")
    assert _table(corr, "only_one") == []
    assert all("B" in (r["isp_a"], r["isp_b"]) for r in _table(corr, "overlap"))
    assert [x.id for x in exclusive_lineages(hand, Principal("isp", "A"), "A")] == [
        "mirai/192.0.2.9:23"
    ]
    with pytest.raises(ConfigError):
        exclusive_lineages(hand, b, "A")


def test_world_every_view_every_role(world_store: Store) -> None:
    a = analysis(world_store)
    assert a.lineages and len(a.isps) >= 2
    secrets = {t.bot for t in a.tenures}
    for isp in a.isps:
        who = Principal("isp", isp)
        own = {c.bot for c in list_c2_contacts(world_store, who)}
        for name in VIEWS:
            body = _view(world_store, who, name)
            text = json.dumps(body)
            assert not any(s in text for s in secrets)  # no pseudonym, own or other
            for other in set(a.isps) - {isp}:
                assert f"{other} bots" not in text
        lineages = _table(_view(world_store, who, "lineages"), "lineages")
        timeline = _table(_view(world_store, who, "lineages"), "timeline")
        assert max((r["your_bots"] for r in lineages), default=0) <= len(own)
        assert sum(r["bots"] for r in timeline) == sum(
            n for (_, i, _), n in a.lineage_daily.items() if i == isp
        )
    est = _table(_view(world_store, CENTRE, "unseen"), "estimates")
    assert {r["method"] for r in est} >= {"chao2", "Mt"}
    for r in est:  # an unidentified model shows no estimate; the others bracket theirs
        assert r["estimate"] is None or r["observed"] <= r["lower_95"] <= r["estimate"]
        assert r["estimate"] is None or r["upper_95"] is None or r["estimate"] <= r["upper_95"]
    assert sum(r["chosen"] for r in est) == 2  # one model per item (C2s, lineages)
    # lineages may be found split: the chosen lineage estimate brackets found and chained ones
    (chosen,) = [r for r in est if r["item"] == "lineage" and r["chosen"]]
    assert chosen["method"] == "bracket"
    found = [r for r in est if r["item"] == "lineage" and r["method"] != "bracket"]
    assert chosen["observed"] <= found[0]["observed"]  # chains join found lineages, never split


def test_roles_over_the_api(world_store: Store) -> None:
    client = TestClient(create_app(world_store))
    isp = analysis(world_store).isps[0]
    tokens = {
        "isp": mint_token(world_store.engine, "isp", isp),
        "partner": mint_token(world_store.engine, "partner"),
        "manufacturer": mint_token(world_store.engine, "manufacturer", "Acme"),
    }

    def get(role: str, path: str) -> int:
        r = client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
        return r.status_code

    assert get("isp", "/centre/api/views/lineages") == 200
    assert get("isp", "/centre/api/views/correlation/overlap.csv") == 200
    assert get("partner", "/centre/api/views/unseen") == 200
    assert get("partner", "/centre/api/views/lineages") == 403
    for name in VIEWS:
        assert get("manufacturer", f"/centre/api/views/{name}") == 403


def test_empty_store_every_view(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    for name in VIEWS:
        body = _view(store, CENTRE, name)
        assert all(t["rows"] == [] for t in body["tables"])
