"""The centre's view registry and JSON API: a view's tables as JSON and CSV, roles enforced."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from iotscope.centre import Table, View, view
from iotscope.centre import _views as views_module
from iotscope.service import create_app
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token
from iotscope.tenancy import Principal


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")


@pytest.fixture
def probe_view() -> Iterator[str]:
    """A throwaway view open to the centre and ISPs only, echoing the caller and a parameter."""

    @view("test-probe", title_en="Probe", title_ja="試験", roles=("centre", "isp"))
    def probe(store: Store, who: Principal, params: Mapping[str, str]) -> View:
        rows = ((who.role, who.tenant, params.get("n", "0")),)
        return View("test-probe", (Table("who", ("role", "tenant", "n"), rows),))

    yield "test-probe"
    views_module._REGISTRY.pop("test-probe")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_view_json_csv_and_roles(store: Store, probe_view: str) -> None:
    client = TestClient(create_app(store))
    isp = _auth(mint_token(store.engine, "isp", "Kumo Broadband"))
    maker = _auth(mint_token(store.engine, "manufacturer", "Acme"))
    assert client.get("/centre/api/views").status_code == 401
    names = [v["name"] for v in client.get("/centre/api/views", headers=isp).json()]
    assert probe_view in names
    assert probe_view not in [
        v["name"] for v in client.get("/centre/api/views", headers=maker).json()
    ]
    body = client.get(f"/centre/api/views/{probe_view}?n=7", headers=isp).json()
    assert body["tables"][0]["rows"] == [["isp", "Kumo Broadband", "7"]]
    r = client.get(f"/centre/api/views/{probe_view}/who.csv?n=3", headers=isp)
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines() == ["role,tenant,n", "isp,Kumo Broadband,3"]
    assert client.get(f"/centre/api/views/{probe_view}", headers=maker).status_code == 403
    assert client.get("/centre/api/views/nope", headers=isp).status_code == 404
    assert client.get(f"/centre/api/views/{probe_view}/nope.csv", headers=isp).status_code == 404


def test_table_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="cells"):
        Table("t", ("a", "b"), ((1,),))
