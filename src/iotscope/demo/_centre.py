"""Demo step: the analysis centre in a browser, over a month of the lab world.

:func:`centre_step` builds a month world (:mod:`iotscope.lab.month`: ISPs, devices, botnet
lineages, interventions), loads it into a store of its own, serves the app (the centre's pages,
its JSON API, the hub) on a loopback port, and prints the URL and a token per role to sign in
with. It then requests every page each role may open over real HTTP and shows how each
answered; with ``once`` it exits after that check (raising when a page failed), else it serves
until ``wait`` returns (the demo's Ctrl-C).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np

from iotscope._output import console, table
from iotscope.errors import IotscopeError
from iotscope.share import serve_in_thread
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token

if TYPE_CHECKING:
    from iotscope.lab.month import MonthWorld

__all__ = ["CentreDemo", "PageCheck", "centre_step", "check_pages", "role_tokens"]


@dataclass(frozen=True, slots=True)
class PageCheck:
    role: str
    path: str
    status: int
    seconds: float


@dataclass
class CentreDemo:
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    checks: list[PageCheck] = field(default_factory=list)

    @property
    def failed(self) -> list[PageCheck]:
        return [c for c in self.checks if c.status != 200]


def role_tokens(store: Store, world: MonthWorld) -> dict[str, str]:
    """A token per role: the centre, the first ISP, the commonest vendor, a partner."""
    profiles = world.products.profiles
    vendor = profiles[int(np.bincount(world.devices.profile).argmax())].vendor
    isp = world.isps[0].name
    return {
        "centre": mint_token(store.engine, "centre", label="demo centre"),
        f"isp:{isp}": mint_token(store.engine, "isp", isp, label="demo centre"),
        f"manufacturer:{vendor}": mint_token(store.engine, "manufacturer", vendor, "demo centre"),
        "partner": mint_token(store.engine, "partner", label="demo centre"),
    }


def check_pages(url: str, tokens: dict[str, str]) -> list[PageCheck]:
    """GET the index and every view page each role may open (signed in by cookie)."""
    out: list[PageCheck] = []
    for role, token in tokens.items():
        with httpx.Client(base_url=url, cookies={"iotscope_token": token}, timeout=60) as c:
            views = c.get("/centre/api/views").json()
            paths: Iterable[str] = ["/centre/"] + [f"/centre/views/{v['name']}" for v in views]
            for path in paths:
                t = time.perf_counter()
                status = c.get(path).status_code
                out.append(PageCheck(role, path, status, time.perf_counter() - t))
    return out


def centre_step(
    work: Path,
    *,
    store: Store | None = None,
    seed: int = 7,
    devices: int = 10_000,
    isps: int = 5,
    once: bool = False,
    wait: Callable[[], None] | None = None,
    port: int = 0,
) -> CentreDemo:
    """Build and load a month world, serve the centre, check its pages; serve until ``wait``
    returns unless ``once``; ``port`` 0 takes a free loopback port. Raises
    :class:`IotscopeError` when a page did not answer 200.

    The month world goes into ``store``, by default its own SQLite file ``work/centre.sqlite``
    (a month at national scale is another world than the live lab's few hours; kept apart,
    neither muddles the other's views). Loading is idempotent: a second run reuses it."""
    from iotscope.lab.month import generate, load

    if store is None:
        own = open_store(f"sqlite:///{work / 'centre.sqlite'}")
        try:
            return centre_step(work, store=own, seed=seed, devices=devices, isps=isps,
                               once=once, wait=wait, port=port)  # fmt: skip
        finally:
            own.engine.dispose()
    console.rule("[bold]11. the analysis centre in a browser: a month of the lab world")
    t = time.perf_counter()
    world = generate(seed, devices=devices, isps=isps)
    loaded = load(store, world)
    took = time.perf_counter() - t
    console.print(f"month world (seed {seed}, {devices} devices, {isps} ISPs, {world.days} days) "
                  f"built and loaded in {took:.1f} s: {vars(loaded)}")  # fmt: skip
    demo = CentreDemo(tokens=role_tokens(store, world))
    with serve_in_thread(store, port=port) as url:
        demo.url = url
        demo.checks = check_pages(url, demo.tokens)
        _show(demo)
        if demo.failed:
            bad = ", ".join(f"{c.path} ({c.role}): {c.status}" for c in demo.failed)
            raise IotscopeError("centre pages failed", pages=bad)
        if not once:
            (wait or _until_interrupt)()
    return demo


def _until_interrupt() -> None:
    console.print("serving the centre; press Ctrl-C to stop")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping the centre")


def _show(demo: CentreDemo) -> None:
    by_role: dict[str, list[PageCheck]] = {}
    for c in demo.checks:
        by_role.setdefault(c.role, []).append(c)
    rows = [(role, len(cs), sum(c.status == 200 for c in cs), f"{max(c.seconds for c in cs):.2f}")
            for role, cs in by_role.items()]  # fmt: skip
    console.print(table("centre pages per role", ["role", "pages", "200 OK", "slowest s"], rows))
    console.print(f"open [bold]{demo.url}/centre/[/bold] and sign in with a token:")
    for role, token in demo.tokens.items():
        console.print(f"  {role}: {token}", soft_wrap=True)
