"""Every view's words in Japanese: walk every view page with ``?lang=ja`` over a month world
and find no English left in what the page says (titles, notes, chart titles, axis units,
markers, legends), data values and proper nouns allowed."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from iotscope.centre._i18n import Text, both, say, strings
from iotscope.centre._ja import text
from iotscope.centre._render import page_data
from iotscope.centre._views import registry
from iotscope.lab.month import generate, load, survey_days, survey_id
from iotscope.service import create_app
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token
from iotscope.tenancy import Principal

#: words a Japanese page may show as they are: acronyms, method and standard names, the
#: view parameters it names (``?kind=weak``) and the units of a date pattern
ALLOWED = {
    "AIC", "C2", "C2s", "CSV", "CVE", "CVEs", "CVSS", "Chao", "Chao2", "HAC", "ID", "ISP", "ISPs",
    "JC-STAR", "JIS", "Jaccard", "KEV", "KPI", "KPIs", "Newcombe", "PNG", "Wilson", "ARI",
    "BGP", "kind", "weak", "vulnerable", "infected", "day", "pref", "YYYY-MM-DD", "mirai", "iot",
    "benchmarks", "results", "capture", "json", "lineage_found", "lineage_true", "chao2",
    "lineage_bracket",
    "share_of_all_infections", "outdated", "only", "one", "more", "X",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]|'(?=[A-Za-z]))+")  # "ISP's" one word, "'X'" X


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, TestClient, Any]]:
    world = generate(7, devices=800, isps=5, days=30)
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('ja') / 'db.sqlite'}")
    load(store, world)
    yield store, TestClient(create_app(store), base_url="http://127.0.0.1"), world
    store.engine.dispose()


def _get(client: TestClient, token: str, path: str) -> str:
    r = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


def _said(page: str) -> list[str]:
    """What the page says in words (not the tables' cells: data)."""
    out = re.findall(r'<p class="note">(.*?)</p>', page, re.S)
    out += re.findall(r"<h[12][^>]*>(.*?)(?:<a |</h[12]>)", page, re.S)
    out += re.findall(r'<span class="title">(.*?)</span>', page, re.S)
    found = re.search(
        r'<script type="application/json" id="centre-data">(.*?)</script>', page, re.S
    )
    for chart in json.loads(found.group(1))["charts"] if found else []:
        out += _chart_words(chart)
    return [html.unescape(x).strip() for x in out]


def _chart_words(chart: dict[str, Any]) -> list[str]:
    opts, labels = chart["options"], chart["labels"]
    named = [*_as_list(opts.get("y")), *_as_list(opts.get("secondary"))]
    named += [opts[k] for k in ("source", "target") if isinstance(opts.get(k), str)]
    words = [chart["title"], *(labels[c] for c in named if c in labels)]
    if isinstance(opts.get("unit"), str):
        words.append(opts["unit"])
    if isinstance(opts.get("marker"), dict):
        words.append(str(opts["marker"].get("label", "")))
    if opts.get("series") in chart["columns"]:
        i = chart["columns"].index(opts["series"])
        words += [labels.get(str(r[i]), str(r[i])) for r in chart["rows"]]
    return words


def _chart_data(store: Store, role: str, tenant: str | None, path: str) -> list[str]:
    """The words of the charts' data as the page's script gets it (:func:`page_data`), also
    where the browser libraries are not installed and the page embeds none."""
    url = urlsplit(path)
    name = url.path.rsplit("/", 1)[-1]
    params = {k: v for k, v in parse_qsl(url.query) if k != "lang"}
    v = registry()[name].fn(store, Principal(role, tenant), params)  # type: ignore[arg-type]
    charts = page_data(name, v, params, "ja", strings("ja"))["charts"]
    return [w for c in charts for w in _chart_words(c)]


def _as_list(x: Any) -> list[str]:
    return [x] if isinstance(x, str) else list(x or [])


def _data(client: TestClient, token: str, path: str) -> set[str]:
    """Every word of every cell of the view (its JSON API): data values, names."""
    r = client.get(path.replace("/centre/views/", "/centre/api/views/").replace("lang=ja", ""),
                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    words: set[str] = set()
    for t in r.json()["tables"]:
        for row in t["rows"]:
            for cell in row:
                words.update(WORD.findall(str(cell)))
    return words


def _english(said: str, data: set[str]) -> list[str]:
    return [w for w in WORD.findall(said) if w not in ALLOWED and w not in data]


def _pages(world: Any) -> list[tuple[str, str | None, str]]:
    """(role, tenant, path) for every view each role may open, with the parameters that
    change what a view says."""
    isp = world.isps[0].name
    callers = [("centre", None), ("isp", isp), ("manufacturer", "Acme"), ("partner", "CERT")]
    extra = {"regions": ["?kind=weak&pref=13", "?kind=vulnerable"],
             "effect": ["?measure=contacts"]}  # fmt: skip
    out = []
    for name, spec in registry().items():
        for role, tenant in callers:
            if role in spec.roles:
                for q in ["", *extra.get(name, [])]:
                    sep = "&" if q else "?"
                    out.append((role, tenant, f"/centre/views/{name}{q}{sep}lang=ja"))
    return out


def _names(world: Any) -> set[str]:
    """Proper nouns of the world a note may name: ISPs, vendors, survey rounds."""
    names = [x.name for x in world.isps] + [p.vendor for p in world.products.profiles]
    names += [survey_id(world, d) for d in survey_days(world.days)]
    return {w for n in names for w in WORD.findall(n)}


def test_every_view_says_everything_in_japanese(site: tuple[Store, TestClient, Any]) -> None:
    store, client, world = site
    missing: dict[str, list[str]] = {}
    for role, tenant, path in _pages(world):
        token = mint_token(store.engine, role, tenant)  # type: ignore[arg-type]
        data = _data(client, token, path) | _names(world) | {"Acme"}
        for said in _said(_get(client, token, path)) + _chart_data(store, role, tenant, path):
            if _english(said, data):
                missing.setdefault(said, []).append(f"{role} {path}")
    assert not missing, "\n".join(f"{k!r}: {v[0]}" for k, v in missing.items())


def test_every_intervention_the_effect_view_can_choose(site: tuple[Store, TestClient, Any]) -> None:
    """The chosen intervention's notes (a design's note, why it is not estimable) too."""
    store, client, _ = site
    token = mint_token(store.engine, "centre", None)
    api = client.get("/centre/api/views/effect", headers={"Authorization": f"Bearer {token}"})
    ids = [row[0] for row in api.json()["tables"][0]["rows"]]
    assert ids
    for iv in ids:
        path = f"/centre/views/effect?id={iv}&lang=ja"
        data = _data(client, token, path) | _names(site[2])
        left = [s for s in _said(_get(client, token, path)) if _english(s, data)]
        assert not left, (iv, left)


def test_say_keeps_english_and_fills_the_japanese_template() -> None:
    note = say("By prefecture on {day}", day="2026-10-05")
    assert note == "By prefecture on 2026-10-05" and isinstance(note, Text)
    assert json.dumps([note]) == '["By prefecture on 2026-10-05"]'  # the API sees English
    assert text(note, "ja") == "2026-10-05の都道府県別" and text(note, "en") == note
    # values that are words the catalogue knows are translated too, data stays
    kind = say("{kind} devices by prefecture", kind="Weak")
    assert "Weak" not in text(kind, "ja")
    assert text(both("Share", "割合"), "ja") == "割合"
    assert text("an unknown sentence", "ja") == "an unknown sentence"


def test_every_view_title_has_japanese() -> None:
    for spec in registry().values():
        assert spec.title_ja and not WORD.fullmatch(spec.title_ja.replace(" ", ""))
