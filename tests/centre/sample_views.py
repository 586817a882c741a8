"""Views for the page and browser tests: every chart kind the pages draw, a drill-down, a view
only the centre may open, and hostile banner strings in a table (they must render inert)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from iotscope.centre import Chart, Table, View, view
from iotscope.centre import _views as views_module
from iotscope.errors import ConfigError
from iotscope.store import Store
from iotscope.tenancy import Principal

OVERVIEW = "test-web-overview"
ITEM = "test-web-item"
SECRET = "test-web-centre-only"
HOSTILE = (
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    '"><svg onload=alert(1)>',
)
DAYS = ("2026-11-01", "2026-11-02", "2026-11-03")
VENDORS = ("Acme", "Kumo", "Hoshi")
ISPS = ("isp-a", "isp-b")


def _overview(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    isps = ISPS if who.is_centre or who.role == "partner" else (who.tenant or "",)
    bots = tuple((d, isp, 10 * i + j + 1) for i, d in enumerate(DAYS) for j, isp in enumerate(isps))
    effect = tuple((d, 5.0 + i, 4.0 + i, 6.5 + i, 7) for i, d in enumerate(DAYS))
    vendors = tuple((v, 40 - 12 * i) for i, v in enumerate(VENDORS))
    edges = tuple(
        (f"bot{b}", f"c2-{(b + i) % 3}", d) for i, d in enumerate(DAYS) for b in range(6 + 2 * i)
    )
    prefs = ((13, 120), (27, 75), (1, 30), ("Okinawa", 5))
    matrix = tuple(
        (c, isp, (k + 1) * (m + 2))
        for k, c in enumerate(("c2-0", "c2-1"))
        for m, isp in enumerate(isps)
    )
    banners = tuple((b, "telnet", k + 1) for k, b in enumerate(HOSTILE))
    return View(
        OVERVIEW,
        (
            Table("bots", ("day", "isp", "bots"), bots, "Bots by day"),
            Table("effect", ("day", "estimate", "lower", "upper", "goal"), effect, "Effect"),
            Table(
                "vendors",
                ("vendor", "infected"),
                vendors,
                "Vendors",
                {"vendor": f"{ITEM}?vendor={{vendor}}"},
            ),
            Table("edges", ("bot", "c2", "day"), edges, "Bots and C2s"),
            Table("prefectures", ("pref", "devices"), prefs, "By prefecture"),
            Table("matrix", ("c2", "isp", "bots"), matrix, "C2 x ISP"),
            Table("banners", ("banner", "service", "hosts"), banners, "Banners seen"),
        ),
        (
            Chart("bots-line", "line", "bots", {"x": "day", "y": "bots", "series": "isp"}, "Bots"),
            Chart(
                "effect-band",
                "line",
                "effect",
                {"x": "day", "y": "estimate", "lower": "lower", "upper": "upper", "target": "goal"},
                "Effect",
            ),
            Chart(
                "vendors-pareto", "pareto", "vendors", {"x": "vendor", "y": "infected"}, "Pareto"
            ),
            Chart(
                "graph", "graph", "edges", {"source": "bot", "target": "c2", "time": "day"}, "Graph"
            ),
            Chart("map", "map", "prefectures", {"prefecture": "pref", "value": "devices"}, "Map"),
            Chart("matrix", "matrix", "matrix", {"x": "isp", "y": "c2", "value": "bots"}, "Matrix"),
            Chart("banners-bar", "bar", "banners", {"x": "banner", "y": "hosts"}, "<b>bar</b>"),
        ),
        ("A note with <i>markup</i> that stays text.",),
    )


def _item(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    vendor = params.get("vendor", "")
    if "fail" in params:
        raise ConfigError("a view refused its input", fail=params["fail"])
    rows = tuple((vendor, m, 3 * k + 1) for k, m in enumerate(("cam-1", "dvr-2")))
    return View(ITEM, (Table("models", ("vendor", "model", "devices"), rows, "Models"),))


def _secret(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    return View(SECRET, (Table("t", ("x",), ((1,),)),))


@contextmanager
def registered() -> Iterator[tuple[str, ...]]:
    """The sample views registered for the block (removed after)."""
    view(OVERVIEW, title_en="Test overview", title_ja="試験の概観")(_overview)
    view(
        ITEM, title_en="Test item", title_ja="試験の項目", roles=("centre", "manufacturer", "isp")
    )(_item)
    view(SECRET, title_en="Centre only", title_ja="センターのみ", roles=("centre",))(_secret)
    try:
        yield (OVERVIEW, ITEM, SECRET)
    finally:
        for name in (OVERVIEW, ITEM, SECRET):
            views_module._REGISTRY.pop(name, None)
