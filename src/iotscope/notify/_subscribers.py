"""Address and time -> subscriber: the one boundary the notices depend on.

The ISP's own lease log answers it inside the ISP's tenancy (``iotscope.attribution``, in
batches); a lease CSV file or an explicit mapping can stand in. Each is a
:data:`SubscriberOf` function, so switching is one argument.
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from iotscope.errors import ConfigError
from iotscope.notify._model import SubscriberOf
from iotscope.records import utc
from iotscope.store import Store
from iotscope.tenancy import Principal

LEASE_HEADER = ("address", "start", "end", "subscriber_id")
Lease = tuple[datetime, datetime | None, str]


def from_mapping(mapping: Mapping[str, str]) -> SubscriberOf:
    """Each address belongs to one subscriber at every time (a static assignment)."""
    table = {str(ipaddress.ip_address(ip)): sub for ip, sub in mapping.items()}
    return lambda ip, _when: table.get(str(ipaddress.ip_address(ip)))


def from_leases(leases: Mapping[str, list[Lease]]) -> SubscriberOf:
    """Per address, leases sorted by start; the one covering ``when`` (end exclusive)."""
    starts = {ip: [lease[0] for lease in rows] for ip, rows in leases.items()}

    def subscriber_of(ip: str, when: datetime) -> str | None:
        key = ip  # the canonical text already (the common case): no parse per finding
        rows = leases.get(key)
        if rows is None:
            key = str(ipaddress.ip_address(ip))
            rows = leases.get(key)
        if not rows:
            return None
        i = bisect.bisect_right(starts[key], utc(when)) - 1
        if i < 0:
            return None
        _start, end, sub = rows[i]
        return sub if end is None or utc(when) < end else None

    return subscriber_of


def read_lease_csv(path: Path) -> SubscriberOf:
    """A lease log CSV (``address,start,end,subscriber_id``; ISO 8601 UTC; empty end: still
    leased). A bad row is a :class:`ConfigError` naming the file and line: nothing is used
    from a file with a bad row."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return from_leases(parse_leases(csv.reader(fh), path))
    except OSError as exc:
        raise ConfigError("cannot read lease log", file=str(path), reason=str(exc)) from exc


def parse_leases(rows: Iterable[list[str]], path: Path) -> dict[str, list[Lease]]:
    it = iter(rows)
    header = tuple(c.strip() for c in next(it, []))
    if header != LEASE_HEADER:
        raise ConfigError(
            "lease log header must be " + ",".join(LEASE_HEADER), file=str(path), line=1
        )
    out: dict[str, list[Lease]] = {}
    for line, row in enumerate(it, start=2):
        if not row:
            continue  # a blank line
        try:
            ip, lease = _lease(row)
        except ValueError as exc:
            raise ConfigError("bad lease row", file=str(path), line=line, reason=str(exc)) from exc
        out.setdefault(ip, []).append(lease)
    for rows_ in out.values():
        rows_.sort(key=lambda lease: lease[0])
    return out


def _lease(row: list[str]) -> tuple[str, Lease]:
    if len(row) != 4:
        raise ValueError(f"expected 4 fields, got {len(row)}")
    address, start, end, sub = (c.strip() for c in row)
    if not sub:
        raise ValueError("empty subscriber_id")
    begin = utc(datetime.fromisoformat(start))
    until = utc(datetime.fromisoformat(end)) if end else None
    if until is not None and until <= begin:
        raise ValueError("lease ends before it starts")
    return str(ipaddress.ip_address(address)), (begin, until, sub)


def from_attribution(store: Store, principal: Principal, isp: str) -> SubscriberOf:
    """The ISP's lease log in the store (``iotscope.attribution``, inside its tenancy): one
    lease query per batch of addresses when used through :func:`resolve_all`."""
    from iotscope.attribution import subscribers_at

    return Batched(lambda queries: subscribers_at(store, principal, isp, queries))


Queries = Sequence[tuple[str, datetime]]


@dataclass(frozen=True, slots=True)
class Batched:
    """A :data:`SubscriberOf` that also answers many ``(address, time)`` queries at once."""

    many: Callable[[Queries], list[str | None]]

    def __call__(self, ip: str, when: datetime) -> str | None:
        return self.many([(ip, when)])[0]


def resolve_all(subscriber_of: SubscriberOf, queries: Queries) -> list[str | None]:
    """Each query's subscriber: in batches where the resolver can, else one at a time."""
    if isinstance(subscriber_of, Batched):
        return subscriber_of.many(queries)
    return [subscriber_of(ip, when) for ip, when in queries]
