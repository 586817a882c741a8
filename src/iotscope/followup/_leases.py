"""A lease log held in memory, for the follow-up's address tracking.

Reads the agreed lease-log CSV (``address,start,end,subscriber_id``; ISO 8601 UTC; an empty
``end`` is a lease still held). A bad row stops the load with the file and line named: a
half-read lease log would send a re-check to a stranger's address. Helper B's store-backed
attribution (``iotscope.attribution.addresses_of``) answers the same questions for a
deployment; :func:`store_locator` adapts it when it is installed.
"""

from __future__ import annotations

import bisect
import csv
import importlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from iotscope.errors import ConfigError

HEADER = ["address", "start", "end", "subscriber_id"]
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class LeaseRow:
    address: str
    start: datetime
    end: datetime | None
    subscriber_id: str


def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return value.astimezone(UTC)


def read_lease_csv(path: Path) -> list[LeaseRow]:
    """Every lease of ``path``; a bad row raises ``ConfigError`` naming the file and line."""
    line = 1
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            if next(reader, None) != HEADER:
                raise ConfigError("bad lease log header", file=str(path), line=1,
                                  expected=",".join(HEADER))  # fmt: skip
            rows = []
            for row in reader:
                line = reader.line_num
                if row:
                    rows.append(_row(path, line, row))
            return rows
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError("bad lease log row", file=str(path), line=line + 1,
                          reason=str(exc)[:200]) from exc  # fmt: skip
    except OSError as exc:
        raise ConfigError("cannot read lease log", file=str(path), reason=str(exc)) from exc


def _row(path: Path, line: int, row: list[str]) -> LeaseRow:
    try:
        address, start, end, subscriber = row
        ipaddress.ip_address(address)
        if not subscriber:
            raise ValueError("empty subscriber_id")
        lease = LeaseRow(address, _time(start), _time(end) if end else None, subscriber)
        if lease.end is not None and lease.end < lease.start:
            raise ValueError("end before start")
        return lease
    except ValueError as exc:
        raise ConfigError("bad lease log row", file=str(path), line=line,
                          reason=str(exc)) from exc  # fmt: skip


class LeaseBook:
    """Lease intervals per subscriber, sorted by start."""

    def __init__(self, rows: Iterable[LeaseRow]) -> None:
        self._by_sub: dict[str, list[LeaseRow]] = {}
        for row in rows:
            self._by_sub.setdefault(row.subscriber_id, []).append(row)
        self._starts: dict[str, list[datetime]] = {}
        self._by_address: dict[str, list[LeaseRow]] = {}
        for sub, leases in self._by_sub.items():
            leases.sort(key=lambda x: x.start)
            self._starts[sub] = [x.start for x in leases]
            for lease in leases:
                self._by_address.setdefault(lease.address, []).append(lease)

    @classmethod
    def from_csv(cls, path: Path) -> LeaseBook:
        return cls(read_lease_csv(path))

    def address_at(self, subscriber_id: str, when: datetime) -> str | None:
        """The address ``subscriber_id`` held at ``when`` (leases are [start, end))."""
        starts = self._starts.get(subscriber_id)
        if not starts:
            return None
        i = bisect.bisect_right(starts, when) - 1
        if i < 0:
            return None
        lease = self._by_sub[subscriber_id][i]
        return lease.address if lease.end is None or when < lease.end else None

    def holder_at(self, address: str, when: datetime) -> str | None:
        """The subscriber holding ``address`` at ``when`` (None: nobody)."""
        for lease in self._by_address.get(address, ()):
            if lease.start <= when and (lease.end is None or when < lease.end):
                return lease.subscriber_id
        return None

    def addresses(
        self, subscriber_id: str, since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime | None]]:
        """Every lease of ``subscriber_id`` overlapping [since, until]."""
        return [
            (x.address, x.start, x.end)
            for x in self._by_sub.get(subscriber_id, [])
            if x.start <= until and (x.end is None or x.end > since)
        ]


class StoreLeases:
    """The ISP's lease log in the store, through helper B's ``iotscope.attribution``
    (``addresses_of``), inside the ISP's tenancy. A :class:`~._model.Locator`."""

    def __init__(self, store: object, principal: object, isp: str) -> None:
        try:
            self._attribution = importlib.import_module("iotscope.attribution")
        except ImportError as exc:
            raise ConfigError("no lease log in the store (iotscope.attribution missing): "
                              "pass --leases FILE") from exc  # fmt: skip
        self.store, self.principal, self.isp = store, principal, isp

    def addresses(
        self, subscriber_id: str, since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime | None]]:
        found: list[tuple[str, datetime, datetime | None]] = self._attribution.addresses_of(
            self.store, self.principal, self.isp, subscriber_id, since, until
        )
        return found

    def address_at(self, subscriber_id: str, when: datetime) -> str | None:
        held = [a for a, start, end in self.addresses(subscriber_id, when, when + _TICK)
                if start <= when and (end is None or when < end)]  # fmt: skip
        return held[-1] if held else None
