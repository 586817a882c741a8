"""Known C2 endpoints a detection starts from, and where they come from.

A client that contacted a known C2 endpoint is infected by kind ``c2_contact`` (computed in the
detection's SQL, ``_views.py``); an endpoint such clients moved to as the known one went quiet
(or came from), above the site's base rate, carries bot evidence like a telescope-listed one:
the botnet's next address, or another address of its tier.

Sources (``iotscope c2 detect --known-c2 SOURCE``, repeatable):

* ``history``: the endpoints every site's newest stored detection run reported (a C2 found at
  one ISP becomes known to all of them);
* ``hub``: the indicators of the local hub's shared collection and its read-only partner
  sources (``iotscope share import``: MISP, STIX, Feodo Tracker);
* a file path: one endpoint a line, ``ip:port[/proto]`` or ``ip port [proto]`` (IPv6 as
  ``[addr]:port``), ``#`` comments and blank lines skipped; a bad line is an error.

An endpoint the run itself reports must not be fed back into the same run (its clients would
become infected by it and lock a false C2 in): ``history`` reads runs already stored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from iotscope.c2._views import Endpoint
from iotscope.errors import ConfigError

SOURCES = ("history", "hub")


def parse_endpoint(text: str) -> Endpoint:
    """``ip:port[/proto]``, ``[v6]:port[/proto]`` or ``ip port [proto]`` (proto tcp by default)."""
    body, _, proto = text.strip().partition("/")
    parts = body.split()
    if len(parts) >= 2:
        ip, port, proto = parts[0], parts[1], (parts[2] if len(parts) > 2 else proto)
    elif body.startswith("["):
        ip, _, port = body[1:].partition("]:")
    else:
        ip, _, port = body.rpartition(":")
    proto = (proto or "tcp").strip().lower()
    try:
        addr = str(ipaddress.ip_address(ip))
        number = int(port)
    except ValueError as exc:
        raise ConfigError("not an endpoint (ip:port[/proto])", text=text) from exc
    if not 0 < number < 65536 or proto not in ("tcp", "udp"):
        raise ConfigError("endpoint port or protocol out of range", text=text)
    return (addr, number, proto)


def endpoints_from_file(path: Path) -> set[Endpoint]:
    """The endpoints of a file, one a line; a bad line is a ConfigError naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError("cannot read known C2 file", path=str(path), reason=str(exc)) from exc
    out: set[Endpoint] = set()
    for no, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if text:
            try:
                out.add(parse_endpoint(text))
            except ConfigError as exc:
                raise ConfigError("bad line in known C2 file", path=str(path), line=no) from exc
    return out


def from_history(store: Any, before: datetime | None = None) -> set[Endpoint]:
    """Endpoints of every site's newest stored run; with ``before``, only those first seen
    before it (a stored run over a later window says nothing about an earlier one)."""
    return {
        (str(c.ip), c.port, c.proto)
        for c in store.c2_candidates()
        if before is None or c.first_seen < before
    }


def from_indicators(objects: Iterable[dict[str, Any]]) -> set[Endpoint]:
    """Endpoints of STIX indicators written as iotscope patterns (revoked ones skipped)."""
    from iotscope.share.stix import pattern_endpoint

    out: set[Endpoint] = set()
    for obj in objects:
        if obj.get("type") != "indicator" or obj.get("revoked"):
            continue
        ep = pattern_endpoint(str(obj.get("pattern", "")))
        if ep is not None:
            out.add(ep)
    return out


def known_c2(store: Any, sources: Iterable[str], before: datetime | None = None) -> set[Endpoint]:
    """The union of the named sources (``history``, ``hub`` or file paths)."""
    out: set[Endpoint] = set()
    for source in sources:
        if source == "history":
            out |= from_history(store, before)
        elif source == "hub":
            from iotscope.share._sources import hub_objects

            out |= from_indicators(hub_objects(store))
        else:
            path = Path(source)
            if not path.is_file():
                raise ConfigError("--known-c2 is history, hub or a file", value=source)
            out |= endpoints_from_file(path)
    return out
