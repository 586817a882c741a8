"""Targets: ports, shards and ZMap's CSV output.

* ``--ports``: ``22,23,80-81,U:1900`` (``U:`` marks UDP; only 1900 (SSDP) is probed on UDP).
* ``--shard I/N``: ZMap's convention (``zmap --shards N --shard I``, ``I`` in ``0..N-1``).
  An address belongs to shard ``blake2b(packed address) mod N``: the shards are disjoint,
  cover every address and do not depend on the order the targets come in.
* ``--zmap-csv``: ZMap's output, with a header (``saddr[,daddr,sport,dport,...]``; ``sport``
  of a SYN-ACK is the port that answered) or ZMap's default bare list of ``saddr``. Every row
  is checked against the scope: out-of-scope rows are counted and refused, bad rows counted
  and skipped.
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from iotscope.errors import ConfigError
from iotscope.survey._scope import IPAddress, Scope

__all__ = [
    "DEFAULT_PORTS",
    "Ports",
    "Shard",
    "ZmapTargets",
    "parse_ports",
    "parse_shard",
    "read_zmap_csv",
]

DEFAULT_PORTS = "22,23,80,443,554,1883,2323,5555,7547,8000,8080,8081,8443,37215,52869,U:1900"


@dataclass(frozen=True)
class Ports:
    tcp: tuple[int, ...]
    udp: tuple[int, ...]

    def labels(self) -> tuple[str, ...]:
        return tuple(str(p) for p in self.tcp) + tuple(f"U:{p}" for p in self.udp)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError("bad port (want 1-65535)", port=text)
    return int(text)


def parse_ports(spec: str) -> Ports:
    """``22,23,8000-8002,U:1900`` -> :class:`Ports` (sorted, without duplicates)."""
    tcp: set[int] = set()
    udp: set[int] = set()
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        target = tcp
        if item[:2].upper() in ("U:", "T:"):
            target = udp if item[0].upper() == "U" else tcp
            item = item[2:]
        lo, dash, hi = item.partition("-")
        first, last = _port(lo), _port(hi) if dash else _port(lo)
        if last < first:
            raise ConfigError("bad port range", ports=raw)
        target.update(range(first, last + 1))
    if not tcp and not udp:
        raise ConfigError("no port to survey", ports=spec)
    unsupported = udp - {1900}
    if unsupported:
        raise ConfigError("only UDP 1900 (SSDP) is supported", ports=sorted(unsupported))
    return Ports(tuple(sorted(tcp)), tuple(sorted(udp)))


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, ip: IPAddress) -> bool:
        if self.count == 1:
            return True
        digest = hashlib.blake2b(ip.packed, digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index


def parse_shard(spec: str | None) -> Shard:
    """``I/N`` (0-based, ZMap's convention); None means the whole target list."""
    if spec is None:
        return Shard(0, 1)
    index, slash, count = spec.partition("/")
    if not slash or not index.isdigit() or not count.isdigit() or int(count) < 1:
        raise ConfigError("bad --shard (want I/N, e.g. 0/4)", shard=spec)
    if int(index) >= int(count):
        raise ConfigError("shard index must be in 0..N-1 (ZMap's convention)", shard=spec)
    return Shard(int(index), int(count))


@dataclass
class ZmapTargets:
    """Hosts from a ZMap CSV, each with the ports ZMap saw open (empty: unknown)."""

    hosts: dict[IPAddress, set[int]] = field(default_factory=dict)
    rows: int = 0
    out_of_scope: int = 0
    bad_rows: int = 0
    not_success: int = 0
    bad_examples: list[str] = field(default_factory=list)


def _rows(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    content = (line for line in lines if line.strip() and not line.startswith("#"))
    first = next(content, None)
    if first is None:
        return
    header = [h.strip() for h in first.strip().split(",")]
    rest: Iterable[str] = content
    if "saddr" not in header:  # ZMap's default output: bare addresses, no header
        header = ["saddr"]
        rest = itertools.chain([first], content)
    for row in csv.DictReader(rest, fieldnames=header):
        yield {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}


def _add_row(out: ZmapTargets, row: dict[str, str], scope: Scope) -> None:
    out.rows += 1
    if row.get("success", "1") not in ("1", "true", "True"):
        out.not_success += 1
        return
    try:
        ip = ipaddress.ip_address(row.get("saddr", ""))
        port = int(row["sport"]) if row.get("sport") else None
        if port is not None and not 0 < port < 65536:
            raise ValueError("port out of range")
    except ValueError:
        out.bad_rows += 1
        if len(out.bad_examples) < 5:
            out.bad_examples.append(",".join(row.values())[:120])
        return
    if not scope.contains(ip):
        out.out_of_scope += 1
        return
    ports = out.hosts.setdefault(ip, set())
    if port is not None:
        ports.add(port)


def read_zmap_csv(path: Path, scope: Scope) -> ZmapTargets:
    """Hosts (and open ports where given) from ZMap's CSV output at ``path``."""
    out = ZmapTargets()
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for row in _rows(fh):
                _add_row(out, row, scope)
    except OSError as exc:
        raise ConfigError("cannot read ZMap CSV", file=str(path), reason=str(exc)) from exc
    return out
