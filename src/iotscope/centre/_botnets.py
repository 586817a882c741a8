"""The centre's botnet analysis over the store: lineages, migrations and who sees what.

This is the edge where the store is read (the algorithms in ``_lineage``, ``_correlation`` and
``_capture`` are pure). Lineages are a national product: they are computed by the centre from
every ISP's ``c2_contacts`` (the bots' pseudonyms never leave this module), and each role is
shown its cut of the result by the views (``views_botnets``): an ISP its own bots and, for
C2s and lineages, only how many ISPs see them.

The analysis is cached per store and per state of ``c2_contacts`` (row count, last contact,
flows), so the four botnet views of one page compute it once.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func

from iotscope._times import stored_utc
from iotscope.centre._contacts import C2, Tenure
from iotscope.centre._correlation import (
    c2_incidence,
    chain_incidence,
    lineage_incidence,
    only_seen_by,
)
from iotscope.centre._lineage import Lineage, LineageParams, Migration, assign, lineages, migrations
from iotscope.errors import ConfigError
from iotscope.store import Store
from iotscope.store.centre import c2_contacts, scoped
from iotscope.tenancy import CENTRE, Principal


@dataclass(frozen=True, slots=True)
class DayCount:
    """Distinct bots of ``isp`` held by ``c2`` (of ``lineage``) on ``day``."""

    day: date
    isp: str
    lineage: str
    c2: C2
    bots: int


@dataclass(frozen=True)
class Analysis:
    """Everything the botnet views draw from, computed once per state of the store."""

    tenures: tuple[Tenure, ...]
    lineages: tuple[Lineage, ...]
    lineage_of: dict[C2, str]
    migrations: tuple[Migration, ...]
    daily: tuple[DayCount, ...]
    lineage_daily: dict[tuple[date, str, str], int]  # (day, isp, lineage) -> distinct bots
    isps: tuple[str, ...]

    @property
    def c2_isps(self) -> dict[C2, frozenset[str]]:
        return c2_incidence(self.tenures)

    @property
    def lineage_isps(self) -> dict[str, frozenset[str]]:
        return lineage_incidence(self.lineages)

    @property
    def lineage_chain_isps(self) -> dict[str, frozenset[str]]:
        """The found lineages chained per family (a lower bracket of the lineage count when
        some are found split: ``_capture.bracket``)."""
        return chain_incidence(self.lineages)


_CACHE: dict[tuple[int, str, tuple[object, ...]], Analysis] = {}
_LOCK = threading.Lock()


def analysis(store: Store, params: LineageParams | None = None) -> Analysis:
    """The national botnet analysis of ``store`` (cached while ``c2_contacts`` is unchanged)."""
    key = (id(store.engine), str(store.engine.url), _state(store))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None and params is None:
        return hit
    result = compute(_load_tenures(store), _load_days(store), params)
    if params is None:
        with _LOCK:
            if len(_CACHE) > 8:
                _CACHE.clear()
            _CACHE[key] = result
    return result


def compute(
    tenures: Sequence[Tenure],
    days: Sequence[tuple[str, str, C2, date]],
    params: LineageParams | None = None,
) -> Analysis:
    """The analysis of ``tenures`` and the bot-days ``(isp, bot, c2, day)`` they fold."""
    assigned = assign(tenures, params)
    of = assigned[0]
    per_c2: dict[tuple[date, str, C2], int] = defaultdict(int)
    per_lineage: dict[tuple[date, str, str], set[str]] = defaultdict(set)
    for isp, bot, c2, day in days:
        per_c2[(day, isp, c2)] += 1
        per_lineage[(day, isp, of[c2])].add(bot)
    daily = tuple(DayCount(day, isp, of[c2], c2, n) for (day, isp, c2), n in sorted(per_c2.items()))
    return Analysis(
        tenures=tuple(tenures),
        lineages=tuple(lineages(tenures, params, assigned)),
        lineage_of=of,
        migrations=tuple(migrations(tenures, params, assigned)),
        daily=daily,
        lineage_daily={k: len(v) for k, v in per_lineage.items()},
        isps=tuple(sorted({t.isp for t in tenures})),
    )


def exclusive_lineages(store: Store, who: Principal, isp: str) -> list[Lineage]:
    """The lineages only ``isp`` sees (issue 9 item 6): for the ISP itself or the centre.

    Each is returned whole (its C2s, first and last seen, bots): all its bots are ``isp``'s
    own, so nothing of another tenant is in it. Raises :class:`ConfigError` for anyone else."""
    if not who.isp(isp):
        raise ConfigError("only the ISP itself or the centre may ask", isp=isp, role=who.role)
    a = analysis(store)
    mine = set(only_seen_by(a.lineage_isps, isp))
    return [x for x in a.lineages if x.id in mine]


def _state(store: Store) -> tuple[object, ...]:
    t = c2_contacts
    stmt = scoped(t, CENTRE).with_only_columns(
        func.count(), func.max(t.c.last_seen), func.sum(t.c.flows)
    )
    with store.engine.connect() as conn:
        row = conn.execute(stmt).one()
    return tuple(row)


def _load_tenures(store: Store) -> list[Tenure]:
    t = c2_contacts
    stmt = (
        scoped(t, CENTRE)
        .with_only_columns(
            t.c.isp,
            t.c.bot,
            t.c.c2_ip,
            t.c.c2_port,
            func.max(t.c.family),
            func.min(t.c.first_seen),
            func.max(t.c.last_seen),
            func.count(),
            func.sum(t.c.flows),
        )
        .group_by(t.c.isp, t.c.bot, t.c.c2_ip, t.c.c2_port)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    out = [
        Tenure(isp, bot, (ip, port), family, stored_utc(first), stored_utc(last), days, flows)
        for isp, bot, ip, port, family, first, last, days, flows in rows
    ]
    out.sort(key=lambda x: (x.isp, x.bot, x.first, x.c2))
    return out


def _load_days(store: Store) -> list[tuple[str, str, C2, date]]:
    t = c2_contacts
    stmt = scoped(t, CENTRE).with_only_columns(t.c.isp, t.c.bot, t.c.c2_ip, t.c.c2_port, t.c.day)
    with store.engine.connect() as conn:
        return [(isp, bot, (ip, port), day) for isp, bot, ip, port, day in conn.execute(stmt)]
