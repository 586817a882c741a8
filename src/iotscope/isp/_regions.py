"""What an ISP shares with the centre per day and prefecture: its weak, vulnerable and infected
devices (``region_counts``: counts only, never an address or a subscriber).

- weak and vulnerable: the surveyed devices on the ISP's network, as the ISP may see them
  (:func:`iotscope.makers.load_devices`, so the definitions are the manufacturers' views' own:
  a default login accepted or none needed; a CVE on the firmware), counted on the first day of
  each survey round;
- infected: the ISP's own detection: distinct bots (subscriber pseudonyms) in its
  ``c2_contacts`` per day (``isp contacts`` records them), so run that first;
- the prefecture: where the ISP's subscribers are. The ISP registry keeps none, so the ISP
  names it (a JIS X 0401 code or an English name) and every count goes there: a lab ISP serves
  one prefecture. An ISP serving several would split its counts by its own customer records.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np

from iotscope.errors import ConfigError
from iotscope.makers import load_devices
from iotscope.prefectures import Prefecture, find
from iotscope.store import Store
from iotscope.store.centre import RegionCount, list_c2_contacts, save_region_counts
from iotscope.tenancy import Principal

__all__ = ["prefecture", "record_regions", "region_counts"]


def prefecture(name: str) -> Prefecture:
    """The prefecture a JIS code (``13``, ``1``) or a name (``Tokyo``, ``東京都``) names."""
    found = find(name)
    if found is None:
        raise ConfigError("not a prefecture (JIS code 1-47 or its name)", prefecture=name)
    return found


def _survey_counts(store: Store, isp: str) -> dict[tuple[date, str], int]:
    """(round's first day, weak|vulnerable) -> devices on ``isp``'s network."""
    dev = load_devices(store, Principal("isp", isp))
    out: dict[tuple[date, str], int] = {}
    for r, rnd in enumerate(dev.rounds):
        mine = dev.round == r
        for kind, flags in (("weak", dev.weak), ("vulnerable", dev.vulnerable)):
            out[(rnd.start.date(), kind)] = int(np.count_nonzero(flags & mine))
    return out


def _bot_days(store: Store, who: Principal, isp: str) -> Counter[date]:
    """Distinct bots per day in the ISP's own C2 contacts."""
    seen = {(c.day, c.bot) for c in list_c2_contacts(store, who, isp=isp)}
    return Counter(day for day, _ in seen)


def region_counts(store: Store, who: Principal, isp: str, where: str) -> list[RegionCount]:
    """The rows ``isp`` shares (module docstring), all in prefecture ``where``; a kind with no
    device on a day it was measured is shared as 0 (measured none), a day not measured is
    absent. Only the ISP itself or the centre may derive them."""
    if not who.isp(isp):
        raise ConfigError("only the ISP derives its own region counts", isp=isp, role=who.role)
    pref = prefecture(where)
    counts = _survey_counts(store, isp)
    counts.update({(day, "infected"): n for day, n in _bot_days(store, who, isp).items()})
    return [
        RegionCount(isp, day, pref.code, pref.name, kind, n)
        for (day, kind), n in sorted(counts.items())
    ]


def record_regions(store: Store, who: Principal, isp: str, where: str) -> int:
    """Derive (:func:`region_counts`) and store the rows; how many."""
    return save_region_counts(store, who, region_counts(store, who, isp, where))
