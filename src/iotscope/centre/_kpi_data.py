"""The computations KPIs name (``definition`` in ``kpis.toml``), each over the store.

Each returns :class:`~iotscope.centre._kpi.Point` values per scope (``national`` and each ISP)
and period. A scope without the data a value needs (no subscriber count, no follow-up that
is 30 days old yet) gets no point or a point whose ``value`` is None with the reason: never a
zero. Computed centre-side; :func:`~iotscope.centre._kpi.scopes_for` decides what a caller
sees. Grouping happens in SQL; what is left is small.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from iotscope._times import stored_utc
from iotscope.centre._kpi import NATIONAL, Kpi, Point, median, period_start
from iotscope.errors import ConfigError
from iotscope.share.stix import parse_ts
from iotscope.store import Store
from iotscope.store._schema import c2_candidates
from iotscope.store._schema_attribution import isps, leases
from iotscope.store._schema_centre import c2_contacts, isp_subscribers, region_counts
from iotscope.store._schema_followup import followup_checks, followup_subjects
from iotscope.store._schema_isp import isp_published
from iotscope.tenancy import site_name

PER = 10_000
NO_SUBSCRIBERS = "no subscriber count for this ISP (isp_subscribers or a lease log)"


def _day(d: date | str) -> date:
    return d if isinstance(d, date) else date.fromisoformat(str(d)[:10])


def _rows(store: Store, stmt: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


def _stock(daily: Iterable[tuple[str, date, float]], period: str) -> list[Point]:
    """Counts of a stock (devices now): per scope and period, the period's last day with data;
    the national value sums the ISPs on that day."""
    by: dict[tuple[str, date], dict[date, float]] = defaultdict(dict)
    for isp, day, value in daily:
        for scope in (isp, NATIONAL):
            cell = by[(scope, period_start(day, period))]
            cell[day] = cell.get(day, 0.0) + value
    out = []
    for (scope, p), days in sorted(by.items()):
        last = max(days)
        out.append(Point(scope, p, days[last], 1))
    return out


def region_count(store: Store, kind: str, period: str) -> list[Point]:
    t = region_counts.c
    stmt = select(t.isp, t.day, func.sum(t.count)).where(t.kind == kind).group_by(t.isp, t.day)
    return _stock(((i, _day(d), float(n)) for i, d, n in _rows(store, stmt)), period)


def subscribers(store: Store) -> dict[str, list[tuple[date, int]]]:
    """Subscriber counts per ISP, each from a day on (``isp_subscribers``); an ISP with none
    recorded there counts the distinct subscribers of its lease log (from day one)."""
    s, t = isp_subscribers.c, leases.c
    out: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for isp, day, n in _rows(store, select(s.isp, s.day, s.subscribers).order_by(s.isp, s.day)):
        out[isp].append((_day(day), int(n)))
    stmt = select(t.isp, func.count(func.distinct(t.subscriber_id))).group_by(t.isp)
    for isp, n in _rows(store, stmt):
        if isp not in out and n:
            out[isp].append((date.min, int(n)))
    return dict(out)


def _in_force(counts: list[tuple[date, int]], day: date) -> int:
    """The count in force on ``day`` (the first one for days before any)."""
    return next((n for d, n in reversed(counts) if d <= day), counts[0][1])


def region_rate(store: Store, kind: str, period: str) -> list[Point]:
    """Devices of ``kind`` per 10,000 subscribers on the period's last day with data
    (national: over the ISPs with a subscriber count)."""
    subs = subscribers(store)
    t = region_counts.c
    stmt = select(t.isp, t.day, func.sum(t.count)).where(t.kind == kind).group_by(t.isp, t.day)
    last: dict[tuple[str, date], tuple[date, float]] = {}
    for isp, d, n in _rows(store, stmt):
        day, key = _day(d), (isp, period_start(_day(d), period))
        if key not in last or last[key][0] < day:
            last[key] = (day, float(n))
    points: list[Point] = []
    national: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (isp, per), (day, n) in sorted(last.items()):
        if isp not in subs:
            points.append(Point(isp, per, None, 0, NO_SUBSCRIBERS))
            continue
        base = _in_force(subs[isp], day)
        points.append(Point(isp, per, n * PER / base, base))
        national[per][0] += n
        national[per][1] += base
    points += [Point(NATIONAL, per, n * PER / base, int(base))
               for per, (n, base) in sorted(national.items()) if base]  # fmt: skip
    return points


def remediated_within(store: Store, days: int, period: str) -> list[Point]:
    """Of notified follow-up subjects whose notice is ``days`` old by the last re-check, the
    share seen remediated within ``days`` of the notice; per week of notice. A scope and
    week whose notices are all younger than that gets a point without a value saying so (a
    share fixed so far would count only the quick fixes)."""
    s, c = followup_subjects.c, followup_checks.c
    subj = select(s.id, s.isp, s.notified).where(s.arm == "notified", s.notified.is_not(None))
    fixed = (
        select(c.subject_id, func.min(c.checked))
        .where(c.state == "remediated")
        .group_by(c.subject_id)
    )
    latest = _rows(store, select(func.max(c.checked)))[0][0]
    if latest is None:
        return []
    first_fix = {sid: stored_utc(t) for sid, t in _rows(store, fixed)}
    horizon, now = timedelta(days=days), stored_utc(latest)
    cells: dict[tuple[str, date], list[bool]] = defaultdict(list)
    young: dict[tuple[str, date], int] = defaultdict(int)
    for sid, isp, notified in _rows(store, subj):
        sent = stored_utc(notified)
        for scope in (isp, NATIONAL):
            key = (scope, period_start(sent.date(), period))
            if now - sent < horizon:
                young[key] += 1  # not old enough to judge
            else:
                cells[key].append(sid in first_fix and first_fix[sid] - sent <= horizon)
    why = f"notices younger than {days} days at the last re-check ({now.date().isoformat()})"
    points = [Point(sc, p, sum(v) / len(v), len(v)) for (sc, p), v in cells.items()]
    points += [Point(sc, p, None, n, why) for (sc, p), n in young.items() if (sc, p) not in cells]
    return sorted(points, key=lambda x: (x.scope, x.period))


def _medians(values: Iterable[tuple[str, date, float]], period: str) -> list[Point]:
    cells: dict[tuple[str, date], list[float]] = defaultdict(list)
    for scope, day, v in values:
        for sc in (scope, NATIONAL):
            cells[(sc, period_start(day, period))].append(v)
    return [Point(sc, p, median(v), len(v)) for (sc, p), v in sorted(cells.items())]


def _first_published(store: Store) -> list[tuple[str, str, int, datetime]]:
    """(ISP, ip, port, first publication) of every C2 indicator a site published: the
    indicator's STIX ``created``, which every later version keeps (``isp_published`` holds
    only the newest version)."""
    p = isp_published.c
    stmt = select(p.site, p.ip, p.port, p.object).where(p.type == "indicator", p.ip.is_not(None))
    isp_of = _isp_of_site(store)
    out = []
    for site, ip, port, obj in _rows(store, stmt):
        created = (obj or {}).get("created")
        if isinstance(created, str):
            out.append((isp_of.get(site, site), ip, int(port), stored_utc(parse_ts(created))))
    return out


def _isp_of_site(store: Store) -> dict[str, str]:
    """A flow site's ISP: the registered ISP whose :func:`site_name` the site is."""
    return {site_name(n): n for (n,) in _rows(store, select(isps.c.name))}


def detection_to_share(store: Store, period: str) -> list[Point]:
    """Minutes from a C2's first contact in the site's own flows (the earliest its detection
    could have begun) to the C2's first publication by that site; median per period of
    publication. Both times are on the clock of the data (flow records, the publisher's
    ``created``), so a lab replay measures the same interval as a live site; a run's wall-clock
    end would not be."""
    c = c2_candidates.c
    found = select(c.site, c.ip, c.port, func.min(c.first_seen)).group_by(c.site, c.ip, c.port)
    isp_of = _isp_of_site(store)
    first_contact = {(isp_of.get(site, site), ip, int(port)): stored_utc(t)
                     for site, ip, port, t in _rows(store, found)}  # fmt: skip
    values = []
    for isp, ip, port, published in _first_published(store):
        at = first_contact.get((isp, ip, port))
        if at is not None:
            values.append((isp, published.date(), (published - at).total_seconds() / 60))
    return _medians(values, period)


def c2_lifetime_after_share(store: Store, period: str) -> list[Point]:
    """Days from a C2 endpoint's first publication to the last contact any ISP saw with it
    (0 when none after); median per week of publication."""
    c = c2_contacts.c
    seen = select(c.c2_ip, c.c2_port, func.max(c.last_seen)).group_by(c.c2_ip, c.c2_port)
    last = {(ip, int(port)): stored_utc(t) for ip, port, t in _rows(store, seen)}
    first: dict[tuple[str, str, int], datetime] = {}
    for isp, ip, port, t in _first_published(store):  # one value per ISP and endpoint
        first[(isp, ip, port)] = min(t, first.get((isp, ip, port), t))
    values = []
    for (site, ip, port), t0 in first.items():
        end = last.get((ip, port), t0)
        values.append((site, t0.date(), max((end - t0).total_seconds() / 86_400, 0.0)))
    return _medians(values, period)


def vantage_coverage(store: Store, period: str) -> list[Point]:
    """Share of the registered ISPs (or, with none registered, of the ISPs that ever shared)
    that reported C2 contacts on the day; national only."""
    c = c2_contacts.c
    per_day = _rows(store, select(c.day, func.count(func.distinct(c.isp))).group_by(c.day))
    registered = _rows(store, select(func.count()).select_from(isps))[0][0]
    known = registered or _rows(store, select(func.count(func.distinct(c.isp))))[0][0]
    if not known:
        return []
    cells: dict[date, list[float]] = defaultdict(list)
    for day, n in per_day:
        cells[period_start(_day(day), period)].append(n / known)
    return [Point(NATIONAL, p, sum(v) / len(v), known) for p, v in sorted(cells.items())]


COMPUTATIONS: dict[str, Callable[..., list[Point]]] = {
    "region_count": region_count,
    "region_rate": region_rate,
    "remediated_within": remediated_within,
    "detection_to_share": detection_to_share,
    "c2_lifetime_after_share": c2_lifetime_after_share,
    "vantage_coverage": vantage_coverage,
}


def compute(store: Store, kpi: Kpi) -> list[Point]:
    """The points of ``kpi`` (every scope); an unknown computation is a configuration error."""
    name, arg = kpi.computation
    fn = COMPUTATIONS.get(name)
    if fn is None:
        raise ConfigError("KPI names an unknown computation", kpi=kpi.id, definition=name)
    if name == "remediated_within":
        return fn(store, int(arg or 30), kpi.period)
    if arg is not None:
        return fn(store, arg, kpi.period)
    return fn(store, kpi.period)
