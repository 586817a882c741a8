"""The survey's scope: the networks of a scope file minus those of an exclusion list.

A scope is a sorted list of disjoint integer intervals per address family, so a membership
test is one binary search whatever the number of CIDRs. :meth:`Scope.check` is what the
socket-opening function (``_net.open_checked_socket``) calls before any system call: an address
outside scope-minus-exclusions, a hostname or any other non-address raises
:class:`~iotscope.errors.ScopeError`.

The built-in blocklist (``special_purpose.csv``: RFC 6890 and the IANA special-purpose
registries, ZMap's default blocklist for IPv4) is subtracted from every scope entry that
merely overlaps one of its ranges, so ``0.0.0.0/0`` never reaches 10/8, 127/8, multicast or
broadcast space. A scope entry lying wholly inside one such range is taken as deliberate and
kept (a lab on 127.0.0.0/8): :attr:`Scope.deliberate` names it for the start-up message.
Because the intervals themselves exclude the blocklist, :meth:`Scope.check` (the socket
layer) refuses a blocklisted address whoever asks.

:meth:`Scope.address_at` maps an index in ``0..size-1`` to an address (one binary search),
so targets can be visited in any order (``_order.Permutation``) without a list.

File format (scope and exclusion alike): one address or CIDR per line; ``#`` starts a comment;
blank lines are ignored. A bad line is a :class:`~iotscope.errors.ConfigError` naming the file
and the line number; a scope file that leaves nothing to contact is refused.
"""

from __future__ import annotations

import bisect
import csv
import functools
import ipaddress
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from iotscope.errors import ConfigError, ScopeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Interval = tuple[int, int]  # inclusive first and last address as integers

__all__ = [
    "IPAddress",
    "IPNetwork",
    "Scope",
    "SpecialRange",
    "parse_networks",
    "read_networks",
    "special_purpose_ranges",
]


@dataclass(frozen=True)
class SpecialRange:
    """One special-purpose range of the built-in blocklist."""

    network: IPNetwork
    name: str
    reference: str

    def __str__(self) -> str:
        return f"{self.network} ({self.name}, {self.reference})"


@functools.cache
def special_purpose_ranges() -> tuple[SpecialRange, ...]:
    """The built-in blocklist, read from ``special_purpose.csv`` shipped with the package."""
    text = resources.files("iotscope.survey").joinpath("special_purpose.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        SpecialRange(ipaddress.ip_network(r["cidr"]), r["name"], r["reference"]) for r in rows
    )


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


def _inside(net: IPNetwork, blocklist: Sequence[SpecialRange]) -> SpecialRange | None:
    """The special range ``net`` lies wholly inside, if any."""
    for special in blocklist:
        if net.version == special.network.version and net.subnet_of(special.network):  # type: ignore[arg-type]
            return special
    return None


def _apply_blocklist(
    networks: Sequence[IPNetwork], blocklist: Sequence[SpecialRange]
) -> tuple[list[IPNetwork], list[str], list[str]]:
    """(networks to keep whole, deliberate entries, special ranges subtracted) -- the
    overlapping entries are returned cut: every address of the blocklist removed."""
    kept: list[IPNetwork] = []
    deliberate: list[str] = []
    blocked: dict[str, None] = {}
    for net in networks:
        special = _inside(net, blocklist)
        if special is not None:
            kept.append(net)
            deliberate.append(f"{net} inside {special}")
            continue
        pieces: list[IPNetwork] = [net]
        for sp in blocklist:
            if sp.network.version == net.version and sp.network.overlaps(net):
                blocked[str(sp)] = None
                pieces = [x for p in pieces for x in _cut(p, sp.network)]
        kept.extend(pieces)
    return kept, deliberate, list(blocked)


def _cut(net: IPNetwork, hole: IPNetwork) -> list[IPNetwork]:
    if not net.overlaps(hole):
        return [net]
    if net.subnet_of(hole):  # type: ignore[arg-type]
        return []
    return list(net.address_exclude(hole))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scope:
    """Networks minus the blocklist minus exclusions. Build with :meth:`from_networks` or
    :meth:`from_files`. ``deliberate``: entries kept inside a special range; ``blocked``: the
    special ranges subtracted from the entries that overlapped them."""

    networks: tuple[str, ...]
    exclude: tuple[str, ...]
    _v4: tuple[Interval, ...] = field(repr=False)
    _v6: tuple[Interval, ...] = field(repr=False)
    _v4_starts: tuple[int, ...] = field(repr=False)
    _v6_starts: tuple[int, ...] = field(repr=False)
    _offsets: tuple[int, ...] = field(repr=False, default=(0,))
    _all: tuple[Interval, ...] = field(repr=False, default=())
    deliberate: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()

    @classmethod
    def from_networks(
        cls,
        networks: Sequence[IPNetwork],
        exclude: Sequence[IPNetwork] = (),
        blocklist: Sequence[SpecialRange] | None = None,
    ) -> Scope:
        """The scope ``networks - blocklist - exclude`` (the blocklist defaults to the
        built-in one); ``ConfigError`` when that leaves no address."""
        special = special_purpose_ranges() if blocklist is None else blocklist
        kept, deliberate, blocked = _apply_blocklist(networks, special)
        v4 = _subtract(_intervals(kept, 4), _intervals(exclude, 4))
        v6 = _subtract(_intervals(kept, 6), _intervals(exclude, 6))
        if not v4 and not v6:
            raise ConfigError(
                "the scope is empty (after the special-purpose blocklist and exclusions): "
                "refusing to run", blocked=blocked,
            )  # fmt: skip
        sizes = [hi - lo + 1 for lo, hi in (*v4, *v6)]
        return cls(
            networks=tuple(str(n) for n in networks),
            exclude=tuple(str(n) for n in exclude),
            _v4=tuple(v4),
            _v6=tuple(v6),
            _v4_starts=tuple(lo for lo, _ in v4),
            _v6_starts=tuple(lo for lo, _ in v6),
            _offsets=(0, *itertools.accumulate(sizes)),
            _all=(*v4, *v6),
            deliberate=tuple(deliberate),
            blocked=tuple(blocked),
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
        """How many addresses the scope holds (after the blocklist and exclusions)."""
        return self._offsets[-1]

    def address_at(self, index: int) -> IPAddress:
        """The ``index``-th address in ascending order (v4 first); ``IndexError`` outside."""
        if not 0 <= index < self.size():
            raise IndexError(index)
        i = bisect.bisect_right(self._offsets, index) - 1
        value = self._all[i][0] + index - self._offsets[i]
        return ipaddress.IPv4Address(value) if i < len(self._v4) else ipaddress.IPv6Address(value)

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
