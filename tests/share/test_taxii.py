"""TAXII 2.1 behaviour of the hub in-process (SQLite and PostgreSQL): paging, filters,
versions, media types, errors, status, deletion."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from iotscope.share import SHARED_COLLECTION_ID, TAXII_MEDIA, private_collection_id
from iotscope.store import Store
from tests.share.conftest import auth, indicator, post_headers

ROOT = "/taxii2/hub/"


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    """HTTP behaviour on SQLite; the store contract on both backends is test_hubstore's."""
    return sqlite_store


OBJECTS = f"{ROOT}collections/{SHARED_COLLECTION_ID}/objects/"


def post(client: TestClient, token: str, objects: list[object], url: str = OBJECTS) -> dict:
    r = client.post(url, headers=post_headers(token), content=json.dumps({"objects": objects}))
    assert r.status_code == 202, r.text
    assert r.headers["content-type"] == TAXII_MEDIA
    return r.json()


def test_discovery_and_api_root(client: TestClient, tokens: dict[str, str]) -> None:
    d = client.get("/taxii2/", headers=auth(tokens["partner"]))
    assert d.status_code == 200 and d.headers["content-type"] == TAXII_MEDIA
    assert d.json()["api_roots"] == ["http://testserver/taxii2/hub/"]
    root = client.get(ROOT, headers=auth(tokens["partner"])).json()
    assert root["versions"] == [TAXII_MEDIA] and root["max_content_length"] > 0


def test_paging_with_next_covers_everything_once(
    client: TestClient, tokens: dict[str, str]
) -> None:
    status = post(client, tokens["isp-a"], [indicator(i) for i in range(23)])
    assert status["success_count"] == 23 and status["status"] == "complete"
    seen: list[str] = []
    params: dict[str, object] = {"limit": 5}
    firsts = []
    while True:
        r = client.get(OBJECTS, headers=auth(tokens["isp-b"]), params=params)
        env = r.json()
        seen += [o["id"] for o in env["objects"]]
        firsts.append(r.headers["X-TAXII-Date-Added-First"])
        assert r.headers["X-TAXII-Date-Added-First"] <= r.headers["X-TAXII-Date-Added-Last"]
        if not env["more"]:
            break
        params = {"limit": 5, "next": env["next"]}
    assert seen == [indicator(i)["id"] for i in range(23)]
    assert firsts == sorted(firsts) and len(firsts) == 5


def test_added_after_is_strict(client: TestClient, tokens: dict[str, str]) -> None:
    post(client, tokens["isp-a"], [indicator(i) for i in range(4)])
    r = client.get(OBJECTS, headers=auth(tokens["isp-a"]), params={"limit": 2})
    last = r.headers["X-TAXII-Date-Added-Last"]
    rest = client.get(OBJECTS, headers=auth(tokens["isp-a"]), params={"added_after": last}).json()
    assert [o["id"] for o in rest["objects"]] == [indicator(i)["id"] for i in (2, 3)]


def test_versions_last_first_all_and_timestamp(client: TestClient, tokens: dict[str, str]) -> None:
    v1, v2, v3 = "2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z"
    post(client, tokens["isp-a"], [indicator(1, v2)])
    post(client, tokens["isp-a"], [indicator(1, v3), indicator(1, v1), indicator(2)])
    h = auth(tokens["isp-a"])

    def mods(**params: str) -> list[str]:
        env = client.get(OBJECTS, headers=h, params={"match[id]": indicator(1)["id"], **params})
        return sorted(o["modified"] for o in env.json().get("objects", []))

    assert mods() == [v3]
    assert mods(**{"match[version]": "first"}) == [v1]
    assert mods(**{"match[version]": "all"}) == [v1, v2, v3]
    assert mods(**{"match[version]": f"{v2},first"}) == [v1, v2]
    oid = indicator(1)["id"]
    versions = client.get(f"{OBJECTS}{oid}/versions/", headers=h).json()
    assert sorted(versions["versions"]) == [v1, v2, v3] and versions["more"] is False
    one = client.get(f"{OBJECTS}{oid}/", headers=h).json()
    assert [o["modified"] for o in one["objects"]] == [v3]


def test_reposting_a_version_adds_nothing(client: TestClient, tokens: dict[str, str]) -> None:
    post(client, tokens["isp-a"], [indicator(1)])
    again = post(client, tokens["isp-b"], [indicator(1)])
    assert again["success_count"] == 1 and again["successes"][0]["message"] == "already present"
    env = client.get(OBJECTS, headers=auth(tokens["centre"]), params={"match[version]": "all"})
    assert len(env.json()["objects"]) == 1


def test_type_and_spec_version_filters(client: TestClient, tokens: dict[str, str]) -> None:
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": "2026-11-01T00:00:00.000Z",
        "modified": "2026-11-01T00:00:00.000Z",
        "name": "Mirai",
        "is_family": True,
    }
    post(client, tokens["isp-a"], [indicator(1), malware])
    h = auth(tokens["isp-a"])
    env = client.get(OBJECTS, headers=h, params={"match[type]": "malware"}).json()
    assert [o["id"] for o in env["objects"]] == [malware["id"]]
    env = client.get(OBJECTS, headers=h, params={"match[spec_version]": "2.0"}).json()
    assert "objects" not in env and env["more"] is False


def test_invalid_objects_are_failures_not_errors(
    client: TestClient, tokens: dict[str, str]
) -> None:
    bad = [
        {"type": "indicator"},
        indicator(1, modified="yesterday"),
        {**indicator(2), "spec_version": "2.0"},
        {**indicator(3), "type": "malware"},
        "not an object",
    ]
    status = post(client, tokens["isp-a"], [*bad, indicator(4)])
    assert status["total_count"] == 6 and status["failure_count"] == 5
    assert status["success_count"] == 1
    assert all(f["message"] for f in status["failures"])


def test_status_is_the_posters_alone(client: TestClient, tokens: dict[str, str]) -> None:
    status = post(client, tokens["isp-a"], [indicator(1)])
    url = f"{ROOT}status/{status['id']}/"
    assert client.get(url, headers=auth(tokens["isp-a"])).json()["success_count"] == 1
    assert client.get(url, headers=auth(tokens["centre"])).status_code == 200
    other = client.get(url, headers=auth(tokens["isp-b"]))
    assert other.status_code == 404 and other.json()["http_status"] == "404"


def test_media_types_and_errors(client: TestClient, tokens: dict[str, str]) -> None:
    h = auth(tokens["isp-a"])
    assert client.get(ROOT, headers=h | {"Accept": "application/json"}).status_code == 406
    assert (
        client.get(ROOT, headers=h | {"Accept": "application/taxii+json;version=2.0"}).status_code
        == 406
    )
    assert client.get(ROOT, headers=h | {"Accept": "application/taxii+json"}).status_code == 200
    body = json.dumps({"objects": [indicator(1)]})
    r = client.post(OBJECTS, headers=h | {"Content-Type": "application/json"}, content=body)
    assert r.status_code == 415
    r = client.post(OBJECTS, headers=post_headers(tokens["isp-a"]), content=b"{not json")
    assert r.status_code == 400 and r.json()["title"]
    r = client.post(OBJECTS, headers=post_headers(tokens["isp-a"]), content=b'{"objects": 3}')
    assert r.status_code == 422
    r = client.get(OBJECTS, headers=h, params={"next": "garbage!!"})
    assert r.status_code == 400 and r.headers["content-type"] == TAXII_MEDIA
    r = client.get(OBJECTS, headers=h, params={"added_after": "2026-13-01"})
    assert r.status_code == 400
    r = client.get(OBJECTS, headers=auth(None))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_write_rights(client: TestClient, tokens: dict[str, str]) -> None:
    body = json.dumps({"objects": [indicator(1)]})
    for who in ("partner", "vendor"):
        r = client.post(OBJECTS, headers=post_headers(tokens[who]), content=body)
        assert r.status_code == 403, who
    mine = f"{ROOT}collections/{private_collection_id('isp-a')}/objects/"
    assert post(client, tokens["isp-a"], [indicator(1)], mine)["success_count"] == 1
    r = client.post(mine, headers=post_headers(tokens["isp-b"]), content=body)
    assert r.status_code == 404


def test_delete_versions_keeps_flags_right(client: TestClient, tokens: dict[str, str]) -> None:
    v1, v2 = "2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z"
    post(client, tokens["isp-a"], [indicator(1, v1), indicator(1, v2)])
    oid = indicator(1)["id"]
    h = auth(tokens["isp-a"])
    assert client.delete(f"{OBJECTS}{oid}/", headers=auth(tokens["partner"])).status_code == 403
    r = client.delete(f"{OBJECTS}{oid}/", headers=h, params={"match[version]": v2})
    assert r.status_code == 200
    env = client.get(f"{OBJECTS}{oid}/", headers=h).json()
    assert [o["modified"] for o in env["objects"]] == [v1]
    client.delete(f"{OBJECTS}{oid}/", headers=h)
    assert client.get(f"{OBJECTS}{oid}/", headers=h).status_code == 404


def test_manifest(client: TestClient, tokens: dict[str, str]) -> None:
    post(client, tokens["isp-a"], [indicator(i) for i in range(3)])
    url = f"{ROOT}collections/{SHARED_COLLECTION_ID}/manifest/"
    env = client.get(url, headers=auth(tokens["partner"]), params={"limit": 2}).json()
    assert env["more"] is True and len(env["objects"]) == 2
    rec = env["objects"][0]
    assert set(rec) == {"id", "date_added", "version", "media_type"}
    assert rec["date_added"].endswith("Z") and len(rec["date_added"]) == 27
