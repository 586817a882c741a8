"""The ``regions`` view: weak, vulnerable and infected devices by prefecture (a map of Japan)
and by ISP and prefecture, one day at a time, with the national trend (issue 10, item 3).

Reads ``region_counts`` (what each ISP shares per day and prefecture; counts only) through
:func:`iotscope.store.centre.scoped`, so an ISP sees its own network and the centre all ISPs.
Parameters: ``day`` (ISO date; default the latest), ``kind`` (weak|vulnerable|infected, the one
the map and matrix colour; default infected), ``pref`` (a JIS code: one prefecture's drill-down).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import HTTPException
from sqlalchemy import func, select

from iotscope.centre._i18n import say
from iotscope.centre._views import Chart, Table, View, view
from iotscope.store import Store
from iotscope.store._schema_centre import region_counts as rc
from iotscope.store.centre import REGION_KINDS, scoped
from iotscope.tenancy import Principal

KINDS = REGION_KINDS  # weak, vulnerable, infected


def _param_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"day must be an ISO date, not {value!r}") from None


def _params(params: Mapping[str, str]) -> tuple[date | None, str, str | None]:
    kind = params.get("kind", "infected")
    if kind not in KINDS:
        raise HTTPException(400, f"kind must be one of {', '.join(KINDS)}")
    pref = params.get("pref") or None
    if pref is not None and not (pref.isdigit() and 1 <= int(pref) <= 47):
        raise HTTPException(400, "pref must be a JIS prefecture code (1-47)")
    return _param_day(params.get("day")), kind, pref.zfill(2) if pref else None


def _rows(store: Store, stmt: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


def _pivot(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """(key..., kind, count) rows -> (key..., weak, vulnerable, infected), keys in order."""
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for *key, kind, count in rows:
        out.setdefault(tuple(key), {})[kind] = int(count)
    return [(*k, *(v.get(kind, 0) for kind in KINDS)) for k, v in out.items()]


def _latest(store: Store, base: Any) -> date | None:
    sub = base.subquery()
    return _rows(store, select(func.max(sub.c.day)))[0][0]


def _by_prefecture(store: Store, on_day: Any) -> list[tuple[Any, ...]]:
    c = on_day.c
    stmt = select(c.pref_code, c.prefecture, c.kind, func.sum(c.count))
    stmt = stmt.group_by(c.pref_code, c.prefecture, c.kind).order_by(c.pref_code)
    return _pivot(_rows(store, stmt))


def _by_isp(store: Store, on_day: Any) -> list[tuple[Any, ...]]:
    c = on_day.c
    stmt = select(c.isp, c.prefecture, c.kind, c.count).order_by(c.isp, c.pref_code)
    return _pivot(_rows(store, stmt))


def _daily(store: Store, base: Any) -> list[tuple[Any, ...]]:
    c = base.subquery().c
    stmt = select(c.day, c.kind, func.sum(c.count)).group_by(c.day, c.kind)
    rows = _rows(store, stmt.order_by(c.day, c.kind))
    return [(d.isoformat(), k, int(n)) for d, k, n in rows]


def _charts(kind: str) -> tuple[Chart, ...]:
    title = kind.capitalize()
    return (
        Chart("map", "map", "by_prefecture", {"prefecture": "pref_code", "value": kind},
              say("{kind} devices by prefecture", kind=title)),
        Chart("isp-prefecture", "matrix", "by_isp_prefecture",
              {"x": "isp", "y": "prefecture", "value": kind},
              say("{kind} devices by ISP", kind=title)),
        Chart("daily", "line", "daily", {"x": "day", "y": "devices", "series": "kind"},
              "Devices per day"),
    )  # fmt: skip


@view("regions", title_en="Devices by region", title_ja="地域別の機器", roles=("centre", "isp"))
def regions(store: Store, who: Principal, params: Mapping[str, str]) -> View:
    day, kind, pref = _params(params)
    base = scoped(rc, who)
    if pref is not None:
        base = base.where(rc.c.pref_code == pref)
    day = day or _latest(store, base)
    on_day = base.where(rc.c.day == day).subquery()
    drill = "regions?pref={pref_code}"
    prefs, isps = tuple(_by_prefecture(store, on_day)), tuple(_by_isp(store, on_day))
    tables = (
        Table("by_prefecture", ("pref_code", "prefecture", *KINDS), prefs,
              say("By prefecture on {day}", day=day), {"pref_code": drill, "prefecture": drill}),
        Table("by_isp_prefecture", ("isp", "prefecture", *KINDS), isps,
              say("By ISP and prefecture on {day}", day=day)),
        Table("daily", ("day", "kind", "devices"), tuple(_daily(store, base)),
              "Every day, all prefectures shown"),
    )  # fmt: skip
    notes: list[str] = [
        say(
            "Day {day}; colour: {kind} devices (?kind=weak|vulnerable|infected, ?day=YYYY-MM-DD).",
            day=day,
            kind=kind,
        ),
        "Counts as each ISP shares them per prefecture: weak and vulnerable from the survey, "
        "infected from the ISP's own detection.",
    ]
    if pref is not None:
        notes.append(
            say("One prefecture (JIS {pref}); without ?pref= the whole country.", pref=pref)
        )
    return View("regions", tables, _charts(kind), tuple(notes))
