"""Demo step 11: what each lab ISP sends the analysis centre, through the ISP side's own code.

- its C2 contacts (``iotscope isp contacts``): the newest detection run of its flow site (the
  sharing step's), its own flows and lease log, bots named by its own secret key;
- its region counts (``iotscope isp regions``): weak and vulnerable devices from the survey,
  infected ones from those contacts, in the ISP's prefecture (the lab manifest's);
- its subscriber count: the lab's, one line per lab device of the ISP (as its lease log holds
  them), from the first day the demo reports on.

Blocklists, BGP blackholes and notice campaigns need no sending: the centre derives those
interventions from the block actions and notices that steps 6-10 stored. Call after the
sharing step (it stores each site's detection run)::

    feed_centre(store, manifest)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from iotscope._output import console, table
from iotscope.demo._report import report_days
from iotscope.isp._contacts import record_contacts
from iotscope.isp._regions import record_regions
from iotscope.records import LabManifest
from iotscope.store import Store
from iotscope.store.centre import Subscribers, list_c2_contacts, save_subscribers
from iotscope.tenancy import Principal, site_name

__all__ = ["Feed", "feed_centre"]


@dataclass(frozen=True, slots=True)
class Feed:
    """What one ISP sent: contact rows (and the bots and C2s in them), region rows, lines."""

    isp: str
    contacts: int
    bots: int
    c2s: int
    regions: int
    subscribers: int


def feed_centre(store: Store, manifest: LabManifest) -> list[Feed]:
    """Every lab ISP's contacts, region counts and subscriber count, stored as that ISP."""
    console.rule("[bold]11. what each ISP sends the centre: C2 contacts, region counts")
    sites = {r.site for r in store.c2_runs(None)}
    lines = Counter(d.isp for d in manifest.devices if d.isp)
    since = report_days(store)[0]
    out = [_feed(store, isp.name, isp.prefecture, sites, lines[isp.name], since)
           for isp in sorted(manifest.isps, key=lambda i: i.name)]  # fmt: skip
    console.print(table(
        "sent to the centre (bots are keyed pseudonyms; no address or subscriber leaves)",
        ["ISP", "contact rows", "bots", "C2s", "region rows", "subscribers"],
        [(f.isp, f.contacts, f.bots, f.c2s, f.regions, f.subscribers) for f in out]))  # fmt: skip
    return out


def _feed(store: Store, isp: str, prefecture: str | None, sites: set[str], lines: int,
          since: date) -> Feed:  # fmt: skip
    who = Principal("isp", isp)
    site = site_name(isp)
    if site in sites:
        record_contacts(store, who, isp, site)
    save_subscribers(store, who, [Subscribers(isp, since, lines)])
    regions = record_regions(store, who, isp, prefecture) if prefecture else 0
    mine = list_c2_contacts(store, who, isp=isp)
    return Feed(isp, len(mine), len({c.bot for c in mine}),
                len({(c.c2_ip, c.c2_port) for c in mine}), regions, lines)  # fmt: skip
