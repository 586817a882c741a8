"""What the centre shows, as data: a :class:`View` is tables and charts computed for one caller.

Every page of the centre and every number of its JSON API comes from a view, so a page and the
API can never disagree, and each table exports to CSV from the same rows. A view function takes
the store, the caller (a :class:`Principal`, required: a forgotten tenant filter is a type
error) and the query parameters, and returns a :class:`View`. Views are registered with
:func:`view` in a module named in :data:`VIEW_MODULES` (one module per area), imported when the
registry is first read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from iotscope.store import Store
from iotscope.tenancy import ROLES, Principal, Role

#: Modules that register views (each imported once, on first use of the registry).
VIEW_MODULES: tuple[str, ...] = (
    "iotscope.centre.views_regions",
    "iotscope.centre.views_botnets",
    "iotscope.centre.views_effect",
    "iotscope.centre.views_makers",
)

Cell = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Table:
    """Rows under named columns; ``name`` is unique within its view (it names the CSV).

    ``links`` makes a column a drill-down: column -> ``VIEW`` or ``VIEW?param={column}`` (another
    view of the centre; ``{column}`` is replaced by that row's cell), e.g.
    ``{"vendor": "maker?vendor={vendor}"}``. Pages link the cells; a chart of the table follows
    the link when its element is clicked."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    title: str = ""
    links: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.name!r}: a row has {len(row)} cells, not {len(self.columns)}"
                )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
            "links": dict(self.links),
        }


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart over one of the view's tables: ``kind`` is how to draw it (``line``, ``bar``,
    ``graph``, ``map``, ``matrix``...), ``table`` the table it draws, ``options`` which columns
    are x, y, series, time... (the web layer reads them)."""

    name: str
    kind: str
    table: str
    options: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "table": self.table,
            "options": dict(self.options),
            "title": self.title,
        }


@dataclass(frozen=True, slots=True)
class View:
    """One page's worth of numbers for one caller."""

    name: str
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tables": [t.to_json() for t in self.tables],
            "charts": [c.to_json() for c in self.charts],
            "notes": list(self.notes),
        }


ViewFn = Callable[[Store, Principal, Mapping[str, str]], View]


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """A registered view: its function, its titles (English, Japanese) and who may open it."""

    name: str
    fn: ViewFn
    title_en: str
    title_ja: str
    roles: frozenset[Role]


_REGISTRY: dict[str, ViewSpec] = {}
_loaded = False


def view(
    name: str, *, title_en: str, title_ja: str, roles: tuple[Role, ...] = ROLES
) -> Callable[[ViewFn], ViewFn]:
    """Register ``fn`` as the view ``name`` (a URL segment), open to ``roles``."""

    def register(fn: ViewFn) -> ViewFn:
        if name in _REGISTRY:
            raise ValueError(f"view {name!r} registered twice")
        _REGISTRY[name] = ViewSpec(name, fn, title_en, title_ja, frozenset(roles))
        return fn

    return register


def registry() -> dict[str, ViewSpec]:
    """Every registered view by name (the modules of :data:`VIEW_MODULES` imported first)."""
    global _loaded
    if not _loaded:
        for module in VIEW_MODULES:
            importlib.import_module(module)
        _loaded = True
    return dict(_REGISTRY)


def views_for(who: Principal) -> list[ViewSpec]:
    """The views ``who`` may open, in registration order."""
    return [s for s in registry().values() if who.role in s.roles]
