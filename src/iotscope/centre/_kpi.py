"""Common goals as data: KPI definitions (``kpis.toml``), their values over time, per owner.

A :class:`Kpi` is read from the TOML file shipped in the package; its ``definition`` names a
computation (:mod:`iotscope.centre._kpi_data`) that yields :class:`Point` values per scope
(``national`` or an ISP's name) and period (a day, or the Monday of an ISO week). A period or
scope without data has no point, or a point with ``value`` None and a ``reason``: the centre
shows "no data", never a zero. :func:`judge` says whether a value meets its target.

Who sees what: the centre every scope; an ISP its own network's scope and the national one;
manufacturers and partners the national one (:func:`scopes_for`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

from iotscope.errors import ConfigError
from iotscope.tenancy import Principal

NATIONAL = "national"
DIRECTIONS = ("lower", "higher")
OWNERS = ("centre", "isp", "manufacturers")
PERIODS = ("day", "week")
_FIELDS = ("id", "name_en", "name_ja", "definition", "unit", "target", "direction", "owner",
           "period")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI: what it measures (``definition``: ``name`` or ``name:argument``), its goal."""

    id: str
    name_en: str
    name_ja: str
    definition: str
    unit: str
    target: float
    direction: str  # lower | higher
    owner: str  # centre | isp | manufacturers
    period: str  # day | week

    @property
    def computation(self) -> tuple[str, str | None]:
        name, _, arg = self.definition.partition(":")
        return name, (arg or None)


@dataclass(frozen=True, slots=True)
class Point:
    """One value of one KPI: ``scope`` (national or an ISP), ``period`` (its first day),
    ``n`` (how many items it summarises), ``reason`` when ``value`` is None."""

    scope: str
    period: date
    value: float | None
    n: int
    reason: str = ""


def _kpi(raw: dict[str, object], where: str) -> Kpi:
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise ConfigError("KPI definition lacks fields", where=where, missing=missing)
    k = Kpi(**{f: raw[f] for f in _FIELDS})  # type: ignore[arg-type]
    for field, allowed in (("direction", DIRECTIONS), ("owner", OWNERS), ("period", PERIODS)):
        if getattr(k, field) not in allowed:
            raise ConfigError("bad KPI field", where=where, field=field, allowed=list(allowed))
    return Kpi(**{**{f: getattr(k, f) for f in _FIELDS}, "target": float(k.target)})


def parse_kpis(text: str, where: str = "kpis.toml") -> tuple[Kpi, ...]:
    """KPIs from TOML text (``[[kpi]]`` tables); ids must be unique."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("KPI file is not TOML", where=where, reason=str(exc)) from exc
    kpis = tuple(_kpi(raw, f"{where}[{i}]") for i, raw in enumerate(doc.get("kpi", [])))
    ids = [k.id for k in kpis]
    if len(set(ids)) != len(ids):
        raise ConfigError("KPI ids repeat", where=where, ids=ids)
    return kpis


def load_kpis() -> tuple[Kpi, ...]:
    """The KPIs shipped with iotscope (``iotscope/centre/kpis.toml``)."""
    text = resources.files("iotscope.centre").joinpath("kpis.toml").read_text("utf-8")
    return parse_kpis(text)


def period_start(day: date, period: str) -> date:
    """The first day of ``day``'s period: itself, or the Monday of its ISO week."""
    return day if period == "day" else day - timedelta(days=day.weekday())


def judge(kpi: Kpi, value: float | None) -> bool | None:
    """Does ``value`` meet the target (None: no value, nothing to judge)?"""
    if value is None:
        return None
    return value <= kpi.target if kpi.direction == "lower" else value >= kpi.target


def scopes_for(principal: Principal, scopes: Iterable[str]) -> list[str]:
    """The scopes ``principal`` may see, national first."""
    seen = sorted(set(scopes) - {NATIONAL})
    if principal.is_centre:
        own = seen
    elif principal.role == "isp":
        own = [s for s in seen if s == principal.tenant]
    else:
        own = []
    return [NATIONAL, *own]


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
