"""The follow-up routes: token required, an ISP sees only its own effect and cases."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from iotscope.cases import load_criteria, propose
from iotscope.followup import LeaseBook, LeaseRow, run_round
from iotscope.service import create_app
from iotscope.store import Store
from iotscope.store._tokens import mint_token
from iotscope.tenancy import CENTRE, Principal
from tests.cases.test_cases import _history
from tests.followup.test_round import CAM, T0, Scripted, _enrol


def test_routes_check_the_tenant(store: Store) -> None:
    _enrol(store)
    leases = LeaseBook(LeaseRow(f"127.81.0.{i}", T0 - timedelta(days=1), None, f"sub-{i}")
                       for i in range(1, 7))  # fmt: skip
    backend = Scripted({f"127.81.0.{i}": (CAM, i % 2 == 0) for i in range(1, 7)})
    run_round(store, CENTRE, "Kumo", "t1", T0 + timedelta(days=7), backend, leases)
    _history(store, "sub-9", ["still_weak", "still_weak"])
    crit = load_criteria()["default-password-after-notices"]
    case = propose(store, Principal("isp", "Kumo"), "Kumo", "sub-9", crit, "sato", "weak",
                   T0 + timedelta(days=40))  # fmt: skip
    client = TestClient(create_app(store))
    mine = {"Authorization": f"Bearer {mint_token(store.engine, 'isp', 'Kumo')}"}
    other = {"Authorization": f"Bearer {mint_token(store.engine, 'isp', 'Fuji Access')}"}
    assert client.get("/isp/Kumo/cases").status_code == 401
    assert client.get("/isp/Kumo/cases", headers=other).status_code == 403
    assert client.get("/isp/Kumo/follow-up/effect", headers=other).status_code == 403
    got = client.get("/isp/Kumo/cases", headers=mine).json()
    assert [c["id"] for c in got] == [case] and got[0]["status"] == "proposed"
    effect = client.get("/isp/Kumo/follow-up/effect", headers=mine).json()
    groups = {g["group"]: g for g in effect["groups"]}
    assert groups["email"]["remediated"] == 3 and groups["email"]["answered"] == 5
    assert client.get("/isp/Fuji%20Access/follow-up/effect", headers=other).status_code == 404
