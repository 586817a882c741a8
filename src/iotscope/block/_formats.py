"""Blocklist renderings (pure: a :class:`Selection` in, file text out).

- ``plain``: one address or network a line, ``#`` header with the time and the counts;
- ``nftables``: a table with an interval+timeout set and a forward-hook chain dropping to and
  from it, written as one atomic ``nft -f`` transaction that can be reloaded (flush, then add);
  each element's timeout is the seconds left until the indicator's ``valid_until``;
- ``rpz``: a DNS Response Policy Zone (draft-vixie-dnsop-dns-rpz): QNAME triggers
  ``name CNAME .`` (NXDOMAIN) for C2 names and their subdomains, and Response IP triggers
  ``32.d.c.b.a.rpz-ip CNAME .`` for C2 addresses (an answer pointing at the C2 becomes NXDOMAIN);
  an IPv6 address's trigger is its prefix length, then its 16-bit words reversed, ``zz`` standing
  for the ``::`` run (``128.1.zz.db8.2001.rpz-ip``).

IPv4 and IPv6 targets both appear in every format (nftables: one set per family).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from collections.abc import Callable
from typing import Literal

from iotscope.block._select import Entry, Selection

Format = Literal["plain", "nftables", "rpz"]
FORMATS: tuple[Format, ...] = ("plain", "nftables", "rpz")
NFT_TABLE = "iotscope_block"
NFT_SET = "c2_v4"
NFT_SET6 = "c2_v6"
RPZ_ORIGIN = "rpz.iotscope."


def _iso(sel: Selection) -> str:
    return sel.now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary(sel: Selection) -> str:
    skipped = ", ".join(f"{k}={v}" for k, v in sorted(sel.skipped.items())) or "none"
    return (
        f"{len(sel.addresses())} addresses, {len(sel.names())} names; "
        f"skipped: {skipped}; pattern errors: {len(sel.errors)}"
    )


def _host(value: str) -> str:
    net = ipaddress.ip_network(value)
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def render_plain(sel: Selection) -> str:
    """One address (or CIDR network) a line, sorted; names are in the RPZ, not here."""
    head = [
        f"# iotscope blocklist for ISP {sel.isp}",
        f"# generated {_iso(sel)}",
        f"# {_summary(sel)}",
    ]
    return "\n".join(head + [_host(e.target.value) for e in sel.addresses()]) + "\n"


def _timeout(e: Entry, sel: Selection) -> int:
    return max(1, math.ceil((e.expires - sel.now).total_seconds()))


def disjoint(entries: list[Entry]) -> list[Entry]:
    """Entries with no network inside another: an interval set refuses overlapping elements.

    A network swallows the entries it contains and keeps the latest expiry among them, so
    nothing is unblocked earlier than its own indicator says.
    """

    def net(e: Entry) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(e.target.value)

    out: list[Entry] = []
    for e in sorted(entries, key=lambda e: (net(e).version, net(e))):
        last = net(out[-1]) if out else None
        if last is not None and last.version == net(e).version and net(e).subnet_of(last):  # type: ignore[arg-type]
            if e.expires > out[-1].expires:
                out[-1] = dataclasses.replace(out[-1], expires=e.expires)
            continue
        out.append(e)
    return out


def render_nftables(sel: Selection) -> str:
    """An ``nft -f`` file: one set per address family, a drop chain, the elements with their
    timeouts."""
    t = f"inet {NFT_TABLE}"
    families = ((NFT_SET, "ipv4_addr", "ip", "ipv4"), (NFT_SET6, "ipv6_addr", "ip6", "ipv6"))
    lines = [
        "#!/usr/sbin/nft -f",
        f"# iotscope blocklist for ISP {sel.isp}, generated {_iso(sel)}",
        f"# {_summary(sel)}",
        f"table {t} {{",
        *(f"\tset {s} {{\n\t\ttype {kind}\n\t\tflags interval,timeout\n\t}}"
          for s, kind, _, _ in families),
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter - 10; policy accept;",
        "\t}",
        "}",
        f"flush chain {t} forward",
    ]  # fmt: skip
    for s, _, match, _ in families:
        lines += [
            f"flush set {t} {s}",
            f'add rule {t} forward {match} daddr @{s} counter drop comment "to a C2"',
            f'add rule {t} forward {match} saddr @{s} counter drop comment "from a C2"',
        ]
    sets = {kind: s for s, _, _, kind in families}
    for e in disjoint(sel.addresses()):
        comment = e.indicator_id[:120]
        lines.append(
            f"add element {t} {sets[e.target.kind]} {{ {_host(e.target.value)} "
            f'timeout {_timeout(e, sel)}s comment "{comment}" }}'
        )
    return "\n".join(lines) + "\n"


def rpz_ip_owner(value: str) -> str:
    """The RPZ Response-IP trigger name: prefix length, then the octets (IPv6: the 16-bit
    words, ``zz`` for the ``::`` run) reversed."""
    net = ipaddress.ip_network(value)
    if net.version == 4:
        labels = str(net.network_address).split(".")
    else:
        left, sep, right = net.network_address.compressed.partition("::")
        labels = [w for w in left.split(":") if w]
        labels += ["zz", *(w for w in right.split(":") if w)] if sep else []
    return f"{net.prefixlen}." + ".".join(reversed(labels)) + ".rpz-ip"


def render_rpz(sel: Selection, origin: str = RPZ_ORIGIN, ttl: int = 300) -> str:
    """A zone file with SOA and NS; serial is the generation time (seconds, mod 2^32)."""
    serial = int(sel.now.timestamp()) % 2**32
    lines = [
        f"; iotscope response policy zone for ISP {sel.isp}, generated {_iso(sel)}",
        f"; {_summary(sel)}",
        f"$ORIGIN {origin}",
        f"$TTL {ttl}",
        f"@ IN SOA localhost. hostmaster.localhost. {serial} 3600 600 86400 {ttl}",
        "@ IN NS localhost.",
    ]
    for e in sel.names():
        lines += [
            f"; {e.indicator_id} confidence {e.confidence}",
            f"{e.target.value} CNAME .",
            f"*.{e.target.value} CNAME .",
        ]
    for e in sel.addresses():
        lines += [
            f"; {e.indicator_id} confidence {e.confidence}",
            f"{rpz_ip_owner(e.target.value)} CNAME .",
        ]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Selection], str]] = {
    "plain": render_plain,
    "nftables": render_nftables,
    "rpz": render_rpz,
}
