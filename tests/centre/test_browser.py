"""The centre as a person uses it: Playwright drives Debian's Chromium through every page each
role may open, clicks the drill-downs, moves the time slider, exports CSV and PNG, and checks
that no console error, failed request or script from a banner string ever appears.

Skipped with the reason when Chromium, the playwright package or the chart library (``make
web-assets``) is missing. Screenshots go to a temporary folder (printed with ``-s``).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from iotscope.centre._assets import charts_available
from iotscope.lab.month import generate, load
from iotscope.share import serve_in_thread
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token
from tests.centre import sample_views as sv

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
    pytest.mark.skipif(not charts_available(), reason="chart library absent: make web-assets"),
]
ROLES = ("centre", "isp", "manufacturer", "partner")
PAGE_S = 3.0  # seconds from navigation to every chart drawn, on the tests' small world


@dataclass
class Watch:
    """What went wrong on a page: console errors, page errors, failed requests, dialogs."""

    problems: list[str] = field(default_factory=list)
    allowed_status: set[str] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("response", self._response)

    def _console(self, m: Any) -> None:
        if m.type == "error" and m.location.get("url") not in self.allowed_status:
            self.problems.append(f"console: {m.text} at {m.location.get('url')}")

    def _response(self, r: Any) -> None:
        if r.status >= 400 and r.url not in self.allowed_status:
            self.problems.append(f"HTTP {r.status}: {r.url}")


@dataclass(frozen=True)
class Site:
    url: str
    store: Store
    tenants: dict[str, str | None]  # role -> the tenant its token is for


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app on a loopback port over a small month world (every registered view has data)
    plus the sample views (every chart kind, hostile strings, a drill-down)."""
    path = tmp_path_factory.mktemp("browser") / "db.sqlite"
    store = open_store(f"sqlite:///{path}")
    world = generate(2, devices=300, isps=3, days=8)
    load(store, world)
    vendor = world.products.profiles[int(np.bincount(world.devices.profile).argmax())].vendor
    tenants = {"centre": None, "isp": world.isps[0].name, "manufacturer": vendor, "partner": None}
    with sv.registered(), serve_in_thread(store) as url:
        yield Site(url, store, tenants)
    store.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
            headless=True,
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots in {out}")
    return out


def _login(page: Any, url: str, token: str) -> None:
    page.goto(f"{url}/centre/")  # not signed in: to the sign-in page, then back
    assert "/centre/login" in page.url
    page.fill("#token", token)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/centre/$"))


def _open(page: Any, url: str, shots: Path, tag: str) -> None:
    t = time.perf_counter()
    page.goto(url)
    if page.locator("figure.chart .canvas").count():
        page.wait_for_selector("body[data-charts-ready]", timeout=10_000)
        drawn = page.locator("figure.chart[data-drawn]").count()
        assert drawn == page.locator("figure.chart .canvas").count(), f"{url}: a chart not drawn"
    # the 1 s goal at 10,000 devices is benchmarks/bench_centre.py's; here, on a small world
    # and a machine that may be busy, only a page that is far off fails
    assert time.perf_counter() - t < PAGE_S, f"{url} took {time.perf_counter() - t:.1f} s"
    assert page.evaluate("document.querySelectorAll('[onerror],[onload]').length") == 0
    assert "pwned" not in page.title()
    page.screenshot(path=str(shots / f"{tag}.png"), full_page=True)
    if "/centre/views/" in url:
        _same_numbers_as_the_api(page, url)


def _raw(value: Any) -> str:
    """A JSON cell as the page's ``data-v`` holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _same_numbers_as_the_api(page: Any, url: str) -> None:
    """The first row of every table on the page holds the API's first row of that table."""
    api = page.request.get(url.replace("/centre/views/", "/centre/api/views/")).json()
    for table in api["tables"]:
        if not table["rows"]:
            continue
        row = page.locator(f"#table-{table['name']} tbody tr").first
        shown = row.locator("td").evaluate_all("tds => tds.map(td => td.dataset.v)")
        assert shown == [_raw(v) for v in table["rows"][0]], (url, table["name"])


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role(site: Site, browser: Any, shots: Path, role: str) -> None:
    url, store, tenant = site.url, site.store, site.tenants[role]
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    _login(page, url, mint_token(store.engine, role, tenant))  # type: ignore[arg-type]
    page.goto(f"{url}/centre/")
    hrefs = page.eval_on_selector_all("#views a", "as => as.map(a => a.getAttribute('href'))")
    assert any(sv.OVERVIEW in h for h in hrefs)
    assert any(sv.SECRET in h for h in hrefs) == (role == "centre")
    for href in hrefs:
        name = href.split("/")[-1].split("?")[0]
        _open(page, url + href, shots, f"{role}-{name}")
    if role != "centre":  # a page the role may not open: the 403 page, not the view
        denied = f"{url}/centre/views/{sv.SECRET}"
        watch.allowed_status.add(denied)
        response = page.goto(denied)
        assert response.status == 403 and page.locator("#error-title").count() == 1
    assert watch.problems == [], watch.problems
    context.close()


def test_slider_drilldown_exports_and_numbers(site: Site, browser: Any, shots: Path) -> None:
    url, store = site.url, site.store
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    _login(page, url, mint_token(store.engine, "centre"))
    _open(page, f"{url}/centre/views/{sv.OVERVIEW}", shots, "overview")
    api = page.request.get(f"{url}/centre/api/views/{sv.OVERVIEW}").json()
    edges = next(t for t in api["tables"] if t["name"] == "edges")["rows"]
    graph = page.locator("#chart-graph")
    slider = graph.locator("input.time")
    for i, day in enumerate(sv.DAYS):  # move the slider to each day: that day's edges
        slider.fill(str(i))
        assert graph.get_attribute("data-time") == day
        assert int(graph.get_attribute("data-edges")) == sum(1 for e in edges if e[2] == day)
    graph.locator("button.play").click()  # play: from the first day, a day at a time
    page.wait_for_function(
        f"() => document.querySelector('#chart-graph').dataset.time === '{sv.DAYS[1]}'"
    )
    graph.locator("button.play").click()  # pause
    page.screenshot(path=str(shots / "overview-slider-played.png"), full_page=True)
    bots = next(t for t in api["tables"] if t["name"] == "bots")["rows"]
    cell = page.locator("#table-bots tbody tr").first.locator("td").nth(2)
    assert int(cell.inner_text()) == bots[0][2]
    with page.expect_download() as png:  # PNG export of a chart
        page.locator("#chart-map button.png").click()
    assert png.value.suggested_filename == f"{sv.OVERVIEW}-map.png"
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv_href = page.locator("#chart-vendors-pareto a.csv").get_attribute("href")
    csv = page.request.get(url + csv_href)
    assert csv.ok and csv.text().splitlines()[0] == "vendor,infected"
    _click_first_pareto_bar(page)  # drill-down from the chart
    page.wait_for_url(re.compile(rf".*/centre/views/{sv.ITEM}\?vendor=Acme"))
    assert page.locator("#table-models td").first.inner_text() == "Acme"
    page.go_back()
    page.locator("#table-vendors a", has_text="Kumo").click()  # drill-down from the table
    page.wait_for_url(re.compile(rf".*/centre/views/{sv.ITEM}\?vendor=Kumo"))
    _open(page, f"{url}/centre/views/regions?kind=weak", shots, "regions")
    code = _click_busiest_tile(page)  # drill-down from the map: one prefecture
    page.wait_for_url(re.compile(rf".*/centre/views/regions\?pref={code:02d}"))
    assert page.locator("#table-by_prefecture tbody tr").count() == 1
    page.go_back()
    page.goto(f"{url}/centre/views/{sv.ITEM}?vendor=Kumo")
    page.locator("#lang-switch").click()  # the same page in Japanese
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "vendor=Kumo" in page.url and "試験の項目" in page.content()
    page.locator("#logout").click()
    page.wait_for_url(re.compile(r".*/centre/login"))
    assert not [c for c in context.cookies() if c["name"] == "iotscope_token"]
    assert watch.problems == [], watch.problems
    context.close()


def _click_busiest_tile(page: Any) -> int:
    """Click the map's tile with the highest count; its JIS code."""
    code, x, y = page.evaluate(
        """() => {
          const el = document.querySelector('#chart-map .canvas');
          const chart = echarts.getInstanceByDom(el);
          const data = chart.getOption().series[0].data;
          const best = data.reduce((a, b) => (b.value[2] > a.value[2] ? b : a));
          const [x, y] = chart.convertToPixel({seriesIndex: 0}, [best.value[0], best.value[1]]);
          const codes = JSON.parse(document.getElementById('centre-data').textContent).prefectures;
          const code = codes.find(p => p.col === best.value[0] && p.row === best.value[1]).code;
          return [code, x, y];
        }"""
    )
    page.locator("#chart-map .canvas").click(position={"x": x, "y": y})
    return int(code)


def _click_first_pareto_bar(page: Any) -> None:
    x, y = page.evaluate(
        """() => {
          const el = document.querySelector('#chart-vendors-pareto .canvas');
          const chart = echarts.getInstanceByDom(el);
          const v = chart.getOption().series[0].data[0];
          return chart.convertToPixel({seriesIndex: 0}, [0, v / 2]);
        }"""
    )
    page.locator("#chart-vendors-pareto .canvas").click(position={"x": x, "y": y})
