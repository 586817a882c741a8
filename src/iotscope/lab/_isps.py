"""Make-believe ISPs that split the lab's network among themselves.

Each ISP gets a name, a private-use ASN (RFC 6996: 64512-65534), a prefecture and one or more
prefixes: the lab network is cut into equal subnets (16 where it can), dealt out to the ISPs in
contiguous runs of seeded random lengths, so every lab address belongs to exactly one ISP.
"""

from __future__ import annotations

import ipaddress
import random

from iotscope.records import Isp

#: The lab's ISP names (the month world of ``lab month`` draws from the same list).
ISP_NAMES = (
    "Sakura Hikari Net",
    "Kumo Broadband",
    "Tsubame Cable",
    "Minato Mobile",
    "Fuji Access",
    "Hoshi Telecom",
    "Kaede Networks",
    "Shiokaze ISP",
)
_PREFECTURES = (
    "Tokyo",
    "Osaka",
    "Aichi",
    "Fukuoka",
    "Hokkaido",
    "Miyagi",
    "Hiroshima",
    "Okinawa",
)
PRIVATE_ASN = (64512, 65534)


def split_isps(network: ipaddress.IPv4Network, rng: random.Random, count: int = 5) -> list[Isp]:
    """``count`` ISPs (fewer for tiny networks) whose prefixes exactly cover ``network``."""
    extra = min(4, 32 - network.prefixlen)
    subnets = list(network.subnets(prefixlen_diff=extra))
    count = max(1, min(count, len(subnets), len(ISP_NAMES)))
    cuts = sorted(rng.sample(range(1, len(subnets)), count - 1)) if count > 1 else []
    bounds = [0, *cuts, len(subnets)]
    asns = rng.sample(range(PRIVATE_ASN[0], PRIVATE_ASN[1] + 1), count)
    names = rng.sample(ISP_NAMES, count)
    prefectures = rng.sample(_PREFECTURES, count)
    isps = []
    for i in range(count):
        nets = subnets[bounds[i] : bounds[i + 1]]
        prefixes = tuple(str(n) for n in ipaddress.collapse_addresses(nets))
        isps.append(Isp(name=names[i], asn=asns[i], prefixes=prefixes, prefecture=prefectures[i]))
    return isps
