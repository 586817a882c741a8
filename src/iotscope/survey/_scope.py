"""The survey's scope: the networks of a scope file minus those of an exclusion list.

A scope is a sorted list of disjoint integer intervals per address family, so a membership
test is one binary search whatever the number of CIDRs. :meth:`Scope.check` is what the
socket-opening function (``_net.open_checked_socket``) calls before any system call: an address
outside scope-minus-exclusions, a hostname or any other non-address raises
:class:`~iotscope.errors.ScopeError`.

File format (scope and exclusion alike): one address or CIDR per line; ``#`` starts a comment;
blank lines are ignored. A bad line is a :class:`~iotscope.errors.ConfigError` naming the file
and the line number; a scope file that leaves nothing to contact is refused.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iotscope.errors import ConfigError, ScopeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Interval = tuple[int, int]  # inclusive first and last address as integers

__all__ = ["IPAddress", "IPNetwork", "Scope", "parse_networks", "read_networks"]


def parse_networks(lines: Iterable[str], source: str = "<input>") -> list[IPNetwork]:
    """Networks from scope-file lines; ``ConfigError(file=..., line=...)`` on a bad line."""
    out: list[IPNetwork] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ConfigError(
                "bad scope line (want an address or CIDR)", file=source, line=number, text=text
            ) from exc
    return out


def read_networks(path: Path) -> list[IPNetwork]:
    """Networks listed in the file at ``path`` (see the module docstring for the format)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read scope file", file=str(path), reason=str(exc)) from exc
    return parse_networks(text.splitlines(), source=str(path))


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _subtract(keep: list[Interval], drop: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in keep:
        cur = lo
        for dlo, dhi in drop:
            if dhi < cur or dlo > hi:
                continue
            if dlo > cur:
                out.append((cur, dlo - 1))
            cur = max(cur, dhi + 1)
        if cur <= hi:
            out.append((cur, hi))
    return out


def _intervals(networks: Iterable[IPNetwork], version: int) -> list[Interval]:
    return _merge(
        (int(n.network_address), int(n.broadcast_address)) for n in networks if n.version == version
    )


@dataclass(frozen=True)
class Scope:
    """Networks minus exclusions. Build with :meth:`from_networks` or :meth:`from_files`."""

    networks: tuple[str, ...]
    exclude: tuple[str, ...]
    _v4: tuple[Interval, ...] = field(repr=False)
    _v6: tuple[Interval, ...] = field(repr=False)
    _v4_starts: tuple[int, ...] = field(repr=False)
    _v6_starts: tuple[int, ...] = field(repr=False)

    @classmethod
    def from_networks(
        cls, networks: Sequence[IPNetwork], exclude: Sequence[IPNetwork] = ()
    ) -> Scope:
        """The scope ``networks - exclude``; ``ConfigError`` when that leaves no address."""
        v4 = _subtract(_intervals(networks, 4), _intervals(exclude, 4))
        v6 = _subtract(_intervals(networks, 6), _intervals(exclude, 6))
        if not v4 and not v6:
            raise ConfigError("the scope is empty (after exclusions): refusing to run")
        return cls(
            networks=tuple(str(n) for n in networks),
            exclude=tuple(str(n) for n in exclude),
            _v4=tuple(v4),
            _v6=tuple(v6),
            _v4_starts=tuple(lo for lo, _ in v4),
            _v6_starts=tuple(lo for lo, _ in v6),
        )

    @classmethod
    def from_files(cls, scope: Path, exclude: Path | None = None) -> Scope:
        """The scope of a scope file minus an optional exclusion file."""
        nets = read_networks(scope)
        if not nets:
            raise ConfigError("the scope file lists no network", file=str(scope))
        return cls.from_networks(nets, read_networks(exclude) if exclude else [])

    def contains(self, address: object) -> bool:
        """True when ``address`` (an ipaddress object or a literal string) is in scope."""
        try:
            ip = ipaddress.ip_address(address)  # type: ignore[arg-type]
        except ValueError:
            return False
        intervals, starts = (
            (self._v4, self._v4_starts)
            if ip.version == 4
            else (
                self._v6,
                self._v6_starts,
            )
        )
        value = int(ip)
        i = bisect.bisect_right(starts, value) - 1
        return i >= 0 and intervals[i][0] <= value <= intervals[i][1]

    def check(self, address: object) -> IPAddress:
        """The address as an ``ipaddress`` object, or ``ScopeError`` when it is out of scope."""
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address | str):
            raise ScopeError("not an IP address", address=repr(address))
        try:
            ip = ipaddress.ip_address(address)
        except ValueError as exc:
            raise ScopeError("not an IP address literal", address=str(address)) from exc
        if not self.contains(ip):
            raise ScopeError("address outside scope-minus-exclusions", address=str(ip))
        return ip

    def size(self) -> int:
        """How many addresses the scope holds."""
        return sum(hi - lo + 1 for lo, hi in (*self._v4, *self._v6))

    def addresses(self) -> Iterator[IPAddress]:
        """Every address in scope, in ascending order (v4 first)."""
        for lo, hi in self._v4:
            for value in range(lo, hi + 1):
                yield ipaddress.IPv4Address(value)
        for lo, hi in self._v6:
            for value in range(lo, hi + 1):
                yield ipaddress.IPv6Address(value)


def subnet_key(ip: IPAddress) -> int:
    """The /24 (IPv4) or /64 (IPv6) an address belongs to: the unit of per-subnet limits."""
    return int(ip) >> 8 if ip.version == 4 else (int(ip) >> 64) | (1 << 128)
