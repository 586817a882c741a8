"""Importing routing tables and the registry into the store (validate whole file, then write)."""

from __future__ import annotations

from pathlib import Path

from iotscope.attribution._registry import IspEntry, read_registry
from iotscope.attribution._routes import Routes, read_routes
from iotscope.attribution._rows import BadRow
from iotscope.store import Store


def import_routes(
    store: Store, path: Path, fmt: str | None = None, skip_bad: bool = False
) -> tuple[Routes, str]:
    """Read an MRT dump or a ``prefix,asn`` CSV and store it as the routing table in use."""
    from iotscope.store import _attribution as sa

    routes, kind = read_routes(path, fmt, skip_bad)
    table_id = sa.save_route_table(store, str(path), kind, len(routes), routes.to_bytes())
    return routes, table_id


def import_registry(
    store: Store, path: Path, skip_bad: bool = False, mint: bool = True
) -> tuple[list[IspEntry], dict[str, str], list[BadRow]]:
    """Store the registry's ISPs; mint an API token (role isp) for each entry that asks.

    Returns the entries, the new tokens by ISP name (shown once, stored hashed) and bad rows."""
    from iotscope.store import _attribution as sa
    from iotscope.store._tokens import mint_token

    entries, bad = read_registry(path, skip_bad)
    sa.save_isps(store, [e.model_dump(mode="json", exclude={"token"}) for e in entries])
    tokens = {}
    for e in entries:
        if mint and e.token:
            tokens[e.name] = mint_token(store.engine, "isp", e.name, label="registry import")
    return entries, tokens, bad
