"""The manufacturer views over the JSON API: numbers, the Pareto table, and tenancy (a
manufacturer never sees another vendor's rows, whatever it asks for)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iotscope.makers import save_labels
from iotscope.makers._jcstar import parse_registry
from iotscope.service import create_app
from iotscope.store import Store
from iotscope.store._tokens import mint_token
from tests.makers.world import open_world

REGISTRY = """registration,vendor,model,level,registered,expires
JC-1,ACME Corporation,A 100,★1,2025-05-21,2027-05-20
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Store]]:
    for store in open_world(tmp_path_factory):
        save_labels(store, parse_registry(REGISTRY).labels, "test")
        yield TestClient(create_app(store)), store


def _get(client: tuple[TestClient, Store], path: str, role: str, tenant: str | None = None) -> Any:
    tc, store = client
    token = mint_token(store.engine, role, tenant)  # type: ignore[arg-type]
    r = tc.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def _table(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    t = next(t for t in body["tables"] if t["name"] == name)
    return [dict(zip(t["columns"], row, strict=True)) for row in t["rows"]]


def test_makers_vendor_table_and_pareto_for_the_centre(client: tuple[TestClient, Store]) -> None:
    body = _get(client, "/centre/api/views/makers", "centre")
    vendors = {r["vendor"]: r for r in _table(body, "vendors")}
    assert vendors["Acme Corp."]["devices"] == 70 and vendors["Acme Corp."]["infected"] == 8
    assert vendors["Beta Networks Inc."]["infected"] == 2
    pareto = _table(body, "pareto")
    assert [(p["vendor"], p["cum_share"]) for p in pareto[:2]] == [
        ("Acme Corp.", 0.8),
        ("Beta Networks Inc.", 1.0),
    ]
    chart = next(c for c in body["charts"] if c["kind"] == "pareto")
    assert chart["options"] == {"x": "vendor", "y": "infected", "cumulative": "cum_share"}
    trend = _table(body, "trend")
    assert [(t["round"], t["infected"]) for t in trend if t["vendor"] == "Acme Corp."] == [
        ("r1", 4),
        ("r2", 8),
    ]


def test_earlier_round_by_parameter(client: tuple[TestClient, Store]) -> None:
    body = _get(client, "/centre/api/views/makers?round=r1", "centre")
    assert sum(r["infected"] for r in _table(body, "vendors")) == 4


def test_manufacturer_never_sees_another_vendor(client: tuple[TestClient, Store]) -> None:
    for view in ("makers", "maker", "maker?vendor=Beta%20Networks", "labels"):
        body = _get(client, f"/centre/api/views/{view}", "manufacturer", "Acme")
        text = json.dumps(body)
        assert "Beta" not in text and "10.0.1." not in text and "B200" not in text
    mine = _get(client, "/centre/api/views/maker", "manufacturer", "Acme")
    summary = _table(mine, "summary")[0]
    assert summary["devices"] == 70 and summary["share_of_all_infections"] == 0.8
    other = _get(client, "/centre/api/views/maker?vendor=Beta", "manufacturer", "Acme")
    assert _table(other, "summary") == _table(mine, "summary")  # always its own report


def test_maker_firmware_cves_and_labels(client: tuple[TestClient, Store]) -> None:
    body = _get(client, "/centre/api/views/maker?vendor=acme", "centre")
    models = {r["model"]: r for r in _table(body, "models")}
    assert models["A-100"]["infected"] == 8 and models["A-100"]["vulnerable"] == 40
    cves = _table(body, "cves")
    kev = next(c for c in cves if c["cve"] == "CVE-2014-8361")
    assert kev["kev"] is True and kev["evidence"] == "verified" and kev["devices"] == 40
    assert _table(body, "labels")[0]["registration"] == "JC-1"
    assert next(p["model"] for p in _table(body, "pareto")) == "A-100"


def test_isp_sees_its_own_network_only(client: tuple[TestClient, Store]) -> None:
    body = _get(client, "/centre/api/views/makers", "isp", "beta")
    assert [r["vendor"] for r in _table(body, "vendors")] == ["Beta Networks Inc."]


def test_labels_view_compares_labelled_with_unlabelled(client: tuple[TestClient, Store]) -> None:
    rows = {
        r["group"]: r
        for r in _table(_get(client, "/centre/api/views/labels", "centre"), "outcomes")
    }
    # the labelled product "A 100" matches both "A-100" and "A 100" spellings: 60 devices
    assert rows["labelled"]["devices"] == 60 and rows["★1"]["devices"] == 60
    assert rows["unlabelled"]["devices"] == 40 and rows["★2"]["devices"] == 0
    lab = rows["labelled"]
    assert lab["infected"] == 8 and lab["infected_low"] < 8 / 60 < lab["infected_high"]


def test_unknown_round_is_404_and_partner_is_refused(client: tuple[TestClient, Store]) -> None:
    tc, store = client
    token = mint_token(store.engine, "centre", None)
    auth = {"Authorization": f"Bearer {token}"}
    assert tc.get("/centre/api/views/makers?round=nope", headers=auth).status_code == 404
    partner = {"Authorization": f"Bearer {mint_token(store.engine, 'partner', None)}"}
    assert tc.get("/centre/api/views/makers", headers=partner).status_code == 403
