"""Bot-to-C2 contacts as the centre's botnet analyses read them, and their per-bot summary.

A :class:`Contact` mirrors one row of the store's ``c2_contacts`` table: on ``day``, bot ``bot``
(a pseudonym the ISP keeps stable across the bot's address changes) in ISP ``isp`` talked to the
C2 at ``c2_ip:c2_port`` between ``first_seen`` and ``last_seen`` in ``flows`` flows. A
:class:`Tenure` folds a bot's contacts with one C2 into one span: the unit of evidence for
lineages (a bot leaving one C2 and turning up at another).

A bot lives in one ISP's network, so a bot's identity is the pair ``(isp, bot)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

#: A C2 server: address and port.
C2 = tuple[str, int]
#: A bot: its ISP and the ISP's pseudonym for it.
Bot = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Contact:
    """One day of one bot's traffic with one C2, as one ISP saw it."""

    isp: str
    c2_ip: str
    c2_port: int
    family: str | None  # None: the detector could not tell
    bot: str
    day: date
    first_seen: datetime
    last_seen: datetime
    flows: int = 1

    def __post_init__(self) -> None:
        if self.last_seen < self.first_seen:
            raise ValueError(
                f"contact {self.isp}/{self.bot} -> {self.c2_ip}:{self.c2_port}: "
                f"last_seen {self.last_seen} before first_seen {self.first_seen}"
            )

    @property
    def c2(self) -> C2:
        return (self.c2_ip, self.c2_port)


@dataclass(frozen=True, slots=True)
class Tenure:
    """A bot's whole span with one C2: from its first contact to its last."""

    isp: str
    bot: str
    c2: C2
    family: str | None
    first: datetime
    last: datetime
    days: int
    flows: int

    @property
    def who(self) -> Bot:
        return (self.isp, self.bot)


def tenures(contacts: Iterable[Contact]) -> list[Tenure]:
    """Fold contacts into one :class:`Tenure` per (isp, bot, C2), sorted by bot then start."""
    spans: dict[tuple[str, str, C2], list[Contact]] = {}
    for c in contacts:
        spans.setdefault((c.isp, c.bot, c.c2), []).append(c)
    out = [_fold(key, rows) for key, rows in spans.items()]
    out.sort(key=lambda t: (t.isp, t.bot, t.first, t.c2))
    return out


def _fold(key: tuple[str, str, C2], rows: list[Contact]) -> Tenure:
    isp, bot, c2 = key
    return Tenure(
        isp=isp,
        bot=bot,
        c2=c2,
        family=next((r.family for r in rows if r.family), None),
        first=min(r.first_seen for r in rows),
        last=max(r.last_seen for r in rows),
        days=len({r.day for r in rows}),
        flows=sum(r.flows for r in rows),
    )
