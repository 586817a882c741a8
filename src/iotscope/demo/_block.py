"""Demo step: action at the source. One ISP turns the shared C2 feed into its blocklists
(plain, nftables, RPZ) and announces blackhole routes to a real BIRD on loopback (RFC 7999).

Call after the hub holds shared C2 indicators::

    from iotscope.demo._block import block_step
    block_step(store, work, "isp-a")          # objects default to the store's shared feed
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iotscope._output import console, table
from iotscope.block import Policy, Selection, SessionConfig, SpeakerOptions, export, run_speaker
from iotscope.block import select as select_entries
from iotscope.block._bird import SPEAKER_ADDR, Bird, bird_available, start_bird
from iotscope.block._export import bgp_recorder
from iotscope.store import Store
from iotscope.tenancy import site_name

ISP_AS, ROUTER_AS = 64512, 64513  # private AS numbers (RFC 6996)


def block_step(
    store: Store,
    work: Path,
    isp: str,
    objects: Sequence[dict[str, Any]] | None = None,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> Selection:
    """Write ``isp``'s blocklists under ``work/block/<isp>/`` and, when bird is installed,
    show its routes carrying the BLACKHOLE community; every action is logged in the store.
    ``now`` is the clock validity is judged by (the lab's traffic is dated, not live)."""
    console.rule(f"[bold]10. action at the source: {isp} blocks the shared C2s")
    if objects is None:
        from iotscope.block._store_source import store_objects
        from iotscope.tenancy import Principal

        objects = store_objects(store, Principal("isp", isp))
    pol = policy or Policy(isp, min_confidence=0)
    sel = select_entries(list(objects), pol, now or datetime.now(UTC))
    out = work / "block" / site_name(isp)
    files = {
        fmt: export(sel, fmt, out / name, store).path
        for fmt, name in (("plain", "c2.txt"), ("nftables", "c2.nft"), ("rpz", "rpz.zone"))
    }
    console.print(
        table(
            f"{isp}'s blocklist ({len(sel.entries)} entries)",
            ["target", "port", "confidence", "TLP", "expires"],
            [
                (
                    e.target.value,
                    e.target.port,
                    e.confidence,
                    e.tlp,
                    e.expires.strftime("%Y-%m-%d %H:%M"),
                )
                for e in sel.entries[:15]
            ],
        )
    )
    for fmt, path in files.items():
        console.print(f"{fmt}: {path}")
    if not sel.addresses():
        return sel
    if not bird_available():
        console.print("[yellow]bird not installed: no BGP step (apt-get install bird2)[/]")
        return sel
    _bgp(store, work / "block" / "bird", sel)
    return sel


def _bgp(store: Store, where: Path, sel: Selection) -> None:
    where.mkdir(parents=True, exist_ok=True)
    bird = start_bird(where, bird_as=ROUTER_AS, speaker_as=ISP_AS, next_hop="192.0.2.1")
    try:
        asyncio.run(_announce(store, bird, sel))
    finally:
        bird.stop()


async def _announce(store: Store, bird: Bird, sel: Selection) -> None:
    cfg = SessionConfig(ISP_AS, ROUTER_AS, "192.0.2.254", next_hop="192.0.2.1", hold_time=9)
    opts = SpeakerOptions("127.0.0.2", bird.port, cfg, SPEAKER_ADDR, 30.0, 0.5)
    stop = asyncio.Event()
    recorder = bgp_recorder(store, sel.isp, f"bgp:127.0.0.2:{bird.port}")
    speaker = asyncio.create_task(run_speaker(opts, lambda: sel, stop, recorder))
    want = {e.target.value for e in sel.addresses()}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and set(await asyncio.to_thread(bird.routes)) != want:
        await asyncio.sleep(0.2)
    held = await asyncio.to_thread(bird.routes)
    console.print(f"BIRD (the ISP's router) holds {len(held)}/{len(want)} blackhole routes")
    if held:
        first = sorted(held)[0]
        shown = await asyncio.to_thread(bird.cli, "show", "route", "all", first)
        console.print("\n".join("  " + ln for ln in shown.splitlines()[1:] if ln.strip()))
    if len(held) < len(want) and bird.log.exists():  # e.g. loopback prefixes are bogus to it
        warn = [ln for ln in bird.log.read_text().splitlines() if "<WARN>" in ln]
        console.print("\n".join("  bird: " + ln.split("> ", 1)[-1] for ln in warn[:3]))
    stop.set()
    await asyncio.wait_for(speaker, 10)
