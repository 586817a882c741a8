"""Demo step for the shared C2 content: every lab ISP's detections as STIX 2.1, which C2s
two or more ISPs (or two methods) confirm, what each ISP alone sees, and the MISP feed.

Call after the C2 detection step: ``share_content_picture(store, work)`` (``work`` holds
``traffic/truth.json`` from ``lab traffic``, used only to name the families)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iotscope._output import console, table
from iotscope.share import agreement, misp, stix
from iotscope.share._sources import families_from, store_objects
from iotscope.store import Store


def share_content_picture(store: Store, work: Path, *, tlp: str = "amber") -> dict[str, Any]:
    """Build, confirm and write the shared feed; print the agreement per ISP; return figures."""
    console.rule("[bold]sharing: STIX 2.1 content, agreement between ISPs, MISP feed")
    truth = work / "traffic" / "truth.json"
    now = datetime.now(UTC)
    objs = store_objects(store, now, families=families_from(truth if truth.is_file() else None))
    extra = agreement.store_methods(store, agreement.views(objs))
    confirmed = agreement.confirmation_objects(objs, now, extra)
    feed = list(agreement.newest(objs + confirmed).values())
    (work / "shared-c2.json").write_text(json.dumps(stix.bundle(feed), indent=1))
    summary = misp.write_feed(work / "misp-feed", misp.feed_events(feed, now))
    views = agreement.views(feed, extra)
    isps = sorted({i for v in views.values() for i in v.isps})
    rows = []
    for isp in isps:
        rep = agreement.isp_agreement(views, isp)
        rows.append((isp, len(rep.confirmed) + len(rep.alone), len(rep.confirmed),
                     len(rep.alone), ", ".join(rep.families_alone) or "-"))  # fmt: skip
    cols = ["ISP", "C2s", "confirmed", "only here", "families only here"]
    console.print(table("each ISP's detections next to the others'", cols, rows))
    kinds: dict[str, int] = {}
    for o in feed:
        kinds[o["type"]] = kinds.get(o["type"], 0) + 1
    counts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    console.print(f"shared feed: {len(feed)} STIX objects ({counts}); {len(confirmed)} confirmed; "
                  f"MISP feed: {summary.events} event(s), {summary.attributes} attribute(s) "
                  f"in {summary.out}")  # fmt: skip
    return {"objects": len(feed), "confirmed": len(confirmed), "isps": rows,
            "misp_events": summary.events}  # fmt: skip
