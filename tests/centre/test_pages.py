"""The centre's pages over the HTTP client: sign-in and its cookie, roles on every page, the
security headers, hostile strings escaped, both languages, the numbers of the JSON API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from iotscope.centre._pages import safe_next
from iotscope.service import create_app
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token
from tests.centre import sample_views as sv


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, TestClient]]:
    path = tmp_path_factory.mktemp("pages") / "db.sqlite"
    store = open_store(f"sqlite:///{path}")
    with sv.registered():
        yield store, TestClient(create_app(store), base_url="http://127.0.0.1")
    store.engine.dispose()


def _signed_in(world: tuple[Store, TestClient], role: str, tenant: str | None = None) -> TestClient:
    store, client = world
    client.cookies.clear()
    token = mint_token(store.engine, role, tenant)  # type: ignore[arg-type]
    r = client.post(
        "/centre/login", data={"token": token, "next": "/centre/"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/centre/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "iotscope_token=" in cookie
    return client


def test_no_token_redirects_to_login(world: tuple[Store, TestClient]) -> None:
    _, client = world
    client.cookies.clear()
    r = client.get(f"/centre/views/{sv.OVERVIEW}?x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/centre/login?next=%2Fcentre%2Fviews%2F")
    ja = client.get("/centre/?lang=ja", follow_redirects=False).headers["location"]
    assert ja.endswith("&lang=ja") and "ログイン" in client.get(ja).text
    page = client.get("/centre/login")
    assert page.status_code == 200 and 'name="token"' in page.text
    bad = client.post("/centre/login", data={"token": "nope"}, follow_redirects=False)
    assert bad.status_code == 401 and 'id="login-error"' in bad.text


def test_login_refuses_cross_site_posts_and_open_redirects(world: tuple[Store, TestClient]) -> None:
    store, client = world
    token = mint_token(store.engine, "centre", None)
    r = client.post(
        "/centre/login", data={"token": token}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403 and "set-cookie" not in r.headers
    assert safe_next("https://evil.example/") == "/centre/"
    assert safe_next("//evil.example/centre/") == "/centre/"
    assert safe_next("/centre/views/x?a=1") == "/centre/views/x?a=1"


def test_roles_on_every_page(world: tuple[Store, TestClient]) -> None:
    client = _signed_in(world, "manufacturer", "Acme")
    index = client.get("/centre/")
    names = re.findall(r'data-view="([^"]+)"', index.text)
    assert sv.ITEM in names and sv.OVERVIEW in names and sv.SECRET not in names
    denied = client.get(f"/centre/views/{sv.SECRET}")
    assert denied.status_code == 403 and 'id="error-title"' in denied.text
    assert client.get("/centre/views/no-such-view").status_code == 404
    client = _signed_in(world, "centre")
    assert client.get(f"/centre/views/{sv.SECRET}").status_code == 200
    out = client.post("/centre/logout", follow_redirects=False)
    assert out.status_code == 303 and 'iotscope_token=""' in out.headers["set-cookie"]


def test_view_page_headers_escaping_and_numbers(world: tuple[Store, TestClient]) -> None:
    client = _signed_in(world, "isp", "isp-b")
    r = client.get(f"/centre/views/{sv.OVERVIEW}")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]+)", csp)
    assert script_src and "unsafe-inline" not in script_src.group(1) and "'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>document" not in r.text and 'onerror="' not in r.text
    assert "&lt;script&gt;document.title=" in r.text and "&lt;i&gt;markup" in r.text
    # every <script> on the page is ours: an external file or the JSON data block
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert 'src="/centre/static/' in tag or 'type="application/json"' in tag
    api = client.get(f"/centre/api/views/{sv.OVERVIEW}").json()
    bots = next(t for t in api["tables"] if t["name"] == "bots")
    shown = re.findall(r'<td class="num" data-v="(\d+)">(\d+)</td>', r.text)
    assert [int(v) for v, _ in shown[: len(bots["rows"])]] == [row[2] for row in bots["rows"]]
    assert all(row[1] == "isp-b" for row in bots["rows"])  # the ISP sees its own network only
    link = f'href="/centre/views/{sv.ITEM}?vendor=Acme&amp;lang=en"'
    assert link in r.text


def test_japanese_and_csv_links(world: tuple[Store, TestClient]) -> None:
    client = _signed_in(world, "centre")
    r = client.get(f"/centre/views/{sv.ITEM}?vendor=Kumo&lang=ja")
    assert '<html lang="ja">' in r.text and "試験の項目" in r.text and "ログアウト" in r.text
    assert '<th title="vendor">メーカー</th>' in r.text  # headings in Japanese, names as tooltips
    assert "<h2>機種 <a" in r.text  # a known table title ("Models") in Japanese
    assert '<th title="vendor">vendor</th>' in client.get(f"/centre/views/{sv.ITEM}?lang=en").text
    assert 'href="/centre/views/test-web-item?vendor=Kumo&amp;lang=en"' in r.text  # the switch
    csv_url = re.search(r'href="(/centre/api/views/[^"]+\.csv[^"]*)"', r.text)
    assert csv_url is not None
    csv = client.get(csv_url.group(1).replace("&amp;", "&"))
    assert csv.status_code == 200 and csv.text.splitlines()[1].startswith("Kumo,cam-1,")
    failed = client.get(f"/centre/views/{sv.ITEM}?fail=<script>x</script>")
    assert failed.status_code == 500 and "a view refused its input" in failed.text
    assert "&lt;script&gt;x" in failed.text and "<script>x" not in failed.text


def test_charts_unavailable_without_the_library(
    world: tuple[Store, TestClient], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store, _ = world
    monkeypatch.setenv("IOTSCOPE_WEB_BUILD", str(tmp_path / "absent"))
    client = TestClient(create_app(store), base_url="http://127.0.0.1")
    client.cookies.set("iotscope_token", mint_token(store.engine, "centre", None))
    r = client.get(f"/centre/views/{sv.OVERVIEW}")
    assert r.status_code == 200 and 'id="charts-unavailable"' in r.text
    assert "echarts.min.js" not in r.text and "<table>" in r.text
    assert client.get("/centre/static/echarts.min.js").status_code == 404
    assert client.get("/centre/static/centre.css").status_code == 200
    assert client.get("/centre/static/..%2Fpyproject.toml").status_code == 404
