"""The walled-garden landing page and the ISP's notice API, through the real app."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient

from iotscope.notify import IspFindings, Notice, NoticeProfile, create_notices, from_mapping
from iotscope.notify import _status as status_mod
from iotscope.notify._db import events_of, list_notices, save_contacts, save_profile
from iotscope.notify._landing import csrf_value
from iotscope.notify._protect import propose_protections
from iotscope.notify._status import NoticeStatus
from iotscope.service import create_app
from iotscope.store import Store
from iotscope.store._tokens import mint_token
from tests.conftest import FIXED_NOW
from tests.notify.conftest import ISP, ISP_P, SUBSCRIBERS, contacts, findings


@pytest.fixture
def made(store: Store, profile: NoticeProfile) -> list[Notice]:
    save_profile(store, ISP_P, profile)
    save_contacts(store, ISP_P, contacts())
    job = IspFindings(ISP, tuple(findings()), from_mapping(SUBSCRIBERS))
    return create_notices(store, ISP_P, job, random.Random(9), now=FIXED_NOW)


def _client(store: Store) -> TestClient:
    return TestClient(create_app(store), base_url="https://testserver")


def test_landing_records_views_and_fixed(store: Store, made: list[Notice]) -> None:
    n = next(x for x in made if x.language == "ja")
    c = _client(store)
    r = c.get(f"/notice/{n.token}")  # no bearer token: the notice token is the credential
    assert r.status_code == 200
    assert (
        r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"
    )
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "まだ確認していません" in r.text and "対応しました" in r.text
    assert "山田" not in r.text  # no name or address on a page anyone with the link sees
    r = c.post(
        f"/notice/{n.token}/fixed", data={"csrf": csrf_value(n.token or "")}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/notice/{n.token}?done=1"
    assert "受け付けました" in c.get(r.headers["location"]).text
    events = [e["event"] for e in events_of(store, ISP_P, n.id)]
    assert events == ["created", "viewed", "fixed_reported", "viewed"]
    back = next(x for x in list_notices(store, ISP_P, ISP) if x.id == n.id)
    assert back.viewed is not None and back.fixed_reported is not None


def test_fixed_needs_the_form_value_and_same_site(store: Store, made: list[Notice]) -> None:
    n, c = made[0], _client(store)
    assert c.post(f"/notice/{n.token}/fixed", data={"csrf": "guess"}).status_code == 403
    cross = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
    r = c.post(f"/notice/{n.token}/fixed", data={"csrf": csrf_value(n.token or "")}, headers=cross)
    assert r.status_code == 403
    assert [e["event"] for e in events_of(store, ISP_P, n.id)] == ["created"]


def test_unknown_token_is_a_plain_404(store: Store, made: list[Notice]) -> None:
    c = _client(store)
    assert c.get("/notice/not-a-real-token").status_code == 404
    assert c.post("/notice/nope/fixed", data={"csrf": "x"}).status_code == 404


def test_shows_the_recheck_when_follow_up_has_one(
    store: Store, made: list[Notice], monkeypatch: pytest.MonkeyPatch
) -> None:
    n = next(x for x in made if x.language == "en")
    c = _client(store)
    done = NoticeStatus(state="remediated", checked=FIXED_NOW)
    monkeypatch.setattr("iotscope.notify._landing.notice_status", lambda _s, _id: done)
    assert "no longer there (checked 2026-11-01)" in c.get(f"/notice/{n.token}").text
    still = NoticeStatus(state="still_weak", checked=FIXED_NOW)
    monkeypatch.setattr("iotscope.notify._landing.notice_status", lambda _s, _id: still)
    assert "still there" in c.get(f"/notice/{n.token}").text
    assert status_mod.notice_status(store, n.id).passed is None  # default until follow-up


def test_isp_api_is_tenancy_checked(store: Store, made: list[Notice]) -> None:
    propose_protections(store, ISP_P, ISP, made, now=FIXED_NOW)
    c = _client(store)
    mine = {"authorization": "Bearer " + mint_token(store.engine, "isp", ISP)}
    other = {"authorization": "Bearer " + mint_token(store.engine, "isp", "Kumo Broadband")}
    assert c.get(f"/notices/{ISP}").status_code == 401
    assert c.get(f"/notices/{ISP}", headers=other).status_code == 404
    assert len(c.get(f"/notices/{ISP}", headers=mine).json()) == len(made)
    prots = c.get(f"/notices/{ISP}/protections", headers=mine).json()
    assert prots and all(p["state"] == "proposed" for p in prots)
    pid = prots[0]["id"]
    r = c.post(f"/notices/protections/{pid}/apply", data={"by": "Suzuki"}, headers=other)
    assert r.status_code == 404
    r = c.post(f"/notices/protections/{pid}/apply", data={"by": "Suzuki"}, headers=mine)
    assert r.status_code == 200 and r.json()["state"] == "applied"
    assert r.json()["applied_by"] == f"Suzuki (isp:{ISP})"
    r = c.post(f"/notices/protections/{pid}/apply", data={"by": "Suzuki"}, headers=mine)
    assert r.status_code == 409  # already applied
    nid = made[0].id
    assert c.post(f"/notices/delivered/{nid}", headers=other).status_code == 404
    r = c.post(f"/notices/delivered/{nid}", data={"source": "MTA DSN"}, headers=mine)
    assert r.status_code == 200 and r.json()["delivered"]
    assert [e["event"] for e in events_of(store, ISP_P, nid)] == ["created", "delivered"]
