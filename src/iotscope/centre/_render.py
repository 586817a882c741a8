"""What a view page shows, as plain data for the templates and the page's script: pure
functions over a :class:`View` (no I/O), so the page and the JSON API share one computation.

Tables are drawn as HTML (escaped by the template engine, so a hostile banner string is only
text) and capped at :data:`MAX_ROWS` rows (the CSV has them all). Charts get their table's
columns and rows; a map chart also gets its cells resolved to JIS prefecture codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from iotscope.centre._ja import heading, text
from iotscope.centre._prefectures import TILES, prefecture_code
from iotscope.centre._views import Cell, Chart, Table, View

MAX_ROWS = 200
#: chart kinds the page's script draws
KINDS = frozenset({"line", "bar", "pareto", "graph", "map", "matrix", "heatmap"})


@dataclass(frozen=True, slots=True)
class CellOut:
    text: str
    raw: str
    numeric: bool
    href: str | None = None


@dataclass(frozen=True, slots=True)
class TableOut:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[CellOut, ...], ...]
    total: int
    csv: str


def show(value: Cell) -> str:
    """A cell as text: floats to at most three decimals, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:g}"
    return str(value)


def _raw(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def csv_url(view_name: str, table: str, params: Mapping[str, str]) -> str:
    """The API's CSV route for one table, with the page's view parameters."""
    url = f"/centre/api/views/{quote(view_name, safe='')}/{quote(table, safe='')}.csv"
    return f"{url}?{urlencode(dict(params))}" if params else url


def link(template: str, columns: tuple[str, ...], row: tuple[Cell, ...], lang: str) -> str:
    """A drill-down link: ``template`` is ``VIEW`` or ``VIEW?param={column}`` (a view of the
    centre; cells are URL-encoded into it)."""
    view_name, _, query = template.partition("?")
    values = {c: quote(show(v), safe="") for c, v in zip(columns, row, strict=True)}
    query = query.format_map(values) if query else ""
    sep = "&" if query else ""
    return f"/centre/views/{quote(view_name, safe='')}?{query}{sep}lang={lang}"


def table_out(
    view_name: str, t: Table, params: Mapping[str, str], lang: str, limit: int = MAX_ROWS
) -> TableOut:
    """One table as the template draws it (at most ``limit`` rows)."""
    links = dict(t.links)
    rows = []
    for row in t.rows[:limit]:
        cells = []
        for col, value in zip(t.columns, row, strict=True):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            href = link(links[col], t.columns, row, lang) if col in links else None
            cells.append(CellOut(show(value), _raw(value), numeric, href))
        rows.append(tuple(cells))
    title = t.title or t.name
    return TableOut(
        t.name, title, t.columns, tuple(rows), len(t.rows), csv_url(view_name, t.name, params)
    )


def _map_cells(t: Table, options: Mapping[str, Any]) -> list[list[Any]]:
    """[code, value, first row] per prefecture the table names (values of one prefecture
    summed; the row is what a click on its tile drills into)."""
    pcol = t.columns.index(str(options.get("prefecture", "prefecture")))
    vcol = t.columns.index(str(options.get("value", "value")))
    sums: dict[int, list[Any]] = {}
    for i, row in enumerate(t.rows):
        code = prefecture_code(row[pcol])
        value = row[vcol]
        if code is not None and isinstance(value, int | float) and not isinstance(value, bool):
            sums.setdefault(code, [code, 0, i])[1] += value
    return [sums[code] for code in sorted(sums)]


def chart_out(view_name: str, c: Chart, v: View, params: Mapping[str, str]) -> dict[str, Any]:
    """One chart as the page's script reads it (the table's columns and rows included)."""
    t = v.table(c.table)
    out: dict[str, Any] = {
        **c.to_json(),
        "columns": list(t.columns),
        "rows": [list(r) for r in t.rows],
        "links": dict(t.links),
        "csv": csv_url(view_name, t.name, params),
        "supported": c.kind in KINDS,
    }
    if c.kind == "map":
        out["cells"] = _map_cells(t, c.options)
    return out


def in_lang(chart: dict[str, Any], lang: str) -> dict[str, Any]:
    """``chart`` with what its script shows as words in ``lang``: the title, the y axis unit,
    the marker's label, and ``labels`` (column names and the series column's values -> what
    the legend says), the rows themselves unchanged."""
    opts = dict(chart["options"])
    if isinstance(opts.get("unit"), str):
        opts["unit"] = text(opts["unit"], lang)
    if isinstance(opts.get("marker"), Mapping) and isinstance(opts["marker"].get("label"), str):
        opts["marker"] = {**opts["marker"], "label": text(opts["marker"]["label"], lang)}
    labels = {c: heading(c, lang) for c in chart["columns"]}
    series = (
        chart["columns"].index(opts["series"]) if opts.get("series") in chart["columns"] else -1
    )
    for row in chart["rows"] if series >= 0 else ():
        if isinstance(row[series], str):
            labels.setdefault(row[series], text(row[series], lang))
    return {**chart, "options": opts, "title": text(chart["title"], lang), "labels": labels}


def page_data(
    name: str, v: View, params: Mapping[str, str], lang: str, ui: Mapping[str, str]
) -> dict[str, Any]:
    """Everything the script of the page of view ``name`` needs, embedded in it as JSON."""
    charts = [in_lang(chart_out(name, c, v, params), lang) for c in v.charts]
    data: dict[str, Any] = {"view": name, "lang": lang, "charts": charts, "ui": dict(ui)}
    if any(c.kind == "map" for c in v.charts):
        data["prefectures"] = [t.to_json() for t in TILES]
    return data
