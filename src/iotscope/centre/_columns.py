"""``c2_contacts`` as numpy columns, and the daily series the effect measurements need.

One row per (ISP, C2 endpoint, bot, day), as the table holds it. Strings are factorised once
(ISPs, endpoints ``ip:port``, bots keyed by ISP and pseudonym: a pseudonym is only unique
within its ISP), so every series below is a mask and a ``bincount``, never a Python loop over
rows. Two measures per day: ``bots`` (distinct bots among the rows) and ``contacts`` (rows:
bot-endpoint pairs seen that day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph
from sqlalchemy import select

from iotscope.store import Store
from iotscope.store._schema_centre import c2_contacts

MEASURES = ("bots", "contacts")
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Columns:
    """Row ``i``: ISP ``isps[isp[i]]``, endpoint ``endpoints[c2[i]]``, bot ``bot[i]`` (unique
    across ISPs), day ``first + day[i]`` (``ndays`` days in all), ``flows[i]`` flows."""

    first: date
    ndays: int
    isps: tuple[str, ...]
    endpoints: tuple[str, ...]
    isp: I64
    c2: I64
    bot: I64
    day: I64
    flows: I64

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.ndays)]

    def day_index(self, d: date) -> int:
        return (d - self.first).days

    def series(self, mask: Mask, measure: str) -> npt.NDArray[np.float64]:
        """Per day: distinct bots, or rows, among the rows in ``mask``."""
        if measure == "contacts":
            return np.bincount(self.day[mask], minlength=self.ndays).astype(float)
        if measure != "bots":
            raise ValueError(f"unknown measure {measure!r} (one of {', '.join(MEASURES)})")
        key = np.unique(self.day[mask] * (int(self.bot.max(initial=0)) + 1) + self.bot[mask])
        return np.bincount(key // (int(self.bot.max(initial=0)) + 1), minlength=self.ndays).astype(
            float
        )

    def endpoint_ids(self, names: Iterable[str]) -> I64:
        where = {e: i for i, e in enumerate(self.endpoints)}
        return np.array(sorted({where[n] for n in names if n in where}), dtype=np.int64)

    def isp_id(self, name: str) -> int | None:
        return self.isps.index(name) if name in self.isps else None


def columns(
    rows: Sequence[tuple[str, str, int, str, date, int]],
    first: date | None = None,
    ndays: int | None = None,
) -> Columns:
    """Columns from (isp, c2_ip, c2_port, bot, day, flows) rows (pure)."""
    if not rows:
        d0 = first or date(1970, 1, 1)
        z = np.zeros(0, dtype=np.int64)
        return Columns(d0, ndays or 0, (), (), z, z, z, z, z)
    isp_s, ip_s, port_s, bot_s, day_s, flow_s = (list(x) for x in zip(*rows, strict=True))
    isps, isp = np.unique(np.array(isp_s, dtype=object), return_inverse=True)
    ends = [f"{ip}:{port}" for ip, port in zip(ip_s, port_s, strict=True)]
    endpoints, c2 = np.unique(np.array(ends, dtype=object), return_inverse=True)
    keyed = [f"{i}\x1f{b}" for i, b in zip(isp_s, bot_s, strict=True)]
    _, bot = np.unique(np.array(keyed, dtype=object), return_inverse=True)
    days = [d if isinstance(d, date) else date.fromisoformat(str(d)) for d in day_s]
    d0 = first or min(days)
    ordinal = np.array([d.toordinal() for d in days], dtype=np.int64) - d0.toordinal()
    n = ndays or int(ordinal.max()) + 1
    keep = (ordinal >= 0) & (ordinal < n)
    return Columns(d0, n, tuple(str(x) for x in isps), tuple(str(x) for x in endpoints),
                   isp.astype(np.int64)[keep], c2.astype(np.int64)[keep],
                   bot.astype(np.int64)[keep], ordinal[keep],
                   np.array(flow_s, dtype=np.int64)[keep])  # fmt: skip


def _bots_on(cols: Columns, e: int, lo: int, hi: int, isps: I64 | None = None) -> set[int]:
    m = (cols.c2 == e) & (cols.day >= lo) & (cols.day <= hi)
    if isps is not None:
        m &= np.isin(cols.isp, isps)
    return set(cols.bot[m].tolist())


def handovers(
    cols: Columns, share: float = 0.3, at_least: int = 1, span: int = 2
) -> list[tuple[int, int]]:
    """Pairs (x, y) of endpoints where y took over x's bots: of the bots y held in its first
    ``span`` + 1 days (in the ISPs that saw x too), at least ``share`` (and ``at_least``) held x
    in its last ``span`` days up to then. A new C2 of a botnet starts with the bots the old
    one hands over, however many of them a takedown orphaned; an unrelated C2 starting at the
    same time holds its own lineage's bots."""
    if len(cols.c2) == 0:
        return []
    n = len(cols.endpoints)
    first = np.full(n, cols.ndays, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    np.minimum.at(first, cols.c2, cols.day)
    np.maximum.at(last, cols.c2, cols.day)
    out = []
    for y in range(n):
        for x in np.nonzero((last >= first[y] - 1) & (first < first[y]))[0].tolist():
            seen_x = np.unique(cols.isp[cols.c2 == x])
            early = _bots_on(cols, y, first[y], first[y] + span, seen_x)
            if len(early) < at_least:
                continue
            before = _bots_on(cols, x, first[y] - span, min(last[x], first[y] + span))
            common = len(early & before)
            if common >= at_least and common >= share * len(early):
                out.append((x, y))
    return out


def lineage_of(cols: Columns, seeds: I64, links: list[tuple[int, int]] | None = None) -> I64:
    """The endpoints of the lineage holding ``seeds``: connected through :func:`handovers`
    (computed here unless given)."""
    if len(cols.c2) == 0 or len(seeds) == 0:
        return np.asarray(seeds, dtype=np.int64)
    pairs = np.array(handovers(cols) if links is None else links, dtype=np.int64).reshape(-1, 2)
    n = len(cols.endpoints)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = csgraph.connected_components(graph, directed=False)
    return np.nonzero(np.isin(label, label[seeds]))[0].astype(np.int64)


def load_columns(store: Store) -> Columns:
    """Every row of ``c2_contacts`` (centre-side: callers decide what a tenant sees of it)."""
    t = c2_contacts.c
    stmt = select(t.isp, t.c2_ip, t.c2_port, t.bot, t.day, t.flows)
    with store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    return columns(rows)
