"""Address -> ISP (and origin AS): one compiled longest-prefix-match table.

Routed prefixes carry their origin AS, which the registry maps to an ISP (or to no ISP: the
address is routed by someone outside the registry); prefixes an ISP declares in the registry
map to it directly and win over a routed prefix of the same length. The longest prefix decides,
so a more-specific announcement by a customer AS outside the registry is not pinned on the ISP
whose aggregate covers it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Any

import numpy as np
import numpy.typing as npt

from iotscope.attribution._lpm import NONE, RangeTable, build_v4, build_v6, v4_keys, v6_keys
from iotscope.attribution._registry import IspEntry
from iotscope.attribution._routes import Routes
from iotscope.store import Store


@dataclass(frozen=True)
class AttributionTable:
    """The compiled table: ISP names, and per range an entry (ISP index, origin AS)."""

    isps: tuple[str, ...]
    v4: RangeTable
    v6: RangeTable
    entry_isp: npt.NDArray[np.int64]  # NONE: no ISP of the registry
    entry_asn: npt.NDArray[np.int64]  # 0: unknown

    def lookup(self, ips: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(ISP index or NONE, origin AS or 0) per address; bad addresses get NONE and 0."""
        keys, is4 = v4_keys(ips)
        entry = np.where(is4, self.v4.lookup(keys), NONE)
        rest = np.flatnonzero(~is4)
        if len(rest):
            k6, ok6 = v6_keys([ips[i] for i in rest.tolist()])
            entry[rest] = np.where(ok6, self.v6.lookup(k6), NONE)
        return self._pick(self.entry_isp, entry), self._pick(self.entry_asn, entry, 0)

    def lookup_v4(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """ISP index per IPv4 address given as integers (the fastest path)."""
        return self._pick(self.entry_isp, self.v4.lookup(keys))

    @staticmethod
    def _pick(
        table: npt.NDArray[np.int64], entry: npt.NDArray[np.int64], missing: int = NONE
    ) -> npt.NDArray[np.int64]:
        if len(table) == 0:
            return np.full(len(entry), missing, dtype=np.int64)
        return np.where(entry >= 0, table[np.clip(entry, 0, None)], missing)

    def isp_of(self, ips: Sequence[str]) -> list[str | None]:
        idx, _ = self.lookup(ips)
        names: list[str | None] = [*self.isps, None]  # index -1 (NONE) -> None
        return [names[i] for i in idx.tolist()]


def compile_table(routes: Routes | None, registry: Sequence[IspEntry]) -> AttributionTable:
    """Compile routes and registry into one table (registry prefixes placed last, so they win
    a tie of equal prefixes)."""
    names = tuple(sorted(e.name for e in registry))
    index = {n: i for i, n in enumerate(names)}
    by_asn = {asn: index[e.name] for e in sorted(registry, key=lambda e: e.name) for asn in e.asns}
    r4 = _route_entries_v4(routes, by_asn)
    g4, g6 = _registry_entries(registry, index)
    v4_net = np.concatenate([r4[0], np.array([n for n, _, _, _ in g4], dtype=np.uint64)])
    v4_len = np.concatenate([r4[1], np.array([ln for _, ln, _, _ in g4], dtype=np.uint8)])
    isp4 = np.concatenate([r4[2], np.array([i for _, _, i, _ in g4], dtype=np.int64)])
    asn4 = np.concatenate([r4[3], np.array([a for _, _, _, a in g4], dtype=np.int64)])
    v6_pref, isp6, asn6 = _route_entries_v6(routes, by_asn)
    v6_pref += [(n, ln) for n, ln, _, _ in g6]
    isp6 = np.concatenate([isp6, np.array([i for _, _, i, _ in g6], dtype=np.int64)])
    asn6 = np.concatenate([asn6, np.array([a for _, _, _, a in g6], dtype=np.int64)])
    n4 = len(v4_net)
    return AttributionTable(
        isps=names,
        v4=build_v4(v4_net, v4_len, np.arange(n4, dtype=np.int64)),
        v6=build_v6(v6_pref, np.arange(n4, n4 + len(v6_pref), dtype=np.int64)),
        entry_isp=np.concatenate([isp4, isp6]),
        entry_asn=np.concatenate([asn4, asn6]),
    )


def _asn_to_isp(asns: npt.NDArray[np.int64], by_asn: dict[int, int]) -> npt.NDArray[np.int64]:
    if not by_asn or len(asns) == 0:
        return np.full(len(asns), NONE, dtype=np.int64)
    keys = np.array(sorted(by_asn), dtype=np.int64)
    vals = np.array([by_asn[k] for k in sorted(by_asn)], dtype=np.int64)
    pos = np.clip(np.searchsorted(keys, asns), 0, len(keys) - 1)
    return np.where(keys[pos] == asns, vals[pos], NONE)


def _route_entries_v4(routes: Routes | None, by_asn: dict[int, int]) -> tuple[Any, Any, Any, Any]:
    if routes is None:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, np.uint64), np.zeros(0, np.uint8), empty, empty
    asns = routes.v4_asn.astype(np.int64)
    return routes.v4_net.astype(np.uint64), routes.v4_len, _asn_to_isp(asns, by_asn), asns


def _route_entries_v6(
    routes: Routes | None, by_asn: dict[int, int]
) -> tuple[list[tuple[int, int]], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    if routes is None:
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
    asns = routes.v6_asn.astype(np.int64)
    return routes.v6_prefixes(), _asn_to_isp(asns, by_asn), asns


def _registry_entries(
    registry: Sequence[IspEntry], index: dict[str, int]
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int, int]]]:
    g4: list[tuple[int, int, int, int]] = []
    g6: list[tuple[int, int, int, int]] = []
    for e in registry:
        for p in e.prefixes:
            net = ipaddress.ip_network(p)
            row = (int(net.network_address), net.prefixlen, index[e.name], (e.asns or (0,))[0])
            (g4 if net.version == 4 else g6).append(row)
    return g4, g6


# -- the table of a store, compiled once per routing table and registry change -----------------
_CACHE: dict[tuple[str, Any, Any], AttributionTable] = {}
_LOCK = Lock()


def table_of(store: Store) -> AttributionTable:
    """The store's compiled table (cached until a new routing table or registry change)."""
    from iotscope.store import _attribution as sa

    stamp = (str(store.engine.url), *sa.route_table_stamp(store))
    with _LOCK:
        cached = _CACHE.get(stamp)
    if cached is not None:
        return cached
    row = sa.latest_route_table(store)
    routes = Routes.from_bytes(row["data"], row["source"]) if row else None
    registry = [registry_entry(r) for r in sa.isp_rows(store)]
    table = compile_table(routes, registry)
    with _LOCK:
        _CACHE.clear()
        _CACHE[stamp] = table
    return table


def registry_entry(row: dict[str, Any]) -> IspEntry:
    """A stored registry row as an :class:`IspEntry`."""
    keep = {k: v for k, v in row.items() if k in IspEntry.model_fields and v is not None}
    return IspEntry.model_validate(keep)


def isp_of(store_or_table: Store | AttributionTable, ips: Sequence[str]) -> list[str | None]:
    """The ISP responsible for each address (None: none in the registry), vectorised."""
    table = store_or_table if isinstance(store_or_table, AttributionTable) else None
    if table is None:
        assert isinstance(store_or_table, Store)
        table = table_of(store_or_table)
    return table.isp_of(ips)
