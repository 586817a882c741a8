"""What a view page shows, computed without a server: cells as text, drill-down links,
capped tables, chart payloads (a map's cells resolved to prefecture codes)."""

from __future__ import annotations

from iotscope.centre import Chart, Table, View
from iotscope.centre._render import MAX_ROWS, chart_out, link, page_data, show, table_out


def test_cells_as_text() -> None:
    assert [show(v) for v in (None, True, 3, 2.5, 1 / 3, 1e20, float("nan"), "<b>")] == [
        "", "true", "3", "2.5", "0.333", "1e+20", "", "<b>"
    ]  # fmt: skip


def test_links_encode_the_cell() -> None:
    url = link("maker?vendor={vendor}", ("vendor", "n"), ("A&B /x", 1), "ja")
    assert url == "/centre/views/maker?vendor=A%26B%20%2Fx&lang=ja"
    assert link("makers", ("v",), ("x",), "en") == "/centre/views/makers?lang=en"


def test_tables_are_capped_and_linked() -> None:
    rows = tuple((f"v{i}", i) for i in range(MAX_ROWS + 5))
    t = Table("t", ("vendor", "n"), rows, links={"vendor": "maker?vendor={vendor}"})
    out = table_out("makers", t, {"round": "r1"}, "en")
    assert out.total == MAX_ROWS + 5 and len(out.rows) == MAX_ROWS
    first = out.rows[0]
    assert first[0].href == "/centre/views/maker?vendor=v0&lang=en" and not first[0].numeric
    assert first[1].numeric and first[1].raw == "0"
    assert out.csv == "/centre/api/views/makers/t.csv?round=r1"


def test_map_cells_sum_per_prefecture() -> None:
    t = Table("p", ("pref", "n"), (("13", 2), ("東京都", 3), ("Osaka", 1), ("nowhere", 9)))
    v = View("v", (t,), (Chart("m", "map", "p", {"prefecture": "pref", "value": "n"}),))
    chart = chart_out("v", v.charts[0], v, {})
    assert chart["cells"] == [[13, 5, 0], [27, 1, 2]] and chart["supported"]
    data = page_data("v", v, {}, "en", {"x": "y"})
    assert len(data["prefectures"]) == 47 and data["charts"][0]["rows"][0] == ["13", 2]
