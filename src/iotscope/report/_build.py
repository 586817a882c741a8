"""Per ISP and period, the Shadowserver CSV files: gather the window's records once,
attribute every address in one vectorised lookup, split by ISP, encode.

A period is a day, or the ISO week (Monday to Monday) for an ISP whose interval is weekly.
Files are named as Shadowserver names them, ``YYYY-MM-DD-<type>-<identifier>.csv``, with the
identifier ``<isp>-isp`` (``<isp>-isp-weekly``) in word characters, which is what IntelMQ's
Shadowserver parser needs to recognise the type from the name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from iotscope.attribution import AttributionTable, IspEntry, table_of
from iotscope.report import _sources as src
from iotscope.report._rows import Row, c2_row, infected_row, vulnerable_row, weak_login_row
from iotscope.report._types import C2_TYPE, COLUMNS, INFECTED_TYPE, VULNERABLE_TYPE
from iotscope.store import Store


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC; ``label`` is ``YYYY-MM-DD`` or ``YYYY-Www``."""

    start: datetime
    end: datetime
    label: str
    weekly: bool


@dataclass(frozen=True, slots=True)
class ReportFile:
    isp: str
    period: str
    report_type: str
    filename: str
    rows: int
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def period_of(day: date, interval: str) -> Period:
    """The day itself, or its ISO week for a weekly ISP."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if interval == "weekly":
        start -= timedelta(days=day.weekday())
        iso = start.isocalendar()
        return Period(start, start + timedelta(days=7), f"{iso.year}-W{iso.week:02d}", True)
    return Period(start, start + timedelta(days=1), day.isoformat(), False)


def slug(name: str) -> str:
    """An ISP name as word characters (IntelMQ matches ``(-\\w+)*`` after the type)."""
    return re.sub(r"\W+", "_", name.lower(), flags=re.ASCII).strip("_") or "isp"


def filename(period: Period, report_type: str, isp: str) -> str:
    ident = f"{slug(isp)}-isp" + ("-weekly" if period.weekly else "")
    return f"{period.start:%Y-%m-%d}-{report_type}-{ident}.csv"


def encode(report_type: str, rows: Iterable[Row]) -> tuple[bytes, int]:
    """CSV text in the type's column order (all columns quoted, as Shadowserver writes them)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS[report_type], quoting=csv.QUOTE_ALL, lineterminator="\n",
                       restval="", extrasaction="ignore")  # fmt: skip
    w.writeheader()
    n = 0
    for r in sorted(
        rows, key=lambda r: (r.get("timestamp", ""), r.get("ip") or r.get("src_ip", ""))
    ):
        w.writerow(r)
        n += 1
    return buf.getvalue().encode("utf-8"), n


Item = tuple[str, object]


def gather(
    store: Store, since: datetime, until: datetime
) -> list[tuple[str, str, datetime, datetime, object]]:
    """Every record of the window: (kind, ip, active from, active until, record)."""
    weak, vulnerable = src.survey_records(store, since, until)
    items: list[tuple[str, str, datetime, datetime, object]] = []
    items += [("weak", w.ip, w.time, w.time, w) for w in weak]
    items += [("vuln", v.ip, v.time, v.time, v) for v in vulnerable]
    items += [("infected", x.ip, x.first_seen, x.last_seen, x)
              for x in src.infected(store, since, until)]  # fmt: skip
    items += [("c2", c.ip, c.first_seen, c.last_seen, c)
              for c in src.c2_servers(store, since, until)]  # fmt: skip
    return items


def collect(
    store: Store, periods: Sequence[Period], table: AttributionTable
) -> dict[str, dict[str, dict[str, list[Row]]]]:
    """Report rows by period label, ISP and report type, from one read of the store over the
    periods' union and one vectorised attribution (addresses of no ISP are dropped)."""
    items = gather(store, min(p.start for p in periods), max(p.end for p in periods))
    idx, asns = table.lookup([ip for _, ip, _, _, _ in items])
    out: dict[str, dict[str, dict[str, list[Row]]]] = {p.label: {} for p in periods}
    for (kind, _, first, last, rec), i, asn in zip(items, idx.tolist(), asns.tolist(), strict=True):
        if i < 0:
            continue
        for p in periods:
            if first < p.end and last >= p.start:
                rtype, row = _row(kind, rec, asn, p)
                out[p.label].setdefault(table.isps[i], {}).setdefault(rtype, []).append(row)
    return out


def _row(kind: str, rec: object, asn: int, period: Period) -> tuple[str, Row]:
    if kind == "weak":
        assert isinstance(rec, src.WeakLogin)
        return weak_login_row(rec, asn)
    if kind == "vuln":
        assert isinstance(rec, src.VulnerableDevice)
        return VULNERABLE_TYPE, vulnerable_row(rec, asn)
    if kind == "infected":
        assert isinstance(rec, src.Infected)
        return INFECTED_TYPE, infected_row(rec, asn, period.start)
    assert isinstance(rec, src.C2Server)
    return C2_TYPE, c2_row(rec, asn, period.end)


def build_reports(
    store: Store, day: date, isps: Sequence[IspEntry], table: AttributionTable | None = None
) -> list[ReportFile]:
    """The report files of ``isps`` for the period holding ``day`` (only non-empty types, as
    Shadowserver sends only reports that have events), from one pass over the store."""
    table = table or table_of(store)
    periods = {e.interval: period_of(day, e.interval) for e in isps}
    if not periods:
        return []
    rows = collect(store, list(periods.values()), table)
    files: list[ReportFile] = []
    for e in isps:
        period = periods[e.interval]
        for rtype, mine in sorted(rows[period.label].get(e.name, {}).items()):
            content, n = encode(rtype, mine)
            name = filename(period, rtype, e.name)
            files.append(ReportFile(e.name, period.label, rtype, name, n, content))
    return files
