"""An ISP's lease log (RADIUS accounting or DHCP style): which subscriber held which address when.

File: CSV with header ``address,start,end,subscriber_id``; times ISO 8601 in UTC (a time with
no offset is read as UTC); ``end`` empty means still leased. The rows belong to one ISP's
tenancy: they are read only through :func:`subscriber_at` and :func:`addresses_of`, which take
the caller's Principal and admit only that ISP or the centre. Subscriber ids never go into a
log line, an error message (errors name the file and line, not the value) or another tenant's
report.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from iotscope.attribution._rows import BadRow, check_rows
from iotscope.errors import ConfigError, IotscopeError
from iotscope.store import Store
from iotscope.tenancy import Principal

HEADER = ("address", "start", "end", "subscriber_id")


class NotYourTenant(IotscopeError):
    """A caller asked for subscriber data of an ISP it is not (nor the centre)."""

    exit_code = 4


def _require(principal: Principal, isp: str) -> None:
    if not principal.isp(isp):
        raise NotYourTenant("subscriber data belongs to its ISP", isp=isp, role=principal.role)


def parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.strip())
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def read_leases(path: Path, skip_bad: bool = False) -> tuple[list[dict[str, Any]], list[BadRow]]:
    """Validated lease rows of a whole file; bad rows are named by line (never by content)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read lease log", path=str(path), reason=str(exc)) from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise ConfigError(
            f"{path}:1: lease log header must be {','.join(HEADER)}", path=str(path), line=1
        )
    rows: list[dict[str, Any]] = []
    bad: list[BadRow] = []
    for row in reader:
        if not row:
            continue
        try:
            rows.append(lease_row(row))
        except ValueError as exc:
            bad.append(BadRow(str(path), reader.line_num, str(exc)))
    check_rows(str(path), bad, skip_bad)
    return rows, bad


def lease_row(row: Sequence[str]) -> dict[str, Any]:
    """One validated lease; the error text never repeats the subscriber id."""
    if len(row) != 4:
        raise ValueError(f"expected 4 fields, got {len(row)}")
    address, start_text, end_text, subscriber = (f.strip() for f in row)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError("bad address") from None
    try:
        start = parse_time(start_text)
        end = parse_time(end_text) if end_text else None
    except ValueError:
        raise ValueError("bad time (ISO 8601 expected)") from None
    if end is not None and end <= start:
        raise ValueError("end is not after start")
    if not subscriber or len(subscriber) > 128:
        raise ValueError("subscriber_id empty or longer than 128 characters")
    return {"address": str(ip), "start": start, "end": end, "subscriber_id": subscriber}


def import_leases(
    store: Store, isp: str, path: Path, skip_bad: bool = False, replace: bool = False
) -> tuple[int, list[BadRow]]:
    """Validate the whole file, then write its rows into ``isp``'s tenancy in one transaction."""
    from iotscope.store import _attribution as sa

    if not sa.isp_rows(store, isp):
        raise ConfigError("unknown ISP (import the registry first)", isp=isp)
    rows, bad = read_leases(path, skip_bad)
    return sa.replace_leases(store, isp, rows, replace=replace), bad


def subscriber_at(
    store: Store, principal: Principal, isp: str, ip: str, when: datetime
) -> str | None:
    """Who held ``ip`` at ``when`` in ``isp``'s lease log (None: nobody on record).

    Only that ISP (or the centre) may ask: anyone else gets :class:`NotYourTenant`."""
    from iotscope.store import _attribution as sa

    _require(principal, isp)
    rows = sa.lease_at(store, isp, str(ipaddress.ip_address(ip)), _utc(when))
    return str(rows[0]["subscriber_id"]) if rows else None


BATCH = 500
"""Distinct addresses per lease query of :func:`subscribers_at` (well under any database's
limit on bound parameters)."""

Lease = tuple[datetime, datetime | None, str]


def subscribers_at(
    store: Store, principal: Principal, isp: str, queries: Sequence[tuple[str, datetime]]
) -> list[str | None]:
    """:func:`subscriber_at` for many ``(ip, when)`` at once, answer for answer the same (the
    newest lease covering ``when``), with one query per :data:`BATCH` distinct addresses.

    Only that ISP (or the centre) may ask: anyone else gets :class:`NotYourTenant`."""
    from iotscope.store import _attribution as sa

    _require(principal, isp)
    asked = _canonical(queries)
    wanted: dict[str, list[int]] = {}
    for k, (ip, _when) in enumerate(asked):
        wanted.setdefault(ip, []).append(k)
    out: list[str | None] = [None] * len(asked)
    addresses = sorted(wanted)
    for i in range(0, len(addresses), BATCH):
        chunk = addresses[i : i + BATCH]
        times = [asked[k][1] for a in chunk for k in wanted[a]]
        leases = _by_address(sa.leases_covering(store, isp, chunk, min(times), max(times)))
        for a in chunk:
            for k in wanted[a]:
                out[k] = holder(leases.get(a, ()), asked[k][1])
    return out


def holder(leases: Sequence[Lease], when: datetime) -> str | None:
    """The subscriber of the newest lease (``leases`` newest start first) covering ``when``."""
    return next((s for start, end, s in leases if start <= when and (end is None or when < end)),
                None)  # fmt: skip


def _canonical(queries: Sequence[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
    """Addresses in their canonical text (each distinct text parsed once), times in UTC."""
    text: dict[str, str] = {}
    out = []
    for ip, when in queries:
        canon = text.get(ip)
        if canon is None:
            canon = text[ip] = str(ipaddress.ip_address(ip))
        out.append((canon, _utc(when)))
    return out


def _by_address(
    rows: Sequence[tuple[str, datetime, datetime | None, str]],
) -> dict[str, list[Lease]]:
    out: dict[str, list[Lease]] = {}
    for address, start, end, sub in rows:
        out.setdefault(address, []).append((_utc(start), _utc(end), sub))
    return out


def addresses_of(
    store: Store,
    principal: Principal,
    isp: str,
    subscriber: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[tuple[str, datetime, datetime | None]]:
    """The addresses ``subscriber`` held in ``[since, until)``: ``(ip, start, end)`` oldest
    first (``end`` None: still held), so a follow-up can find a device after an address change."""
    from iotscope.store import _attribution as sa

    _require(principal, isp)
    rows = sa.leases_of(store, isp, subscriber, _utc(since), _utc(until))
    return [(r["address"], _utc(r["start"]), _utc(r["end"])) for r in rows]


@overload
def _utc(t: datetime) -> datetime: ...
@overload
def _utc(t: None) -> None: ...
def _utc(t: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they are UTC."""
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
