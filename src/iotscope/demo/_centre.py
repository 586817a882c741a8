"""Demo step 12: the analysis centre in a browser, over the live lab and over a month of history.

Two sources, each served by the app (the centre's pages, its JSON API, the hub) on its own
loopback port, each with a token per role printed to sign in with:

- **the live lab**: the demo's own store, as steps 1-11 filled it (survey, vulnerable firmware,
  telescope, each ISP's detection and the C2 contacts and region counts it sent, notices,
  follow-up, sharing, blocking);
- **a month of history at national scale**: a month world (:mod:`iotscope.lab.month`: ISPs,
  devices, botnet lineages, interventions) in its own store ``work/centre.sqlite``, for what a
  day of lab traffic cannot show: C2 lineages migrating over weeks, the interrupted time
  series around a takedown, KPI trends. Kept apart, neither muddles the other's views.

Every page each role may open is requested over real HTTP on both; on the live one, facts the
earlier steps found are looked up in the views' JSON (:mod:`iotscope.demo._centre_facts`).
With ``once`` the step exits after the checks (raising when a page or a fact failed), else it
serves until ``wait`` returns (the demo's Ctrl-C).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np

from iotscope._output import console, table
from iotscope.demo._centre_facts import Expected, Fact, check_facts
from iotscope.errors import IotscopeError
from iotscope.share import serve_in_thread
from iotscope.store import Store, open_store
from iotscope.store._tokens import mint_token

if TYPE_CHECKING:
    from iotscope.lab.month import MonthWorld

__all__ = [
    "LIVE",
    "MONTH",
    "CentreDemo",
    "PageCheck",
    "Source",
    "centre_step",
    "check_pages",
    "role_tokens",
    "tokens_for",
]

LIVE = "the live lab (this run)"
MONTH = "a month of history at national scale (lab month world)"


@dataclass(frozen=True, slots=True)
class PageCheck:
    role: str
    path: str
    status: int
    seconds: float


@dataclass
class Source:
    """One store served as a centre: its label, tokens per role, URL and page checks."""

    label: str
    store: Store
    tokens: dict[str, str]
    url: str = ""
    checks: list[PageCheck] = field(default_factory=list)
    hints: tuple[str, ...] = ()  # pages worth opening first (paths under /centre/)


@dataclass
class CentreDemo:
    sources: list[Source] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    @property
    def failed(self) -> list[PageCheck]:
        return [c for s in self.sources for c in s.checks if c.status != 200]

    def source(self, label: str) -> Source:
        return next(s for s in self.sources if s.label == label)


def tokens_for(store: Store, isp: str, vendor: str) -> dict[str, str]:
    """A token per role: the centre, the ISP ``isp``, the manufacturer ``vendor``, a partner."""
    return {
        "centre": mint_token(store.engine, "centre", label="demo centre"),
        f"isp:{isp}": mint_token(store.engine, "isp", isp, label="demo centre"),
        f"manufacturer:{vendor}": mint_token(store.engine, "manufacturer", vendor, "demo centre"),
        "partner": mint_token(store.engine, "partner", label="demo centre"),
    }


def role_tokens(store: Store, world: MonthWorld) -> dict[str, str]:
    """:func:`tokens_for` a month world: its first ISP and its commonest vendor."""
    profiles = world.products.profiles
    vendor = profiles[int(np.bincount(world.devices.profile).argmax())].vendor
    return tokens_for(store, world.isps[0].name, vendor)


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


def month_source(work: Path, stack: ExitStack, seed: int, devices: int, isps: int) -> Source:
    """The month world, built and loaded into ``work/centre.sqlite`` (idempotent: a second run
    reuses it), as a :class:`Source` whose store ``stack`` disposes of."""
    from iotscope.lab.month import generate, load

    store = open_store(f"sqlite:///{work / 'centre.sqlite'}")
    stack.callback(store.engine.dispose)
    t = time.perf_counter()
    world = generate(seed, devices=devices, isps=isps)
    loaded = load(store, world)
    took = time.perf_counter() - t
    console.print(f"month world (seed {seed}, {devices} devices, {isps} ISPs, {world.days} days) "
                  f"built and loaded in {took:.1f} s: {vars(loaded)}")  # fmt: skip
    hints = ("views/effect (each intervention's effect over the month)", "views/migrations")
    return Source(MONTH, store, role_tokens(store, world), hints=hints)


def centre_step(
    work: Path,
    live: Source | None = None,
    expected: Expected | None = None,
    *,
    month: bool = True,
    seed: int = 7,
    devices: int = 10_000,
    isps: int = 5,
    once: bool = False,
    wait: Callable[[], None] | None = None,
) -> CentreDemo:
    """Serve ``live`` (the demo's store) and, with ``month``, a month world; check every page
    of every role on each and, given ``expected``, the live facts; serve until ``wait``
    returns unless ``once``. Raises :class:`IotscopeError` when a page or a fact failed."""
    console.rule("[bold]12. the analysis centre in a browser: the live lab, and a month")
    demo = CentreDemo()
    with ExitStack() as stack:
        demo.sources = [s for s in (live,) if s is not None]
        if month:
            demo.sources.append(month_source(work, stack, seed, devices, isps))
        for s in demo.sources:
            s.url = stack.enter_context(serve_in_thread(s.store))
            s.checks = check_pages(s.url, s.tokens)
        if live is not None and expected is not None:
            demo.facts = check_facts(live.url, live.tokens["centre"], expected)
        _show(demo)
        _raise_on_failure(demo)
        if not once:
            (wait or _until_interrupt)()
    return demo


def _raise_on_failure(demo: CentreDemo) -> None:
    if demo.failed:
        bad = ", ".join(f"{c.path} ({c.role}): {c.status}" for c in demo.failed)
        raise IotscopeError("centre pages failed", pages=bad)
    wrong = [f for f in demo.facts if not f.ok]
    if wrong:
        raise IotscopeError("the centre does not show what the live run found",
                            facts="; ".join(f"{f.what}: {f.detail}" for f in wrong))  # fmt: skip


def _until_interrupt() -> None:
    console.print("serving the centre; press Ctrl-C to stop")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping the centre")


def _show(demo: CentreDemo) -> None:
    rows = []
    for s in demo.sources:
        by_role: dict[str, list[PageCheck]] = {}
        for c in s.checks:
            by_role.setdefault(c.role, []).append(c)
        rows += [(s.label.split(" (")[0], role, len(cs), sum(c.status == 200 for c in cs),
                  f"{max(c.seconds for c in cs):.2f}") for role, cs in by_role.items()]  # fmt: skip
    console.print(table("centre pages per source and role",
                        ["source", "role", "pages", "200 OK", "slowest s"], rows))  # fmt: skip
    if demo.facts:
        console.print(table("what the live run found, as the live centre shows it",
                            ["fact", "view", "shown", "detail"],
                            [(f.what, f.path, "yes" if f.ok else "NO", f.detail)
                             for f in demo.facts]))  # fmt: skip
    for s in demo.sources:
        console.print(f"[bold]{s.label}[/bold]: open [bold]{s.url}/centre/[/bold] "
                      "and sign in with a token:")  # fmt: skip
        for role, token in s.tokens.items():
            console.print(f"  {role}: {token}", soft_wrap=True)
        for hint in s.hints:
            console.print(f"  {s.url}/centre/{hint}", soft_wrap=True, highlight=False)
