"""The families of the lab traffic as data: how a botnet talks to its C2 (:class:`Family`) and
how benign look-alikes talk to their clouds (:class:`Poller`, :class:`NatGateway`).

Every field has a default that reproduces the original lab world, so a family declared with
the original fields alone generates the same bytes as before. A variant
(:mod:`iotscope.lab.traffic._variants`) is a table of these records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """How one botnet family talks to its C2 (DOMAIN.md, "C2 detection by ISPs").

    One connection per heartbeat by default. ``fail_share > 0``: a bot reconnecting every
    ``period_s`` with that share of attempts failing (S0 or REJ, no payload). ``session_h``:
    long-lived sessions of that many hours, one connection record each, of which
    ``flipped_share`` are logged by Zeek with the roles reversed (the C2 as originator).
    ``quiet``: its bots never scan anyone (absent from the darknet capture and from other
    sites' inbound probes), so no infected list names them.
    """

    name: str
    ports: tuple[int, ...]
    period_s: float  # heartbeat or polling interval
    orig_bytes: tuple[int, int]  # payload bytes per exchange, bot -> C2 (low, high)
    resp_bytes: tuple[int, int]
    scanner: str | None  # darknet class of its bots: mirai, iot, or None (no scanning)
    tier: int = 1  # C2 addresses active at once (Emotet-style tiers)
    migrate_h: tuple[float, float] = (8.0, 20.0)  # lifetime of one C2 address, hours
    jitter: float = 0.05  # standard deviation of a heartbeat gap, as a share of the period
    bots: tuple[int, int] = (6, 14)  # bots per site at scale 1: integers in [low, high)
    quiet: bool = False
    fail_share: float = 0.0
    session_h: tuple[float, float] | None = None
    flipped_share: float = 0.0


@dataclass(frozen=True)
class Poller:
    """Clean devices of a site polling one cloud endpoint: the benign look-alike of a C2.

    ``clients`` devices per site (not scaled) poll ``port`` every ``period_s`` (gaps jittered by
    ``jitter``), only inside the daily UTC window ``hours`` (``(20, 6)`` wraps past midnight)
    and on a share ``days_on`` of the days. Optional shapes: the endpoint's address rotates every
    ``rotate_h`` hours and all clients move within a minute of each other (benign migration);
    ``outages_per_day`` power cycles switch a device off for ``off_h`` hours and it comes back
    with a burst of reconnects, the first ones failing; ``download_share`` of the polls fetch
    ``download_mb`` (firmware updates).
    """

    family: str
    port: int
    period_s: float
    clients: int
    jitter: float = 0.05
    proto: str = "tcp"
    hours: tuple[float, float] = (0.0, 24.0)
    days_on: float = 1.0
    orig_bytes: tuple[int, int] = (100, 300)
    resp_bytes: tuple[int, int] = (100, 600)
    rotate_h: float | None = None
    outages_per_day: float = 0.0
    off_h: tuple[float, float] = (0.5, 4.0)
    download_share: float = 0.0
    download_mb: tuple[float, float] = (2.0, 30.0)


@dataclass(frozen=True)
class NatGateway:
    """Subscriber addresses with many devices behind them (a home or office NAT).

    ``gateways`` addresses per site; behind each, ``devices`` (integers in [low, high), times
    the scenario's scale) each
    polling one of ``clouds`` shared cloud endpoints (endpoint ``j`` listens on
    ``ports[j % len(ports)]``) every one of ``periods_s``: one source, many periodic pairs.
    """

    family: str = "nat-gateway"
    gateways: int = 1
    devices: tuple[int, int] = (20, 40)
    clouds: int = 24
    ports: tuple[int, ...] = (443, 8883, 8443, 8080)
    periods_s: tuple[float, ...] = (60.0, 300.0, 900.0)
    jitter: float = 0.05


BenignFamily = Poller | NatGateway
#: Internet addresses owned by each benign family of a variant (rotations and NAT clouds).
SLOT = 100

#: The original lab world's botnet families.
FAMILIES: dict[str, Family] = {
    "mirai": Family("mirai", (23,), 60.0, (2, 6), (2, 6), "mirai"),
    "gafgyt-irc": Family("gafgyt-irc", (6667,), 90.0, (20, 60), (30, 90), "iot"),
    "http-bot": Family("http-bot", (80,), 120.0, (180, 260), (200, 600), "iot"),
    "emotet": Family("emotet", (443, 8080, 7080), 150.0, (900, 1600), (300, 3000), None, tier=3),
}

#: Lineages of the original world: (name, family). Each ISP sees an overlapping subset.
LINEAGES = (
    ("mirai-okiru", "mirai"),
    ("mirai-satori", "mirai"),
    ("mirai-moobot", "mirai"),
    ("gafgyt-kaiten", "gafgyt-irc"),
    ("httpbot-tsunami", "http-bot"),
    ("emotet-e4", "emotet"),
    ("emotet-e5", "emotet"),
)
