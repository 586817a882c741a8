"""The ``effect`` and ``kpis`` views over the API: interventions from every source, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from iotscope.centre._interventions import (
    collect,
    from_block_actions,
    from_notices,
    not_recorded,
)
from iotscope.service import create_app
from iotscope.store import Store, open_store
from iotscope.store._schema_block import block_actions
from iotscope.store._schema_notices import notices
from iotscope.store._tokens import mint_token
from iotscope.store.centre import C2Contact, Intervention, save_c2_contacts, save_interventions
from iotscope.tenancy import CENTRE, Principal

from .test_effect import T0, _isp_world, _lineage_world


def _notice(i: int, isp: str, sent: datetime | None) -> dict[str, Any]:
    return {"id": f"n{isp}{i}", "isp": isp, "subscriber_id": f"s{i}", "ip": f"127.64.0.{i}",
            "port": 23, "finding_time": T0, "kind": "weak", "kinds": ["weak"], "ports": [23],
            "device": {}, "details": {}, "channel": "email", "variant": "A", "language": "ja",
            "created": T0, "sent": sent, "token_hash": f"{isp}{i:062d}"}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('views') / 'db.sqlite'}")
    rows = _isp_world(11, -0.4) + [(r[0], r[1], r[2], "L" + r[3], r[4], r[5])
                                   for r in _lineage_world(12, 0.5)]  # fmt: skip
    save_c2_contacts(s, CENTRE, [
        C2Contact(isp, ip, port, None, bot, day, datetime(day.year, day.month, day.day,
                  tzinfo=UTC), datetime(day.year, day.month, day.day, 1, tzinfo=UTC), flows)
        for isp, ip, port, bot, day, flows in rows
    ])  # fmt: skip
    save_interventions(s, CENTRE, [
        Intervention("td", "c2_takedown", None, "c2", "127.200.0.1:23", T0 + timedelta(days=15),
                     None, "manual"),
        Intervention("nc", "notice_campaign", "A", "devices", "weak", T0 + timedelta(days=15),
                     None, "manual"),
    ])  # fmt: skip
    at = T0 + timedelta(days=20, hours=3)
    acts = [{"isp": "C", "channel": ch, "target": t, "action": "added", "at": at,
             "indicator_id": None, "reason": None}
            for ch in ("plain", "rpz") for t in ("127.200.0.1/32", "c2.example")]  # fmt: skip
    acts.append(
        {
            "isp": "C",
            "channel": "bgp:127.0.0.1:179",
            "target": "127.200.2.1/32",
            "action": "announced",
            "at": at,
            "indicator_id": None,
            "reason": None,
        }
    )
    with s.engine.begin() as conn:
        conn.execute(insert(block_actions), acts)
        conn.execute(insert(notices), [_notice(i, "D", at) for i in range(3)]
                     + [_notice(9, "D", None)])  # fmt: skip
    return s


def test_derivations_group_per_isp_kind_and_day() -> None:
    at = T0 + timedelta(hours=5)
    rows = [{"isp": "C", "channel": ch, "target": "127.200.0.1/32", "action": "added", "at": at}
            for ch in ("plain", "nftables")]  # fmt: skip
    rows.append({"isp": "C", "channel": "plain", "target": "x", "action": "removed", "at": at})
    (iv,) = from_block_actions(rows)
    assert (iv.kind, iv.target, iv.note) == ("blocklist", "127.200.0.1/32", "1 targets")
    sent = [
        {"isp": "D", "sent": at},
        {"isp": "D", "sent": at + timedelta(hours=1)},
        {"isp": "D", "sent": None},
    ]
    (campaign,) = from_notices(sent)
    assert campaign.kind == "notice_campaign" and campaign.start == at
    assert campaign.note == "2 notices sent"


def test_a_recorded_campaign_is_not_counted_again_from_its_notices() -> None:
    at = T0 + timedelta(days=3, hours=9)
    (derived,) = from_notices([{"isp": "D", "sent": at}])
    recorded = Intervention("lab-nc", "notice_campaign", "D", "devices", "weak",
                            T0 + timedelta(days=3), None, "lab")  # fmt: skip
    assert not_recorded([derived], [recorded]) == []
    next_day = Intervention("x", "notice_campaign", "D", "devices", "weak",
                            T0 + timedelta(days=4), None, "lab")  # fmt: skip
    assert not_recorded([derived], [next_day]) == [derived]


def test_collect_by_role(store: Store) -> None:
    kinds = sorted(iv.kind for iv in collect(store, CENTRE))
    assert kinds == ["bgp_blackhole", "blocklist", "c2_takedown", "notice_campaign",
                     "notice_campaign"]  # fmt: skip
    assert {iv.isp for iv in collect(store, Principal("isp", "C"))} == {None, "C"}
    assert [iv.id for iv in collect(store, Principal("manufacturer", "Acme"))] == ["td"]


def _get(client: TestClient, token: str, path: str) -> Any:
    r = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_effect_view(store: Store) -> None:
    client = TestClient(create_app(store))
    centre = mint_token(store.engine, "centre", None)
    body = _get(client, centre, "/centre/api/views/effect?id=nc")
    tables = {t["name"]: t for t in body["tables"]}
    assert len(tables["interventions"]["rows"]) == 5
    (est,) = tables["estimate"]["rows"]
    cols = tables["estimate"]["columns"]
    low, effect, high = (est[cols.index(c)] for c in ("ci_low", "effect", "ci_high"))
    assert low <= effect <= high < 0  # A's bots fell (by 40 %, and by X's takedown)
    assert est[cols.index("comparison")] == "other ISPs (B)"  # C and D acted themselves
    assert len(tables["series"]["rows"]) == 30
    assert body["charts"][0]["options"]["band"]["low"] == "cf_low"
    td = _get(client, centre, "/centre/api/views/effect?id=td&measure=contacts")
    assert {t["name"]: t for t in td["tables"]}["estimate"]["rows"][0][3] == "contacts"
    isp = mint_token(store.engine, "isp", "D")
    mine = _get(client, isp, "/centre/api/views/effect")
    assert {r[2] for r in mine["tables"][0]["rows"]} == {None, "D"}
    csv = client.get("/centre/api/views/effect/series.csv?id=td",
                     headers={"Authorization": f"Bearer {centre}"})  # fmt: skip
    assert csv.text.startswith("day,phase,treated,comparison")
    maker = mint_token(store.engine, "manufacturer", "Acme")
    r = client.get("/centre/api/views/effect", headers={"Authorization": f"Bearer {maker}"})
    assert r.status_code == 403
    r = client.get("/centre/api/views/effect?id=nope", headers={"Authorization": f"Bearer {isp}"})
    assert r.status_code == 404


def test_kpis_view_scopes(store: Store) -> None:
    client = TestClient(create_app(store))
    maker = mint_token(store.engine, "manufacturer", "Acme")
    body = _get(client, maker, "/centre/api/views/kpis")
    tables = {t["name"]: t for t in body["tables"]}
    assert len(tables["kpis"]["rows"]) == 7
    assert {r[1] for r in tables["values"]["rows"]} == {"national"}
    status = {r[0]: r[-1] for r in tables["kpis"]["rows"]}
    assert status["weak_login_per_10k"] == "no data"  # no region counts: never a zero
    assert status["vantage_coverage"] in ("met", "not met")
    isp = mint_token(store.engine, "isp", "B")
    scopes = {r[1] for r in _get(client, isp, "/centre/api/views/kpis")["tables"][1]["rows"]}
    assert scopes <= {"national", "B"}
