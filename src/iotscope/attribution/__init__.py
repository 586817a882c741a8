"""Who must act: address -> ISP by longest-prefix match over routing data and the ISP registry,
and address + time -> subscriber from the ISP's own lease log (inside its tenancy only)."""

from __future__ import annotations

from iotscope.attribution._attribute import (
    AttributionTable,
    compile_table,
    isp_of,
    registry_entry,
    table_of,
)
from iotscope.attribution._import import import_registry, import_routes
from iotscope.attribution._leases import (
    NotYourTenant,
    addresses_of,
    import_leases,
    read_leases,
    subscriber_at,
    subscribers_at,
)
from iotscope.attribution._mrt import parse_mrt
from iotscope.attribution._registry import IspEntry, lab_isp_item, read_registry
from iotscope.attribution._routes import Routes, read_routes, routes_from_lists
from iotscope.attribution._rows import BadRow

__all__ = [
    "AttributionTable",
    "BadRow",
    "IspEntry",
    "NotYourTenant",
    "Routes",
    "addresses_of",
    "compile_table",
    "import_leases",
    "import_registry",
    "import_routes",
    "isp_of",
    "isps",
    "lab_isp_item",
    "parse_mrt",
    "read_leases",
    "read_registry",
    "read_routes",
    "registry_entry",
    "routes_from_lists",
    "subscriber_at",
    "subscribers_at",
    "table_of",
]


def isps(store: object) -> list[IspEntry]:
    """Every registry entry in the store, by name."""
    from iotscope.store import Store
    from iotscope.store import _attribution as sa

    assert isinstance(store, Store)
    return [registry_entry(r) for r in sa.isp_rows(store)]
