"""Demo step: C2s shared between the lab's ISPs through the hub within a second.

:func:`share_step` starts the hub (the service app on uvicorn, on a free loopback port, over
the demo's store), mints a token per lab ISP, subscribes every ISP to the shared collection's
server-sent-event stream, then, ISP by ISP, runs the detection over that ISP's flows, stores
the run and publishes what is new (the same functions ``isp run`` uses), and shows each C2
arriving at the other ISPs with the time from the run's commit to its arrival.

``on_arrival`` is the hook for what an ISP does with a C2 it receives (its blocklist entry,
its BGP blackhole route): called as ``on_arrival(isp, indicator, now)`` for each ISP and
indicator that arrived, it returns lines to print.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iotscope._output import console, table
from iotscope.isp._publish import detect_round, send_pending
from iotscope.isp._subscribe import Subscription
from iotscope.isp._taxii import Hub, bearer
from iotscope.share import serve_in_thread
from iotscope.store import Store
from iotscope.store._tokens import mint_token

__all__ = ["ShareDemo", "share_lab", "share_step"]

OnArrival = Callable[[str, dict[str, Any], datetime], list[str]]
SETTLE_S = 5.0  # how long to wait for the last C2 to reach every subscriber


@dataclass
class ShareDemo:
    """What the step did: lines printed, and per (publisher, receiver) the latencies."""

    lines: list[str] = field(default_factory=list)
    latencies: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    published: dict[str, int] = field(default_factory=dict)
    found_by: dict[str, list[str]] = field(default_factory=dict)  # indicator id -> ISPs
    now: datetime | None = None  # the clock the detections were published at


def _endpoint(indicator: dict[str, Any]) -> str:
    from iotscope.share.stix import pattern_endpoint

    ep = pattern_endpoint(str(indicator.get("pattern", "")))
    return f"{ep[0]}:{ep[1]}/{ep[2]}" if ep else str(indicator.get("name", indicator["id"]))


def share_step(
    store: Store,
    flows: Path,
    sites: Sequence[str],
    *,
    now: datetime | None = None,
    on_arrival: OnArrival | None = None,
    show: int = 5,
) -> ShareDemo:
    """Run the sharing step over ``sites`` (whose flows are under ``flows``); print and
    return what it shows. ``now`` is the clock the detections publish at (the lab's)."""
    console.rule("[bold]8. C2s shared between ISPs: the TAXII 2.1 hub and its push stream")
    out = ShareDemo(now=now)
    tokens = {s: mint_token(store.engine, "isp", s, label="demo") for s in sites}
    arrived: dict[str, dict[str, tuple[dict[str, Any], float]]] = {s: {} for s in sites}
    guard = threading.Lock()

    def receiver(site: str) -> Callable[[dict[str, Any], float], None]:
        def on_object(obj: dict[str, Any], at: float) -> None:
            if obj.get("type") == "indicator":
                with guard:
                    arrived[site].setdefault(obj["id"], (obj, at))

        return on_object

    with serve_in_thread(store) as base:
        hubs = {s: Hub(base + "/", headers=bearer(tokens[s])) for s in sites}
        stream = hubs[sites[0]].collection_url() + "stream/"
        subs = [Subscription(stream, tokens[s], receiver(s)).start() for s in sites]
        committed: dict[str, tuple[str, float]] = {}  # indicator id -> (publisher, commit)
        try:
            for site in sites:
                result = detect_round(store, site, flows, window=None, now=now)
                at = time.time()
                for a in result.plan.actions:
                    if a.kind == "new":
                        committed.setdefault(a.indicator_id, (site, at))
                        out.found_by.setdefault(a.indicator_id, []).append(site)
                report = send_pending(store, site, hubs[site])
                out.published[site] = result.plan.counts()["new"]
                out.lines.append(
                    f"{site}: {len(result.candidates)} C2 candidates in {result.flows} flows; "
                    f"published {result.plan.counts()['new']} new "
                    f"({report.objects} STIX objects in {report.sent} envelope(s))"
                )
            _settle(arrived, committed, sites)
        finally:
            for sub in subs:
                sub.close()
            for h in hubs.values():
                h.close()
    _report(out, arrived, committed, sites, now or datetime.now(UTC), on_arrival, show)
    for line in out.lines:
        console.print(line, markup=False, highlight=False)
    return out


def _settle(
    arrived: dict[str, dict[str, Any]], committed: dict[str, Any], sites: Sequence[str]
) -> None:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if all(set(committed) <= set(arrived[s]) for s in sites):
            return
        time.sleep(0.05)


def _report(
    out: ShareDemo,
    arrived: dict[str, dict[str, tuple[dict[str, Any], float]]],
    committed: dict[str, tuple[str, float]],
    sites: Sequence[str],
    now: datetime,
    on_arrival: OnArrival | None,
    show: int,
) -> None:
    rows = []
    for iid, (publisher, at) in committed.items():
        for site in sites:
            if site != publisher and iid in arrived[site]:
                lag = arrived[site][iid][1] - at
                out.latencies.setdefault((publisher, site), []).append(lag)
    for (publisher, site), lags in sorted(out.latencies.items()):
        lags.sort()
        rows.append((publisher, site, len(lags), f"{lags[len(lags) // 2]:.3f}", f"{lags[-1]:.3f}"))
    console.print(table(
        "shared C2s: from the publisher's detection commit to the other ISP's stream",
        ["found by", "arrived at", "C2s", "median s", "max s"], rows))  # fmt: skip
    shown = 0
    for iid, (publisher, _) in committed.items():
        others = [s for s in sites if s != publisher and iid in arrived[s]]
        if not others or shown >= show:
            continue
        shown += 1
        obj = arrived[others[0]][iid][0]
        also = [s for s in out.found_by.get(iid, []) if s != publisher]
        seen = f" (also found by {', '.join(also)})" if also else ""
        out.lines.append(f"{_endpoint(obj)} found by {publisher}{seen} -> held by "
                         f"{', '.join(others)} "
                         f"(confidence {obj.get('confidence')}, valid until "
                         f"{obj.get('valid_until')})")  # fmt: skip
        if on_arrival is not None:
            for site in others:
                out.lines += on_arrival(site, obj, now)


def share_lab(
    store: Store, traffic: Path, *, on_arrival: OnArrival | None = None, flows: Path | None = None
) -> ShareDemo:
    """:func:`share_step` for the output of ``lab traffic`` at ``traffic`` (the demo's step 3
    has ingested its per-site flows): the sites are its ``sites/`` folders, the clock is the
    end of its ground truth's C2 activity (the lab's traffic is dated, not live)."""
    import json

    from iotscope.flows import flows_root

    sites = sorted(p.name for p in (traffic / "sites").iterdir() if p.is_dir())
    truth = json.loads((traffic / "truth.json").read_text(encoding="utf-8"))
    ends = [c["active_to"] for c in truth.get("c2", []) if c.get("active_to")]
    now = max(datetime.fromisoformat(e.replace("Z", "+00:00")) for e in ends) if ends else None
    return share_step(store, flows or flows_root(), sites, now=now, on_arrival=on_arrival)
